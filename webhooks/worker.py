"""The delivery worker: a background thread that writes published events to
the outbox and delivers the due ones, off the request path.

Per subscription only the oldest pending delivery is attempted (in order);
a failure waits an exponential backoff with jitter before the next attempt,
and after ``max_attempts`` failures the delivery is dead-lettered and the
next one goes. A token bucket per subscription holds it to its rate. The
success criterion, 410 handling and Retry-After follow the Standard Webhooks
specification: 2xx is success, redirects are not followed, 410 Gone disables
the subscription. Deliveries go through ``core.outbound_http``: an address the
outbound policy refuses dead-letters the delivery at once, with the reason.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.orm import Session, sessionmaker

from core.outbound import OutboundPolicy, OutboundRefused
from core.outbound_http import guarded_client
from core.registry import Registry
from webhooks import signing
from webhooks.outbox import (
    OutboxSink,
    Outcome,
    enqueue,
    heads,
    prune_delivered,
    record_outcome,
    secrets_in_force,
)
from webhooks.settings import WebhookSettings
from webhooks.tables import Delivery, Subscription, aware

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 3600.0
KEEP_DELIVERED = timedelta(days=7)


def backoff_s(attempts: int, *, base_s: float, max_s: float, jitter: float) -> float:
    """Wait after the ``attempts``-th failure: base·2^(attempts-1), capped, less
    a random share up to ``jitter`` (so retries of many deliveries spread out)."""
    wait = min(max_s, base_s * 2 ** (attempts - 1))
    return wait * (1 - jitter * random.random())


class TokenBucket:
    def __init__(self, rate_per_s: float):
        self.rate = rate_per_s
        self.capacity = max(1.0, rate_per_s)
        self.tokens = self.capacity
        self.at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


def attempt(client: httpx.Client, url: str, *, body: bytes, headers: dict[str, str]) -> Outcome:
    try:
        response = client.post(url, content=body, headers=headers)
    except OutboundRefused as exc:
        return Outcome(False, f"refused by the outbound address policy: {exc}", refused=True)
    except httpx.HTTPError as exc:
        return Outcome(False, f"{type(exc).__name__}: {exc}")
    if 200 <= response.status_code < 300:
        return Outcome(True)
    return Outcome(
        False,
        f"HTTP {response.status_code}",
        retry_after_s=_retry_after(response),
        gone=response.status_code == 410,
    )


class DeliveryWorker(threading.Thread):
    def __init__(
        self,
        *,
        sink: OutboxSink,
        sessions: sessionmaker,
        registry: Registry,
        settings: WebhookSettings,
        min_group: int,
        outbound: OutboundPolicy,
    ):
        super().__init__(name="webhooks-delivery", daemon=True)
        self.outbound = outbound
        self.sink = sink
        self.sessions = sessions
        self.registry = registry
        self.settings = settings
        self.min_group = min_group
        self.stopped = threading.Event()
        self._buckets: dict[str, TokenBucket] = {}
        self._pruned_at = 0.0

    def backoff(self, attempts: int) -> float:
        s = self.settings
        return backoff_s(
            attempts, base_s=s.backoff_base_s, max_s=s.backoff_max_s, jitter=s.backoff_jitter
        )

    def flush(self) -> int:
        """Write the published events to the outbox."""
        events = self.sink.take_all()
        if not events:
            return 0
        with self.sessions() as session:
            return enqueue(session, events, registry=self.registry, min_group=self.min_group)

    def run(self) -> None:
        client = guarded_client(
            self.outbound, timeout=self.settings.timeout_s, follow_redirects=False
        )
        with client:
            while not self.stopped.is_set():
                try:
                    self.flush()
                    busy = self.deliver_round(client)
                    self._prune()
                except Exception:  # a bad round must not end deliveries; the next retries
                    log.exception("webhook delivery round failed")
                    busy = False
                if not busy:
                    self.sink.wake.wait(self.settings.poll_s)
                    self.sink.wake.clear()
        self.flush()  # what was published until the stop is kept for the next start

    def stop(self, timeout: float = 30.0) -> None:
        self.stopped.set()
        self.sink.wake.set()
        self.join(timeout)

    def deliver_round(self, client: httpx.Client) -> bool:
        """Attempt the due head of every subscription once; True if any was sent."""
        sent = False
        with self.sessions() as session:
            for delivery in heads(session):
                if self.stopped.is_set():
                    break
                sent |= self._one(session, client, delivery)
        return sent

    def _one(self, session: Session, client: httpx.Client, delivery: Delivery) -> bool:
        now = datetime.now(UTC)
        if aware(delivery.next_attempt_at) > now:
            return False
        sub = session.get(Subscription, delivery.subscription_id)
        if sub is None or not sub.active:
            return False  # paused: its deliveries wait, in order
        rate = sub.rate_per_s or self.settings.default_rate_per_s
        bucket = self._buckets.get(sub.id)
        if bucket is None or bucket.rate != rate:
            bucket = self._buckets[sub.id] = TokenBucket(rate)
        if not bucket.take():
            return False
        body = delivery.body.encode()
        keys = secrets_in_force(session, sub.id, now)
        headers = signing.headers(
            keys, msg_id=delivery.msg_id, timestamp=int(time.time()), body=body
        )
        outcome = attempt(client, sub.url, body=body, headers=headers)
        if not outcome.ok:
            log.info("webhook %s to %s failed: %s", delivery.msg_id, sub.id, outcome.error)
        record_outcome(
            session,
            delivery,
            outcome,
            now=datetime.now(UTC),
            max_attempts=self.settings.max_attempts,
            backoff=self.backoff,
        )
        return True

    def _prune(self) -> None:
        clock = time.monotonic()
        if clock - self._pruned_at < PRUNE_EVERY_S:
            return
        self._pruned_at = clock
        with self.sessions() as session:
            prune_delivered(session, before=datetime.now(UTC) - KEEP_DELIVERED)
