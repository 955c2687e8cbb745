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
    s0 = ob.next_seq
    assert _fill(ob, 5) == [s0, s0 + 1, s0 + 2, s0 + 3, s0 + 4]
    rows = ob.pending(limit=10)
    assert [r.payload for r in rows] == [f"seq={s0 + i}".encode() for i in range(5)]
    assert [r.event_ns for r in rows] == [to_ns(at(i)) for i in range(5)]
    ob.ack([rows[0].id, rows[2].id])
    assert ob.depth == 3
    ob.close()
    # as after a power cut: the file alone holds the truth
    ob = Outbox(path, max_events=100, max_age_s=3600)
    assert ob.depth == 3
    assert [r.seq - s0 for r in ob.pending()] == [1, 3, 4]
    assert ob.pending(after_id=rows[3].id)[0].seq == s0 + 4
    assert _fill(ob, 1) == [s0 + 5]  # seq continues, never reused
    assert ob.next_seq == s0 + 6


def test_size_bound_drops_oldest_and_counts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ob = Outbox(tmp_path / "o.db", max_events=10, max_age_s=10**6)
    with caplog.at_level(logging.WARNING):
        _fill(ob, 13)
    assert ob.depth == 10
    assert ob.dropped == 3
    s0 = ob.next_seq - 13
    assert [r.seq - s0 for r in ob.pending(limit=100)] == list(range(3, 13))
    assert "dropped the 1 oldest" in caplog.text


def test_age_bound_drops_old_events(tmp_path: Path) -> None:
    ob = Outbox(tmp_path / "o.db", max_events=100, max_age_s=60)
    _fill(ob, 5, start_s=0)  # events at 0..4 s
    # at 63.5 s the cutoff is 3.5 s: the events of 0, 1, 2 and 3 s go
    assert ob.expire(at(63.5)) == 4
    assert [r.seq for r in ob.pending()] == [ob.next_seq - 1]
    assert ob.dropped == 4
    assert ob.expire(at(63.9)) == 0


def test_a_new_outbox_numbers_from_the_clock_an_old_one_keeps_its_count(tmp_path: Path) -> None:
    import sqlite3
    import time

    before = time.time_ns() // 1000
    ob = Outbox(tmp_path / "new.db", max_events=100, max_age_s=3600)
    after = time.time_ns() // 1000
    # a lost outbox's successor never reuses a seq still on its way
    assert before <= ob.next_seq <= after
    ob.close()
    # an outbox file written before confirmations existed: no 'acked' column, seq from 0
    old = tmp_path / "old.db"
    db = sqlite3.connect(old)
    db.executescript(
        """CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL,
        payload BLOB NOT NULL, event_ns INTEGER NOT NULL, seq INTEGER NOT NULL);
        CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
        INSERT INTO counters VALUES ('next_seq', 7), ('dropped', 2);
        INSERT INTO outbox (topic, payload, event_ns, seq) VALUES ('t/x', x'00', 1, 6);"""
    )
    db.commit()
    db.close()
    ob = Outbox(old, max_events=100, max_age_s=10**9)
    assert (ob.depth, ob.dropped, ob.dropped_acked, ob.unconfirmed) == (1, 2, 0, 0)
    assert _fill(ob, 1) == [7]
    assert ob.settle([ob.pending()[0].id], []) == 0 and ob.unconfirmed == 1
    assert ob.settle([], [(6, 6)]) == 1 and [r.seq for r in ob.pending()] == [7]


def test_settle_marks_pubacks_and_deletes_exactly_the_confirmed_seqs(tmp_path: Path) -> None:
    ob = Outbox(tmp_path / "o.db", max_events=100, max_age_s=10**6)
    seqs = _fill(ob, 10)
    s0 = seqs[0]
    rows = ob.pending(limit=100)
    # PUBACKs of the first six: marked, nothing deleted
    assert ob.settle([r.id for r in rows[:6]], []) == 0
    assert (ob.depth, ob.unconfirmed) == (10, 6)
    # confirmations of s0+1..s0+2 and s0+4, and of seqs this outbox never had
    deleted = ob.settle([], [(s0 - 5, s0 - 1), (s0 + 1, s0 + 2), (s0 + 4, s0 + 4)])
    assert deleted == 3
    assert [r.seq - s0 for r in ob.pending(limit=100)] == [0, 3, 5, 6, 7, 8, 9]
    # a confirmation may come before the PUBACK: the row goes all the same
    assert ob.settle([rows[8].id], [(s0 + 8, s0 + 9)]) == 2
    assert (ob.depth, ob.unconfirmed) == (5, 3)
    # only rows up to a seq, after a row id (the agent's overdue pass)
    assert [r.seq - s0 for r in ob.pending(after_id=rows[0].id, max_seq=s0 + 6)] == [3, 5, 6]


def test_dropped_rows_the_broker_acknowledged_are_counted_apart(tmp_path: Path) -> None:
    ob = Outbox(tmp_path / "o.db", max_events=5, max_age_s=100)
    _fill(ob, 5, start_s=0)
    rows = ob.pending()
    ob.settle([rows[0].id, rows[1].id, rows[3].id], [])
    _fill(ob, 2, start_s=5)  # over the bound: rows 0 and 1 go, both acknowledged
    assert (ob.dropped, ob.dropped_acked, ob.depth) == (2, 2, 5)
    # by age: at 103.5 s the cutoff is 3.5 s, so rows 2 and 3 go, one acknowledged
    assert ob.expire(at(103.5)) == 2
    assert (ob.dropped, ob.dropped_acked, ob.depth, ob.unconfirmed) == (4, 3, 3, 0)
