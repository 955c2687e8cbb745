"""Dead letters: messages the ingest could not store, kept with their raw payload.

The durable record is a JSON Lines file per replica and UTC day in the
dead-letter folder, appended and fsynced before the message is acknowledged.
The same record can also go to the store's ``dead_letters`` measurement (with a
shortened payload) so Grafana can show them. Logging is limited to one line per
reason per minute, so a flood of bad input cannot flood the log.

Bad input must never stop good input (issue 20), hence:

* the folder has a byte budget of its own (``dead_letter_max_bytes``): files
  roll at an eighth of it and the oldest are deleted to make room, their
  records counted as dropped (``ingest_dead_letters_dropped_total{cause="rotated"}``);
* a payload over the size cap keeps only an excerpt, with its real size;
* a file write that fails (full or broken disk) is counted
  (``cause="write_failed"``) and logged, and the messages are acknowledged
  anyway: holding good messages hostage to a bad one's record is worse;
* a line torn by a crash or a full disk is skipped by ``read_dead_letters``,
  and the next append starts on a fresh line.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.timeutil import to_ns
from storage.base import DEAD_LETTERS, Point

log = logging.getLogger(__name__)

#: Longest payload kept in the store's measurement (the file keeps all of it).
STORE_PAYLOAD_CHARS = 4096


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """``payload`` is the whole payload, or its excerpt when ``payload_bytes``
    (the size received) is larger."""

    reason: str
    error: str
    topic: str
    payload: bytes
    received_at: datetime
    payload_bytes: int = -1

    @property
    def size(self) -> int:
        return self.payload_bytes if self.payload_bytes >= 0 else len(self.payload)

    @property
    def truncated(self) -> bool:
        return self.size > len(self.payload)

    def payload_text(self) -> tuple[str, str]:
        """The payload as (text, encoding): UTF-8 text when it is, else base64."""
        try:
            return self.payload.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            return base64.b64encode(self.payload).decode("ascii"), "base64"

    def record(self, replica: str) -> dict[str, Any]:
        text, encoding = self.payload_text()
        out: dict[str, Any] = {
            "time": self.received_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "reason": self.reason,
            "error": self.error,
            "topic": self.topic,
            "payload": text,
            "payload_encoding": encoding,
            "replica": replica,
        }
        if self.truncated:
            out["payload_bytes"] = self.size
            out["payload_truncated"] = True
        return out


def excerpt_of(payload: bytes, limit: int) -> bytes:
    """At most ``limit`` bytes, not cutting a UTF-8 character in two (so a text
    payload's excerpt stays text)."""
    cut = payload[:limit]
    try:
        cut.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(cut) - 3:
            cut = cut[: exc.start]
    return cut


def read_dead_letters(directory: Path) -> list[dict[str, Any]]:
    """Every record in a dead-letter folder, oldest file first (for tools and
    tests). A line torn by a crash or a full disk is skipped."""
    out: list[dict[str, Any]] = []
    for path in _files(Path(directory)):
        with open(path, "rb") as fh:
            for line in fh:
                if not line.strip():
                    continue
                try:
                    out.append(json.loads(line))
                except ValueError:
                    log.warning("event=dead_letter_torn_line file=%s bytes=%d", path, len(line))
    return out


def _files(directory: Path) -> list[Path]:
    # Names are {replica}-{day}-{n:06d}.jsonl: sorting by name is oldest first.
    return sorted(directory.glob("*.jsonl"))


def decode_payload(record: dict[str, Any]) -> bytes:
    if record["payload_encoding"] == "base64":
        return base64.b64decode(record["payload"])
    return str(record["payload"]).encode("utf-8")


class DeadLetterWriteFailed(OSError):
    """The disk refused dead letters; ``unwritten`` of the batch are not on file."""

    def __init__(self, unwritten: int, cause: OSError):
        super().__init__(cause.errno, f"{unwritten} dead letter(s) not written: {cause}")
        self.unwritten = unwritten


class DeadLetterFile:
    """Appends dead letters to ``{replica}-{YYYY-MM-DD}-{n:06d}.jsonl`` with fsync,
    inside a byte budget: ``on_dropped(n)`` is told of records deleted to keep it.

    Each process (and each failed write) starts a file of its own, so an append
    never lands behind a line torn by an earlier crash."""

    def __init__(
        self,
        directory: Path,
        *,
        replica: str,
        max_bytes: int = 256 << 20,
        on_dropped: Callable[[int], None] = lambda n: None,
    ):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.replica = replica
        self.max_bytes = max_bytes
        self.file_bytes = max(4096, max_bytes // 8)
        self._on_dropped = on_dropped
        self._fd: int | None = None
        self._path: Path | None = None
        self._size = 0
        self._sizes = {p: p.stat().st_size for p in _files(self.directory)}

    @property
    def total_bytes(self) -> int:
        return sum(self._sizes.values())

    def append(self, letters: Sequence[DeadLetter]) -> None:
        """Write and fsync, one record at a time inside the budget; raises
        ``DeadLetterWriteFailed`` when the disk refuses (the caller counts and
        goes on). A failed write is cut back off the file."""
        for i, letter in enumerate(letters):
            line = json.dumps(letter.record(self.replica), ensure_ascii=False) + "\n"
            data = line.encode("utf-8")
            day = letter.received_at.astimezone(UTC).date().isoformat()
            try:
                fd = self._file_for(day, len(data))
            except OSError as exc:
                raise DeadLetterWriteFailed(len(letters) - i, exc) from exc
            start = self._size
            try:
                _write_all(fd, data)
            except OSError as exc:
                self._cut(fd, start)
                raise DeadLetterWriteFailed(len(letters) - i, exc) from exc
            self._size = start + len(data)
            self._note_size()
        if self._fd is not None and letters:
            try:
                os.fsync(self._fd)
            except OSError as exc:
                self.close()
                raise DeadLetterWriteFailed(len(letters), exc) from exc

    def _cut(self, fd: int, start: int) -> None:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, start)  # truncating frees space, even on a full disk
        with contextlib.suppress(OSError):
            self._size = os.fstat(fd).st_size
        self._note_size()
        # Should the cut have failed, a torn line ends this file: the next
        # append starts a new one rather than gluing a record onto it.
        self.close()

    def _note_size(self) -> None:
        if self._path is not None:
            self._sizes[self._path] = self._size

    def _file_for(self, day: str, size: int) -> int:
        if self._fd is not None and self._path is not None:
            same_day = self._path.name.startswith(f"{self.replica}-{day}-")
            if same_day and self._size + size <= self.file_bytes:
                self._make_room(size)
                return self._fd
            self.close()
        path = self._next_path(day)
        self._make_room(size)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._path = path
        self._size = os.fstat(self._fd).st_size
        self._note_size()
        return self._fd

    def _next_path(self, day: str) -> Path:
        stem = f"{self.replica}-{day}-"
        taken = [int(p.stem[len(stem) :]) for p in self._sizes if p.stem.startswith(stem)
                 and p.stem[len(stem) :].isdigit()]  # fmt: skip
        return self.directory / f"{stem}{max(taken, default=-1) + 1:06d}.jsonl"

    def _make_room(self, size: int) -> None:
        """Delete the oldest files (never the open one) until ``size`` more fits."""
        while self.total_bytes + size > self.max_bytes:
            victims = [p for p in sorted(self._sizes) if p != self._path]
            if not victims:
                return
            oldest = victims[0]
            dropped = _count_lines(oldest)
            oldest.unlink(missing_ok=True)
            del self._sizes[oldest]
            log.warning("event=dead_letters_rotated file=%s dropped=%d", oldest.name, dropped)
            self._on_dropped(dropped)

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None
            self._path = None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _count_lines(path: Path) -> int:
    """Whole records in a file (a torn last line is not one)."""
    n = 0
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                n += chunk.count(b"\n")
    except OSError:
        return 0
    return n


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
            fields: dict[str, str | int] = {
                "topic": letter.topic,
                "payload": text,
                "payload_encoding": encoding,
                "payload_bytes": letter.size,
                "error": letter.error[:1000],
            }
            out.append(
                Point(DEAD_LETTERS, {"reason": letter.reason, "replica": self.replica}, fields, t)
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
