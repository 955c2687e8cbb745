"""Issue 20 item 5: a broker crash loses nothing the edge's outbox holds.

Real parts only: a Mosquitto whose persistence is off (the worst case: a kill
-9 loses every queued message and every session, as a lost persistence file
would), the real ingest (in-process service, its paho receiver a child
process) writing to a real InfluxDB, and the real edge agent with its SQLite
outbox and simulated square-wave sensors of agent-f1 (driver -> presence
tracker -> outbox, on a hand-driven clock). What is stored is read back from
InfluxDB with InfluxQL, and compared with the seqs the outbox handed out.

Each finding also runs with confirmation off (the agent deleting a row on the
broker's PUBACK, as before): the same run then loses exact, known counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from edge.agent import EdgeAgent
from edge.config import AgentConfig
from ingest.config import IngestSettings
from ingest.service import IngestService
from tests.conftest import EXAMPLE_SITES
from tests.edge.conftest import FakeClock
from tests.ingest.conftest import influx_query, make_settings, value
from tests.servers import InfluxServer, MosquittoServer

AGENT = "agent-f1"


def _sensors() -> list[dict[str, Any]]:
    """Ten of agent-f1's spaces and their sensors, read from the site file itself."""
    data = yaml.safe_load((EXAMPLE_SITES / "virastotalo.yaml").read_text(encoding="utf-8"))
    bound = [s for s in data["spaces"] if s.get("sensor", {}).get("agent") == AGENT]
    return [
        # square wave of 1 s: one change event per sensor per second of the clock
        {"type": "simulated", "id": s["sensor"]["id"], "space": s["id"], "mode": "square",
         "occupied_s": 1, "vacant_s": 1}
        for s in bound[:10]
    ]  # fmt: skip


