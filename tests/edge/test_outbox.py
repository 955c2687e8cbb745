"""The SQLite outbox: order, acknowledgement, persistence of seq, bounds."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from core.timeutil import to_ns
from edge.outbox import Outbox
from tests.edge.conftest import at


def _fill(ob: Outbox, n: int, start_s: float = 0) -> list[int]:
    return [ob.append("t/x", at(start_s + i), lambda seq: f"seq={seq}".encode()) for i in range(n)]


def test_fifo_ack_and_seq_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    ob = Outbox(path, max_events=100, max_age_s=3600)
    assert _fill(ob, 5) == [0, 1, 2, 3, 4]
    rows = ob.pending(limit=10)
    assert [r.payload for r in rows] == [f"seq={i}".encode() for i in range(5)]
    assert [r.event_ns for r in rows] == [to_ns(at(i)) for i in range(5)]
    ob.ack([rows[0].id, rows[2].id])
    assert ob.depth == 3
    ob.close()
    # as after a power cut: the file alone holds the truth
    ob = Outbox(path, max_events=100, max_age_s=3600)
    assert ob.depth == 3
    assert [r.seq for r in ob.pending()] == [1, 3, 4]
    assert ob.pending(after_id=rows[3].id)[0].seq == 4
    assert _fill(ob, 1) == [5]  # seq continues, never reused
    assert ob.next_seq == 6


def test_size_bound_drops_oldest_and_counts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ob = Outbox(tmp_path / "o.db", max_events=10, max_age_s=10**6)
    with caplog.at_level(logging.WARNING):
        _fill(ob, 13)
    assert ob.depth == 10
    assert ob.dropped == 3
    assert [r.seq for r in ob.pending(limit=100)] == list(range(3, 13))
    assert "dropped the 1 oldest" in caplog.text


def test_age_bound_drops_old_events(tmp_path: Path) -> None:
    ob = Outbox(tmp_path / "o.db", max_events=100, max_age_s=60)
    _fill(ob, 5, start_s=0)  # events at 0..4 s
    # at 63.5 s the cutoff is 3.5 s: the events of 0, 1, 2 and 3 s go
    assert ob.expire(at(63.5)) == 4
    assert [r.seq for r in ob.pending()] == [4]
    assert ob.dropped == 4
    assert ob.expire(at(63.9)) == 0
