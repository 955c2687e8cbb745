"""The confirmations durable batches owe their agents (``core.messages.Stored``).

``stored_messages`` is pure: receipts in, (topic, payload) pairs out. The
writer thread gathers the receipts of its durable batches in ``Pending`` and
hands the messages to the receiver to publish: at once when no further batch
waits (light traffic: one batch, one message per agent in it), else at least
every ``max_delay_s`` (a backlog drain: one message per agent per second, not
per batch). More than one message per agent only past ``MAX_STORED_RANGES``
ranges, e.g. when shared-subscription replicas take alternate messages of one
fast agent. docs/ingest.md, "Confirmations to the agents", has the figures.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from core.messages import MAX_STORED_RANGES, seq_ranges
from core.topics import Topics
from ingest.pipeline import Receipt


def stored_messages(
    receipts: Iterable[Receipt], *, topics: Topics, replica: str, now: datetime
) -> list[tuple[str, bytes]]:
    """The ``Stored`` messages for ``receipts``: per agent, its seqs as ranges.

    The JSON is written directly, not through the pydantic model: building and
    validating a model cost ~20 µs a message, a third of the ingest's budget
    per message in the worst case (one agent per message). Its inputs are
    already valid (ids from the registry, seqs from validated messages), and
    tests/ingest/test_confirm.py reads the output back with the model."""
    by_agent: dict[tuple[str, str], list[int]] = {}
    for r in receipts:
        by_agent.setdefault((r.site, r.agent), []).append(r.seq)
    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    out: list[tuple[str, bytes]] = []
    for (site, agent), seqs in by_agent.items():
        topic = topics.stored(site, agent)
        ranges = seq_ranges(seqs)
        for i in range(0, len(ranges), MAX_STORED_RANGES):
            body = {
                "schema_version": 1,
                "agent_id": agent,
                "replica": replica,
                "seqs": ranges[i : i + MAX_STORED_RANGES],
                "event_time": stamp,
            }
            out.append((topic, json.dumps(body, separators=(",", ":")).encode()))
    return out


class Pending:
    """Receipts of durable batches not yet published (the writer thread's own)."""

    def __init__(
        self,
        *,
        topics: Topics,
        replica: str,
        clock: Callable[[], datetime],
        max_delay_s: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.topics = topics
        self.replica = replica
        self.clock = clock
        self.max_delay_s = max_delay_s
        self.monotonic = monotonic
        self._receipts: list[Receipt] = []
        self._since = 0.0

    def add(self, receipts: Iterable[Receipt]) -> None:
        if not self._receipts:
            self._since = self.monotonic()
        self._receipts.extend(receipts)

    def take(self, *, idle: bool) -> tuple[int, list[tuple[str, bytes]]]:
        """(receipts, messages) to publish now: all of them when the writer is
        ``idle`` or the oldest has waited ``max_delay_s``; else nothing."""
        if not self._receipts or not (idle or self.monotonic() - self._since >= self.max_delay_s):
            return 0, []
        receipts, self._receipts = self._receipts, []
        messages = stored_messages(
            receipts, topics=self.topics, replica=self.replica, now=self.clock()
        )
        return len(receipts), messages
