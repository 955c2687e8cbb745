"""The store-and-forward outbox: an on-disk SQLite queue of messages to publish.

Every presence event is committed here *before* any attempt to publish it and
deleted only when the broker has acknowledged it (QoS 1 PUBACK). The outbox,
not paho's in-memory queue, is the source of truth: after a reconnect or a
restart everything still here is sent again, oldest first (at-least-once).

Durability: WAL journal with ``synchronous=FULL``. In WAL mode NORMAL is safe
against a crash of the process but may lose the last commits on power loss or
an OS crash, which is exactly the failure an unattended Raspberry Pi sees (a
pulled plug, a brown-out). FULL syncs the WAL on every commit; at the agent's
event rates (a few per second at most) that costs little, and
``benchmarks/edge_agent.py`` measures it.

The per-agent sequence number is stored in the same transaction as the event,
so ``seq`` keeps increasing across restarts and power loss.

Bounds: at most ``max_events`` rows and nothing older than ``max_age_s``
(by event time). When a bound is hit the oldest rows are dropped, counted
(persistently) and logged as a warning.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from core.timeutil import to_ns

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    event_ns INTEGER NOT NULL,
    seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO counters (name, value) VALUES ('next_seq', 0), ('dropped', 0);
"""


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    topic: str
    payload: bytes
    event_ns: int
    seq: int


class Outbox:
    """Not thread-safe: owned by the agent's main loop (one connection)."""

    def __init__(
        self, path: Path | str, *, max_events: int, max_age_s: float, synchronous: str = "FULL"
    ):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_events = max_events
        self.max_age_ns = int(max_age_s * 1e9)
        self._db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError("synchronous must be FULL or NORMAL")
        # FULL by default (see the module docstring); NORMAL exists for the benchmark's comparison
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._db.executescript(_SCHEMA)
        self._depth = int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def close(self) -> None:
        self._db.close()

    # ---- writing ---------------------------------------------------------
    def append(self, topic: str, event_time: datetime, build: Callable[[int], bytes]) -> int:
        """Store one message; ``build(seq)`` makes its payload. Returns the seq used."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            seq = int(db.execute("SELECT value FROM counters WHERE name='next_seq'").fetchone()[0])
            payload = build(seq)
            db.execute(
                "INSERT INTO outbox (topic, payload, event_ns, seq) VALUES (?, ?, ?, ?)",
                (topic, payload, to_ns(event_time), seq),
            )
            db.execute("UPDATE counters SET value = ? WHERE name='next_seq'", (seq + 1,))
            self._depth += 1
            dropped = 0
            if self._depth > self.max_events:
                excess = self._depth - self.max_events
                db.execute(
                    "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT ?)",
                    (excess,),
                )
                dropped += excess
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            self._depth = int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
            raise
        if dropped:
            self._count_dropped(dropped, f"the outbox holds more than {self.max_events} events")
        return seq

    def expire(self, now: datetime) -> int:
        """Drop events older than ``max_age_s``; returns how many."""
        cutoff = to_ns(now) - self.max_age_ns
        cur = self._db.execute("DELETE FROM outbox WHERE event_ns < ?", (cutoff,))
        n = cur.rowcount or 0
        if n:
            self._count_dropped(n, f"they are older than {self.max_age_ns / 1e9:.0f} s")
        return n

    def _count_dropped(self, n: int, why: str) -> None:
        self._db.execute("UPDATE counters SET value = value + ? WHERE name='dropped'", (n,))
        self._depth = int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
        log.warning(
            "outbox: dropped the %d oldest event(s) because %s (total dropped %d)",
            n,
            why,
            self.dropped,
        )

    # ---- reading ---------------------------------------------------------
    def pending(self, *, after_id: int = 0, limit: int = 100) -> list[OutboxRow]:
        rows = self._db.execute(
            "SELECT id, topic, payload, event_ns, seq FROM outbox WHERE id > ? ORDER BY id LIMIT ?",
            (after_id, limit),
        ).fetchall()
        return [OutboxRow(int(r[0]), str(r[1]), bytes(r[2]), int(r[3]), int(r[4])) for r in rows]

    def ack(self, row_ids: list[int]) -> None:
        """Delete acknowledged rows, in one transaction (one sync for a whole batch).

        Losing an acknowledgement to a power cut only means a duplicate later,
        which the contract tolerates; losing an event would not be.
        """
        if not row_ids:
            return
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        removed = 0
        try:
            for row_id in row_ids:
                removed += db.execute("DELETE FROM outbox WHERE id = ?", (row_id,)).rowcount or 0
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._depth -= removed

    @property
    def depth(self) -> int:
        return self._depth

    @property
    def dropped(self) -> int:
        return int(
            self._db.execute("SELECT value FROM counters WHERE name='dropped'").fetchone()[0]
        )

    @property
    def next_seq(self) -> int:
        return int(
            self._db.execute("SELECT value FROM counters WHERE name='next_seq'").fetchone()[0]
        )
