"""A bounded on-disk spool for batches the store could not take.

Batches are appended to segment files (``000000000001.spool``, ...) as
records ``[magic u32][length u32][crc32 u32][zlib(JSON list of points)]``,
fsynced before the ingest acknowledges their messages. Files are never
rewritten: a segment is deleted once every batch in it has been written to the
store. Replay re-writes a whole segment after a crash part-way through it,
which is harmless because a point's identity makes a second write overwrite the
first.

An append that fails (ENOSPC, EIO) raises ``SpoolUnwritable`` and cuts the
file back to its last whole record, so nothing behind it lands after garbage;
its messages are not acknowledged. Should the cut itself fail, the segment is
sealed. A torn or corrupt record anywhere (power cut mid-append, a failed cut)
is skipped by scanning for the next record's magic whose CRC matches: the
acknowledged records behind it are recovered, never dropped with it.
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

_MAGIC = 0x4F435331  # "OCS1": where a record starts, to resynchronise after a torn one
_HEADER = struct.Struct(">III")
_LEGACY_HEADER = struct.Struct(">II")  # segments written before the magic
_SUFFIX = ".spool"


class SpoolFull(Exception):
    """Appending would exceed the spool's size limit, or the disk refused it."""


class SpoolUnwritable(SpoolFull):
    """The filesystem refused an append (ENOSPC, EIO, read-only): the batch is
    not durable, so it must not be acknowledged."""


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
        record = _HEADER.pack(_MAGIC, len(payload), zlib.crc32(payload)) + payload
        if self.size_bytes + len(record) > self.max_bytes:
            raise SpoolFull(
                f"spool holds {self.size_bytes} bytes; a {len(record)}-byte batch would pass "
                f"the limit of {self.max_bytes}"
            )
        try:
            fh = self._writable(len(record))
        except OSError as exc:
            raise SpoolUnwritable(f"cannot open a spool segment: {exc}") from exc
        assert self._active_seq is not None
        start = self._sizes[self._active_seq]
        try:
            # Unbuffered: a failed write leaves no bytes behind in a Python
            # buffer to be flushed later after the cut.
            _write_all(fh.fileno(), record)
            os.fsync(fh.fileno())
        except OSError as exc:
            self._cut(fh, start)
            raise SpoolUnwritable(f"spool append failed: {exc}") from exc
        self._sizes[self._active_seq] = start + len(record)
        self._records += 1
        return len(record)

    def _cut(self, fh: IO[bytes], length: int) -> None:
        """Take a failed append back off the file (truncating frees space, so it
        works on a full disk); if even that fails, seal the segment: the next
        append starts a new one and the scan skips the torn bytes."""
        try:
            os.ftruncate(fh.fileno(), length)
            os.fsync(fh.fileno())
        except OSError as exc:
            log.error("event=spool_cut_failed error=%s (segment sealed)", exc)
            self.seal()

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
            self._active = open(path, "ab", buffering=0)  # noqa: SIM115 - closed by seal()
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
        # The whole file, not the length counted in memory: after a sealed
        # failed append, records behind the torn bytes are still to be read.
        try:
            data = segment.path.read_bytes()
        except FileNotFoundError:
            return
        for payload, _ in _scan(data):
            yield payload

    def _valid_length(self, path: Path) -> int:
        """Bytes of the segment; a torn tail (an append never acknowledged) is cut
        so the next append does not land behind garbage."""
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
            with open(path, "r+b") as fh:
                fh.truncate(pos)
                os.fsync(fh.fileno())
        return pos


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)  # raises OSError (ENOSPC) once nothing more fits
        view = view[n:]


def _scan(data: bytes) -> Iterator[tuple[bytes, int]]:
    """The whole records of a segment, each with the offset just past it.

    A torn or corrupt record is skipped: the scan looks for the next magic
    whose record checks out, so acknowledged records after it are kept."""
    if len(data) >= 4 and struct.unpack_from(">I", data)[0] != _MAGIC:
        yield from _scan_legacy(data)
        return
    magic = _HEADER.pack(_MAGIC, 0, 0)[:4]
    pos = 0
    while pos + _HEADER.size <= len(data):
        found, length, crc = _HEADER.unpack_from(data, pos)
        start = pos + _HEADER.size
        payload = data[start : start + length]
        if found == _MAGIC and len(payload) == length and zlib.crc32(payload) == crc:
            pos = start + length
            yield payload, pos
            continue
        nxt = data.find(magic, pos + 1)
        if nxt < 0:
            return
        log.warning("event=spool_torn_record skipped_bytes=%d (records after it kept)", nxt - pos)
        pos = nxt


def _scan_legacy(data: bytes) -> Iterator[tuple[bytes, int]]:
    """Segments from before the magic: whole records up to the first bad one."""
    pos = 0
    while pos + _LEGACY_HEADER.size <= len(data):
        length, crc = _LEGACY_HEADER.unpack_from(data, pos)
        payload = data[pos + _LEGACY_HEADER.size : pos + _LEGACY_HEADER.size + length]
        if len(payload) < length or zlib.crc32(payload) != crc:
            return
        pos += _LEGACY_HEADER.size + length
        yield payload, pos
