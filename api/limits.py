"""Limits that keep one client from starving the API (issues 14 and 20).

- ``ConcurrencyLimiter``: expensive reports running at once, per key and per
  server. A month of peaks can take minutes and gigabytes; six at once from one
  agency left the API at 5 GB. Over the limit the request is refused at once
  with 429 and ``Retry-After`` rather than queued: a queue would hold the
  memory of the waiting requests' connections and hide the overload.
- ``FailureLimiter``: failed authentications per client address, so keys
  cannot be guessed at request speed.
"""

from __future__ import annotations

import threading
import time
from collections import deque


class LimitReached(Exception):
    def __init__(self, scope: str):
        super().__init__(scope)
        self.scope = scope


class ConcurrencyLimiter:
    """At most ``per_key`` slots per key and ``per_server`` in all."""

    def __init__(self, *, per_key: int, per_server: int):
        self.per_key = per_key
        self.per_server = per_server
        self._by_key: dict[str, int] = {}
        self._total = 0
        self._lock = threading.Lock()

    def acquire(self, key_id: str) -> None:
        with self._lock:
            if self._by_key.get(key_id, 0) >= self.per_key:
                raise LimitReached("key")
            if self._total >= self.per_server:
                raise LimitReached("server")
            self._by_key[key_id] = self._by_key.get(key_id, 0) + 1
            self._total += 1

    def release(self, key_id: str) -> None:
        with self._lock:
            left = self._by_key.get(key_id, 0) - 1
            if left > 0:
                self._by_key[key_id] = left
            else:
                self._by_key.pop(key_id, None)
            self._total = max(0, self._total - 1)

    @property
    def running(self) -> int:
        return self._total


class FailureLimiter:
    """Sliding window of failed attempts per client address.

    Bounded in memory: at most ``max_clients`` addresses are tracked; past that
    the oldest is forgotten (an attacker with that many addresses is not
    stopped by a per-address limit anyway).
    """

    def __init__(self, *, per_window: int, window_s: float = 60.0, max_clients: int = 10_000):
        self.per_window = per_window
        self.window_s = window_s
        self.max_clients = max_clients
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float] | None:
        times = self._failures.get(client)
        if times is None:
            return None
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if not times:
            del self._failures[client]
            return None
        return times

    def retry_after(self, client: str) -> float | None:
        """Seconds until ``client`` may try again, or None when it may now."""
        now = time.monotonic()
        with self._lock:
            times = self._recent(client, now)
            if times is None or len(times) < self.per_window:
                return None
            return max(1.0, times[0] + self.window_s - now)

    def failed(self, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            times = self._recent(client, now)
            if times is None:
                if len(self._failures) >= self.max_clients:
                    self._failures.pop(next(iter(self._failures)))
                times = self._failures[client] = deque()
            times.append(now)
            # only the last per_window failures decide; older ones need no memory
            while len(times) > self.per_window:
                times.popleft()
