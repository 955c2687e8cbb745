"""The on-disk spool: order, exact round trip, torn tails, size limit, locking."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.spool import Spool, SpoolFull, SpoolLocked
from storage.base import Point


def batch(n: int, start: int = 0) -> list[Point]:
    return [
        Point(
            "presence",
            {"site": "s", "space": f"d{i}", "odd tag": 'a b,c=d"e\\'},
            {"occupied": i % 2, "hb": 300.0, "ok": True, "sensor": "sé-1", "big": 2**62},
            1_767_600_000_000_000_000 + i,
        )
        for i in range(start, start + n)
    ]


def drain(spool: Spool) -> list[list[Point]]:
    out: list[list[Point]] = []
    while (seg := spool.oldest()) is not None:
        out.extend(spool.read(seg))
        spool.remove(seg)
    return out


def test_round_trip_keeps_order_and_types(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10 << 20, segment_bytes=200)
    batches = [batch(5, 10 * k) for k in range(6)]
    for b in batches:
        spool.append(b)
    spool.close()
    reopened = Spool(tmp_path, max_bytes=10 << 20)
    assert reopened.batches == 6
    assert len(list(tmp_path.glob("*.spool"))) > 1  # 200-byte segments rotate
    got = drain(reopened)
    assert got == batches
    # types survive: an int stays int, a float stays float, a bool stays bool
    p = got[0][1]
    assert [type(p.fields[k]) for k in ("occupied", "hb", "ok", "sensor", "big")] == [
        int,
        float,
        bool,
        str,
        int,
    ]
    assert reopened.empty and reopened.size_bytes == 0
    assert list(tmp_path.glob("*.spool")) == []


def test_torn_tail_is_dropped_and_cut(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10 << 20)
    spool.append(batch(3))
    spool.append(batch(3, 3))
    spool.close()
    (segment,) = tmp_path.glob("*.spool")
    whole = segment.stat().st_size
    with open(segment, "ab") as fh:  # an append cut short by a power failure
        fh.write(b"\x00\x00\x01\x00\x12\x34")
    reopened = Spool(tmp_path, max_bytes=10 << 20)
    assert segment.stat().st_size == whole
    reopened.append(batch(2, 6))
    assert drain(reopened) == [batch(3), batch(3, 3), batch(2, 6)]


def test_full_spool_refuses_and_keeps_what_it_has(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=3_000)
    spool.append(batch(5))
    size = spool.size_bytes
    with pytest.raises(SpoolFull):
        for k in range(1, 100):
            spool.append(batch(5, 5 * k))
    kept = spool.batches
    assert spool.size_bytes <= 3_000 and spool.size_bytes >= size
    assert len(drain(spool)) == kept


def test_one_process_per_spool_folder(tmp_path: Path) -> None:
    first = Spool(tmp_path, max_bytes=1 << 20)
    with pytest.raises(SpoolLocked, match="another ingest process"):
        Spool(tmp_path, max_bytes=1 << 20)
    first.close()
    Spool(tmp_path, max_bytes=1 << 20).close()
