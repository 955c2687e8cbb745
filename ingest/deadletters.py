"""Dead letters: messages the ingest could not store, kept with their raw payload.

The durable record is a JSON Lines file per replica and UTC day in the
dead-letter folder, appended and fsynced before the message is acknowledged.
The same record can also go to the store's ``dead_letters`` measurement (with a
shortened payload) so Grafana can show them. Logging is limited to one line per
reason per minute, so a flood of bad input cannot flood the log.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from core.timeutil import to_ns
from storage.base import DEAD_LETTERS, Point

log = logging.getLogger(__name__)

#: Longest payload kept in the store's measurement (the file keeps all of it).
STORE_PAYLOAD_CHARS = 4096


@dataclass(frozen=True, slots=True)
class DeadLetter:
    reason: str
    error: str
    topic: str
    payload: bytes
    received_at: datetime

    def payload_text(self) -> tuple[str, str]:
        """The payload as (text, encoding): UTF-8 text when it is, else base64."""
        try:
            return self.payload.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            return base64.b64encode(self.payload).decode("ascii"), "base64"

    def record(self, replica: str) -> dict[str, Any]:
        text, encoding = self.payload_text()
        return {
            "time": self.received_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "reason": self.reason,
            "error": self.error,
            "topic": self.topic,
            "payload": text,
            "payload_encoding": encoding,
            "replica": replica,
        }


def read_dead_letters(directory: Path) -> list[dict[str, Any]]:
    """Every record in a dead-letter folder, oldest file first (for tools and tests)."""
    out: list[dict[str, Any]] = []
    for path in sorted(Path(directory).glob("*.jsonl")):
        with open(path, encoding="utf-8") as fh:
            out.extend(json.loads(line) for line in fh if line.strip())
    return out


def decode_payload(record: dict[str, Any]) -> bytes:
    if record["payload_encoding"] == "base64":
        return base64.b64decode(record["payload"])
    return str(record["payload"]).encode("utf-8")


class DeadLetterFile:
    """Appends dead letters to ``{replica}-{YYYY-MM-DD}.jsonl`` with fsync."""

    def __init__(self, directory: Path, *, replica: str):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.replica = replica
        self._day: str | None = None
        self._fh: IO[str] | None = None

    def append(self, letters: Sequence[DeadLetter]) -> None:
        if not letters:
            return
        for letter in letters:
            fh = self._file_for(letter.received_at)
            fh.write(json.dumps(letter.record(self.replica), ensure_ascii=False) + "\n")
        assert self._fh is not None
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def _file_for(self, when: datetime) -> IO[str]:
        day = when.astimezone(UTC).date().isoformat()
        if self._fh is None or day != self._day:
            if self._fh is not None:
                self._fh.flush()
                os.fsync(self._fh.fileno())
                self._fh.close()
            self._fh = open(  # noqa: SIM115 - closed on day change and in close()
                self.directory / f"{self.replica}-{day}.jsonl", "a", encoding="utf-8"
            )
            self._day = day
        return self._fh

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class DeadLetterPoints:
    """Turns dead letters into ``dead_letters`` points with distinct times.

    A point's identity is (measurement, tags, time), so two dead letters of one
    reason received in the same nanosecond would overwrite each other; times are
    therefore made strictly increasing per replica (tagged by replica).
    """

    def __init__(self, *, replica: str):
        self.replica = replica
        self._last_ns = 0

    def points(self, letters: Sequence[DeadLetter]) -> list[Point]:
        out = []
        for letter in letters:
            t = max(to_ns(letter.received_at), self._last_ns + 1)
            self._last_ns = t
            text, encoding = letter.payload_text()
            if len(text) > STORE_PAYLOAD_CHARS:
                text = text[:STORE_PAYLOAD_CHARS]
            out.append(
                Point(
                    DEAD_LETTERS,
                    {"reason": letter.reason, "replica": self.replica},
                    {
                        "topic": letter.topic,
                        "payload": text,
                        "payload_encoding": encoding,
                        "error": letter.error[:1000],
                    },
                    t,
                )
            )
        return out


class RateLimitedLog:
    """Logs at most one line per key per ``period_s``, saying how many were held back."""

    def __init__(self, logger: logging.Logger, *, period_s: float = 60.0):
        self._log = logger
        self._period = period_s
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def warning(self, key: str, msg: str, *args: object) -> bool:
        now = time.monotonic()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self._period:
                self._held[key] = self._held.get(key, 0) + 1
                return False
            held = self._held.pop(key, 0)
            self._last[key] = now
        suffix = f" (+{held} more of this reason since the last line)" if held else ""
        self._log.warning(msg + suffix, *args)
        return True
