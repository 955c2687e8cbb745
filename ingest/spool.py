"""A bounded on-disk spool for batches the store could not take.

Batches are appended to segment files (``000000000001.spool``, ...) as
records ``[length u32][crc32 u32][zlib(JSON list of points)]``, fsynced before the
ingest acknowledges their messages. Files are never rewritten: a segment is
deleted once every batch in it has been written to the store. Replay re-writes
a whole segment after a crash part-way through it, which is harmless because a
point's identity makes a second write overwrite the first.

A torn record at the end of the newest segment (power cut during append) was
never acknowledged, so it is dropped on open; the broker still holds it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from storage.base import Point

log = logging.getLogger(__name__)

_HEADER = struct.Struct(">II")
_SUFFIX = ".spool"


class SpoolFull(Exception):
    """Appending would exceed the spool's size limit."""


class SpoolLocked(RuntimeError):
    """Another ingest process already uses this spool folder."""


def encode_points(points: Sequence[Point]) -> bytes:
    # JSON keeps int, float, bool and str apart, which the store needs: a field
    # whose type changes is rejected by InfluxDB.
    return json.dumps(
        [[p.measurement, dict(p.tags), dict(p.fields), p.time_ns] for p in points],
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")


def decode_points(data: bytes) -> list[Point]:
    return [Point(m, tags, fields, t) for m, tags, fields, t in json.loads(data)]


def _pack(points: Sequence[Point]) -> bytes:
    # Points of one batch repeat the same tags and keys: level 1 shrinks them
    # about tenfold at little CPU, so an outage fits in a smaller spool.
    return zlib.compress(encode_points(points), 1)


@dataclass(frozen=True, slots=True)
class Segment:
    seq: int
    path: Path


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    def __init__(self, directory: Path, *, max_bytes: int, segment_bytes: int = 8 << 20):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self._lock_file = open(self.directory / "LOCK", "a+")  # noqa: SIM115 - held until close()
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise SpoolLocked(
                f"spool folder {self.directory} is in use by another ingest process; "
                "give each replica its own spool folder"
            ) from None
        self._segments: list[Segment] = []
        self._sizes: dict[int, int] = {}
        for path in sorted(self.directory.glob(f"*{_SUFFIX}")):
            try:
                seq = int(path.stem)
            except ValueError:
                continue
            self._segments.append(Segment(seq, path))
            self._sizes[seq] = self._valid_length(path)
        self._active: IO[bytes] | None = None
        self._active_seq: int | None = None
        self._records = sum(len(list(self._records_of(s))) for s in self._segments)

    # ---- state ---------------------------------------------------------
    @property
    def size_bytes(self) -> int:
        return sum(self._sizes.values())

    @property
    def batches(self) -> int:
        return self._records

    @property
    def empty(self) -> bool:
        return self._records == 0

    # ---- writing -------------------------------------------------------
    def append(self, points: Sequence[Point]) -> int:
        """Append one batch durably (fsync); returns the bytes it took."""
        payload = _pack(points)
        record = _HEADER.pack(len(payload), zlib.crc32(payload)) + payload
        if self.size_bytes + len(record) > self.max_bytes:
            raise SpoolFull(
                f"spool holds {self.size_bytes} bytes; a {len(record)}-byte batch would pass "
                f"the limit of {self.max_bytes}"
            )
        fh = self._writable(len(record))
        fh.write(record)
        fh.flush()
        os.fsync(fh.fileno())
        assert self._active_seq is not None
        self._sizes[self._active_seq] += len(record)
        self._records += 1
        return len(record)

    def _writable(self, size: int) -> IO[bytes]:
        if (
            self._active is not None
            and self._active_seq is not None
            and self._sizes[self._active_seq] + size > self.segment_bytes
        ):
            self.seal()
        if self._active is None:
            seq = (self._segments[-1].seq + 1) if self._segments else 1
            path = self.directory / f"{seq:012d}{_SUFFIX}"
            self._active = open(path, "ab")  # noqa: SIM115 - closed by seal()
            _fsync_dir(self.directory)
            self._active_seq = seq
            self._segments.append(Segment(seq, path))
            self._sizes[seq] = 0
        return self._active

    def seal(self) -> None:
        """Close the segment being appended to; the next append starts a new one."""
        if self._active is not None:
            self._active.close()
        self._active = None
        self._active_seq = None

    # ---- replay --------------------------------------------------------
    def oldest(self) -> Segment | None:
        """The oldest segment, sealed first if it is the one being appended to."""
        if not self._segments:
            return None
        seg = self._segments[0]
        if seg.seq == self._active_seq:
            self.seal()
        return seg

    def read(self, segment: Segment) -> Iterator[list[Point]]:
        for payload in self._records_of(segment):
            yield decode_points(zlib.decompress(payload))

    def remove(self, segment: Segment) -> None:
        """Forget a segment whose every batch is now in the store."""
        n = len(list(self._records_of(segment)))
        segment.path.unlink(missing_ok=True)
        _fsync_dir(self.directory)
        self._segments = [s for s in self._segments if s.seq != segment.seq]
        self._sizes.pop(segment.seq, None)
        self._records -= n

    def close(self) -> None:
        self.seal()
        self._lock_file.close()

    # ---- file format ---------------------------------------------------
    def _records_of(self, segment: Segment) -> Iterator[bytes]:
        limit = self._sizes.get(segment.seq)
        try:
            data = segment.path.read_bytes()
        except FileNotFoundError:
            return
        if limit is not None:
            data = data[:limit]
        for payload, _ in _scan(data):
            yield payload

    def _valid_length(self, path: Path) -> int:
        data = path.read_bytes()
        # offsets only grow, so the largest is the end of the last whole record
        pos = max((end for _, end in _scan(data)), default=0)
        if pos != len(data):
            log.warning(
                "event=spool_torn_tail file=%s dropped_bytes=%d "
                "(an append cut short before it was acknowledged; the broker still holds it)",
                path,
                len(data) - pos,
            )
            # Cut the tail so the next append does not land behind garbage.
            with open(path, "r+b") as fh:
                fh.truncate(pos)
                os.fsync(fh.fileno())
        return pos


def _scan(data: bytes) -> Iterator[tuple[bytes, int]]:
    """The whole records of a segment, each with the offset just past it; stops
    at the first torn or corrupt record (a power cut mid-append)."""
    pos = 0
    while pos + _HEADER.size <= len(data):
        length, crc = _HEADER.unpack_from(data, pos)
        payload = data[pos + _HEADER.size : pos + _HEADER.size + length]
        if len(payload) < length or zlib.crc32(payload) != crc:
            return
        pos += _HEADER.size + length
        yield payload, pos