class Edge:
    """The real agent, driven from the test's thread: ``emit(k)`` moves its
    clock k seconds, producing 10 events a second."""

    def __init__(self, tmp: Path, broker: MosquittoServer, *, confirm: bool, timeout_s: float):
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
        self.clock = FakeClock(start)
        config = AgentConfig.model_validate(
            {
                "site": "virastotalo", "agent_id": AGENT, "heartbeat_s": 300,
                "broker": {"url": broker.url, "keepalive_s": 2, "reconnect_max_s": 1},
                "outbox": {"path": str(tmp / "outbox.sqlite3"), "max_inflight": 100,
                           "confirm": confirm, "confirm_timeout_s": timeout_s},
                "sensors": _sensors(),
            }
        )  # fmt: skip
        self.agent = EdgeAgent(config, clock=self.clock)
        self.first_seq = self.agent.outbox.next_seq
        self.agent.start()  # each sensor reports its first state: 10 events
        assert self.run_until(lambda: self.agent.link.connected)

    def emit(self, seconds: int) -> None:
        for _ in range(seconds):
            self.clock.advance(1)
            self.agent.run_once(0.0)

    def run_until(self, cond: Callable[[], bool], timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.agent.run_once(0.02)
            if cond():
                return True
        return bool(cond())

    @property
    def seqs(self) -> set[int]:
        """Every seq the outbox handed out: the ground truth of what was sent."""
        return set(range(self.first_seq, self.agent.outbox.next_seq))

    def close(self) -> None:
        self.agent.shutdown()


@pytest.fixture
def edges() -> Any:
    made: list[Edge] = []

    def make(*args: Any, **kw: Any) -> Edge:
        made.append(Edge(*args, **kw))
        return made[-1]

    yield make
    for e in made:
        e.close()


def stored(influx: InfluxServer, db: str) -> list[int]:
    """The seq of every presence point in the store (one per identity)."""
    try:
        return [int(row[1]) for row in influx_query(influx, db, "SELECT seq FROM presence")]
    except AssertionError as exc:  # no database yet: nothing stored
        if "database not found" in str(exc):
            return []
        raise


def dead_letters(*services: IngestService) -> float:
    from ingest.pipeline import Reason

    return sum(
        value(s, "ingest_dead_letters_total", reason=r.value) for s in services for r in Reason
    )


@pytest.mark.parametrize("confirm", [True, False], ids=["confirmed", "deleted-on-puback"])
def test_kill_9_with_the_ingest_away_loses_nothing_the_outbox_held(
    confirm: bool, tmp_path: Path, mosquitto_factory: Callable[..., MosquittoServer],
    influx: InfluxServer, database: str, edges: Any,
    run_service: Callable[[IngestSettings], IngestService],
) -> None:  # fmt: skip
    broker = mosquitto_factory(extra_conf="persistence false")
    settings = make_settings(tmp_path, broker, influx, database)
    # The ingest subscribes, then is away: the broker queues for its session.
    run_service(settings).stop(timeout=10)
    edge = edges(tmp_path, broker, confirm=confirm, timeout_s=60)
    edge.emit(29)
    n = len(edge.seqs)
    assert n == edge.agent.enqueued == 300
    agent = edge.agent
    assert edge.run_until(lambda: agent.acked == n)  # the broker acknowledged all 300
    assert agent.outbox.depth == (n if confirm else 0)
    assert agent.outbox.unconfirmed == (n if confirm else 0)

    broker.kill()  # kill -9: its queue of 300 and the ingest's session are gone
    broker.start()
    service = run_service(settings)  # back first, so nothing sent again goes nowhere
    assert edge.run_until(lambda: agent.link.connected)
    if confirm:
        # on reconnecting, the agent sends every unconfirmed row again
        assert edge.run_until(lambda: agent.outbox.depth == 0, timeout=60)
        assert sorted(stored(influx, database)) == sorted(edge.seqs)  # all 300, once each
        assert agent.confirmed == n and agent.published >= 2 * n
        assert value(service, "ingest_messages_confirmed_total") == n
    else:
        edge.run_until(lambda: False, timeout=1)  # the agent has nothing left to send
        assert stored(influx, database) == []  # all 300 lost
        assert value(service, "ingest_messages_received_total") == 1  # the status alone
    # +1: the agent's online status, published again on reconnecting
    assert value(service, "ingest_messages_acked_total") == (n if confirm else 0) + 1
    assert dead_letters(service) == 0


def test_messages_the_broker_dropped_from_a_full_queue_are_sent_again(
    tmp_path: Path, mosquitto_factory: Callable[..., MosquittoServer],
    influx: InfluxServer, database: str, edges: Any,
    run_service: Callable[[IngestSettings], IngestService],
) -> None:  # fmt: skip
    # tuning.conf's bound, made small: Mosquitto keeps the oldest 100 queued
    # messages of an absent session and drops the rest, PUBACKed all the same
    # (tests/deploy/test_queue_bound.py: without a resend they are lost). The
    # 100 kept are the agent's online status, its first health report and 98
    # presence messages, so 202 presence messages are dropped.
    broker = mosquitto_factory(extra_conf="max_queued_messages 100")
    settings = make_settings(tmp_path, broker, influx, database)
    run_service(settings).stop(timeout=10)
    edge = edges(tmp_path, broker, confirm=True, timeout_s=1)
    agent = edge.agent
    edge.emit(29)
    assert edge.run_until(lambda: agent.acked == 300)
    service = run_service(settings)  # gets the 100 kept, and what comes next live
    edge.emit(10)
    n = len(edge.seqs)
    assert n == agent.enqueued == 400
    # The ingest confirms seqs past the 202 dropped ones; a second later they
    # are overdue and sent again, without any reconnection.
    assert edge.run_until(lambda: agent.outbox.depth == 0, timeout=60)
    assert sorted(stored(influx, database)) == sorted(edge.seqs)
    assert agent.resent >= 202 and agent.confirmed == n
    assert dead_letters(service) == 0


def test_two_replicas_and_a_kill_9_mid_stream_store_everything_once(
    tmp_path: Path, mosquitto_factory: Callable[..., MosquittoServer],
    influx: InfluxServer, database: str, edges: Any,
    run_service: Callable[[IngestSettings], IngestService],
) -> None:  # fmt: skip
    broker = mosquitto_factory(extra_conf="persistence false")
    replicas = [
        run_service(make_settings(tmp_path, broker, influx, database, name=name,
                                  share_group="ingest"))
        for name in ("ingest-1", "ingest-2")
    ]  # fmt: skip
    edge = edges(tmp_path, broker, confirm=True, timeout_s=1)
    agent = edge.agent
    edge.emit(49)
    # Mid-stream: in flight to the broker, queued in it, in a replica's batch.
    broker.kill()
    broker.start()
    edge.emit(50)  # into the outbox while everyone reconnects
    n = len(edge.seqs)
    assert n == agent.enqueued == 1000
    # Whatever the order of reconnections, the outbox sends again until confirmed.
    assert edge.run_until(lambda: agent.outbox.depth == 0, timeout=90)
    got = stored(influx, database)
    assert sorted(got) == sorted(edge.seqs)  # 1,000 points, each seq once
    # Each replica saw some of agent-f1's messages; the agent took the union.
    confirmed = [value(r, "ingest_messages_confirmed_total") for r in replicas]
    assert all(c > 0 for c in confirmed) and sum(confirmed) >= n
    assert dead_letters(*replicas) == 0
