"""The agent's side of confirmation without a broker: which reports count, and
when an unconfirmed row is overdue (a hand-driven monotonic clock)."""

from __future__ import annotations

import json

from edge.confirm import Confirmations


class Mono:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def report(seqs: list[list[int]], agent: str = "agent-t") -> bytes:
    return json.dumps(
        {"agent_id": agent, "replica": "i1", "seqs": seqs, "event_time": "2026-01-05T08:00:00Z"}
    ).encode()


def test_only_valid_reports_for_this_agent_count() -> None:
    c = Confirmations(agent_id="agent-t", timeout_s=10, clock=Mono())
    assert c.take(report([[1, 2], [5, 5]])) == [(1, 2), (5, 5)]
    assert c.take(report([[7, 7]], agent="agent-x")) == []
    assert c.take(b"not json") == []
    assert c.take(report([[3, 1]])) == []
    assert (c.received, c.invalid, c.frontier) == (1, 3, 5)


def test_rows_below_the_frontier_are_overdue_again_only_while_the_ingest_confirms() -> None:
    clock = Mono()
    c = Confirmations(agent_id="agent-t", timeout_s=10, clock=clock)
    assert c.overdue() is None  # not yet a period
    c.take(report([[1, 5]]))
    clock.t += 10
    # first period: the frontier (5) is remembered; nothing was below it a period ago
    assert c.overdue() is None
    clock.t += 3
    assert c.overdue() is None  # between sweeps
    c.take(report([[8, 9]]))  # 6 and 7 stay unconfirmed
    clock.t += 7
    assert c.overdue() == 5  # rows up to 5 had a whole period: resend the unconfirmed ones
    clock.t += 10
    # 6 and 7 were below 9 for a whole period: once, though no confirmation came since
    assert c.overdue() == 9
    clock.t += 10
    # still none: the ingest is away, resending again would only pile up duplicates
    assert c.overdue() is None
    clock.t += 10
    assert c.overdue() is None
    c.take(report([[10, 10]]))
    clock.t += 10
    assert c.overdue() == 9  # confirmations again: what is still missing goes again


def test_a_reconnection_restarts_the_clock() -> None:
    clock = Mono()
    c = Confirmations(agent_id="agent-t", timeout_s=10, clock=clock)
    c.take(report([[1, 5]]))
    clock.t += 10
    assert c.overdue() is None
    c.take(report([[9, 9]]))
    clock.t += 5
    c.reconnected()  # everything unconfirmed was just sent again
    clock.t += 5
    assert c.overdue() is None  # the sweep moved: 10 s after the reconnection
    clock.t += 5
    assert c.overdue() is None  # the frontier (9) is remembered only now...
    clock.t += 10
    assert c.overdue() is None  # ...and all up to it went again at the reconnection
    c.take(report([[13, 13]]))
    clock.t += 10
    assert c.overdue() == 9
    clock.t += 10
    assert c.overdue() == 13
