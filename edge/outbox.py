"""The store-and-forward outbox: an on-disk SQLite queue of messages to publish.

Every presence event is committed here *before* any attempt to publish it. The
outbox, not paho's in-memory queue, is the source of truth: after a reconnect
or a restart everything still here is sent again, oldest first
(at-least-once). A row is deleted when the ingest confirms its ``seq`` stored
(``confirm``, the default; docs/edge.md, "End-to-end confirmation"); the
broker's PUBACK only marks it ``acked``. Without confirmation the PUBACK
deletes it (``ack``), and a broker crash loses what it had acknowledged.

Durability: WAL journal with ``synchronous=FULL``. In WAL mode NORMAL is safe
against a crash of the process but may lose the last commits on power loss or
an OS crash, which is exactly the failure an unattended Raspberry Pi sees (a
pulled plug, a brown-out). FULL syncs the WAL on every commit; at the agent's
event rates (a few per second at most) that costs little, and
``benchmarks/edge_agent.py`` measures it.

The per-agent sequence number is stored in the same transaction as the event,
so ``seq`` keeps increasing across restarts and power loss. A new outbox file
starts at the wall clock in microseconds, not 0: an agent whose outbox was
lost (a new SD card) then never reuses the seqs of its old one, which may
still be on their way through the broker, and a confirmation of an old seq
cannot delete a new row. (It would take a million events a second since the
old file was made to catch up.)

Bounds: at most ``max_events`` rows and nothing older than ``max_age_s``
(by event time). When a bound is hit the oldest rows are dropped, counted
(persistently; those the broker had acknowledged also apart, as they are
probably stored) and logged as a warning.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
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
    seq INTEGER NOT NULL,
    acked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO counters (name, value) VALUES ('dropped', 0), ('dropped_acked', 0);
"""
# An outbox file from before end-to-end confirmation gets the column on open.
_ADD_ACKED = "ALTER TABLE outbox ADD COLUMN acked INTEGER NOT NULL DEFAULT 0"
_NO_LIMIT = (1 << 63) - 1
_SEQ_INDEX = "CREATE INDEX IF NOT EXISTS outbox_seq ON outbox (seq)"


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
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(outbox)")}
        if "acked" not in columns:
            self._db.execute(_ADD_ACKED)
        self._db.execute(_SEQ_INDEX)
        # a new file only: an existing one keeps its counter (see the module doc)
        self._db.execute(
            "INSERT OR IGNORE INTO counters (name, value) VALUES ('next_seq', ?)",
            (time.time_ns() // 1000,),
        )
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
            dropped = acked = 0
            if self._depth > self.max_events:
                excess = self._depth - self.max_events
                oldest = "SELECT id FROM outbox ORDER BY id LIMIT ?"
                acked = _count(db, f"SELECT SUM(acked) FROM outbox WHERE id IN ({oldest})", excess)
                db.execute(f"DELETE FROM outbox WHERE id IN ({oldest})", (excess,))
                dropped += excess
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            self._depth = int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
            raise
        if dropped:
            self._count_dropped(
                dropped, acked, f"the outbox holds more than {self.max_events} events"
            )
        return seq

    def expire(self, now: datetime) -> int:
        """Drop events older than ``max_age_s``; returns how many."""
        cutoff = to_ns(now) - self.max_age_ns
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            acked = _count(db, "SELECT SUM(acked) FROM outbox WHERE event_ns < ?", cutoff)
            n = db.execute("DELETE FROM outbox WHERE event_ns < ?", (cutoff,)).rowcount or 0
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if n:
            self._count_dropped(n, acked, f"they are older than {self.max_age_ns / 1e9:.0f} s")
        return n

    def _count_dropped(self, n: int, acked: int, why: str) -> None:
        db = self._db
        db.execute("UPDATE counters SET value = value + ? WHERE name='dropped'", (n,))
        db.execute("UPDATE counters SET value = value + ? WHERE name='dropped_acked'", (acked,))
        self._depth = int(db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
        unconfirmed = (
            f", {acked} of them acknowledged by the broker, not confirmed stored" if acked else ""
        )
        log.warning(
            "outbox: dropped the %d oldest event(s) because %s%s (total dropped %d)",
            n,
            why,
            unconfirmed,
            self.dropped,
        )

    # ---- reading ---------------------------------------------------------
    def pending(
        self, *, after_id: int = 0, limit: int = 100, max_seq: int | None = None
    ) -> list[OutboxRow]:
        """Rows after ``after_id`` (with a seq of at most ``max_seq``), oldest first."""
        rows = self._db.execute(
            "SELECT id, topic, payload, event_ns, seq FROM outbox WHERE id > ? AND +seq <= ? "
            "ORDER BY id LIMIT ?",
            (after_id, max_seq if max_seq is not None else _NO_LIMIT, limit),
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

    def settle(self, acked: Sequence[int], confirmed: Sequence[tuple[int, int]]) -> int:
        """Mark rows the broker acknowledged and delete those whose seq the
        ingest confirmed (inclusive ranges), in one transaction. Returns how
        many were deleted. A confirmed seq that is not here (already deleted,
        or another outbox's) is ignored.

        Confirmation may come before the PUBACK: a row is deleted on its
        confirmation alone; the broker has passed it on, so it acknowledged it.
        """
        if not acked and not confirmed:
            return 0
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("UPDATE outbox SET acked = 1 WHERE id = ?", [(i,) for i in acked])
            cur = db.executemany("DELETE FROM outbox WHERE seq BETWEEN ? AND ?", confirmed)
            removed = max(0, cur.rowcount or 0) if confirmed else 0
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._depth -= removed
        return removed

    @property
    def depth(self) -> int:
        return self._depth

    @property
    def unconfirmed(self) -> int:
        """Rows the broker acknowledged that the ingest has not confirmed yet."""
        return _count(self._db, "SELECT COUNT(*) FROM outbox WHERE acked = 1")

    @property
    def dropped_acked(self) -> int:
        return _count(self._db, "SELECT value FROM counters WHERE name='dropped_acked'")

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


def _count(db: sqlite3.Connection, sql: str, *args: object) -> int:
    value = db.execute(sql, args).fetchone()[0]
    return int(value or 0)
