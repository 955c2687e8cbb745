"""Live mode against the real Mosquitto fixture: valid contract messages, the
retained online status, and the Last Will when an agent drops its connection."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from core.messages import AgentHealth, AgentState, AgentStatus, EntranceCounts, Presence
from core.registry import Site
from core.topics import TopicKind, Topics
from simulators.publisher import LiveSimulator, PublisherSettings
from simulators.scenario import Scenario
from tests.servers import MosquittoServer

TOPICS = Topics()


class Collector:
    """A plain MQTT subscriber recording (topic, payload, retain) in arrival order."""

    def __init__(self, server: MosquittoServer, name: str):
        self.messages: list[tuple[str, bytes, bool]] = []
        self.lock = threading.Lock()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=name)
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_: c.subscribe([(f, 1) for f in TOPICS.subscriptions()])
        self.client.connect("127.0.0.1", server.port)
        self.client.loop_start()

    def _on_message(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        with self.lock:
            self.messages.append((msg.topic, msg.payload, bool(msg.retain)))

    def wait_for(self, predicate, timeout: float = 10.0) -> list[tuple[str, bytes, bool]]:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [m for m in self.messages if predicate(m)]
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError("expected message did not arrive")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _status(m: tuple[str, bytes, bool]) -> AgentStatus | None:
    if TOPICS.parse(m[0]).kind is not TopicKind.STATUS:
        return None
    return AgentStatus.model_validate_json(m[1])


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_live_contract_status_and_last_will(
    example_site: Site, mosquitto: MosquittoServer, protocol: str
) -> None:
    sub = Collector(mosquitto, f"test-sub-{protocol}")
    time.sleep(0.3)
    settings = PublisherSettings(
        broker_url=mosquitto.url, mqtt_protocol=protocol, client_id_prefix=f"sim{protocol}"
    )  # type: ignore[arg-type]
    # a Tuesday 09:00 in Helsinki, 600x: ten simulated minutes a second
    sim = LiveSimulator(
        example_site,
        Scenario(seed=1).without_faults(),
        settings,
        speed=600,
        start=datetime(2026, 3, 3, 7, 0, tzinfo=UTC),
    )
    sim.start()
    try:
        sub.wait_for(
            lambda m: TOPICS.parse(m[0]).kind is TopicKind.PRESENCE and b'"change"' in m[1]
        )
        time.sleep(2.0)
        # every message is valid contract, on the topic of its own space or agent
        seen = {k: 0 for k in (TopicKind.PRESENCE, TopicKind.STATUS, TopicKind.HEALTH)}
        seen[TopicKind.COUNTS] = 0
        with sub.lock:
            messages = list(sub.messages)
        for topic, payload, _ in messages:
            parsed = TOPICS.parse(topic)
            seen[parsed.kind] += 1
            doc = json.loads(payload)
            if parsed.kind is TopicKind.PRESENCE:
                assert Presence.model_validate(doc).space_id == parsed.subject
            elif parsed.kind is TopicKind.STATUS:
                assert AgentStatus.model_validate(doc).agent_id == parsed.subject
            elif parsed.kind is TopicKind.COUNTS:
                assert EntranceCounts.model_validate(doc).entrance_id == parsed.subject
            else:
                assert AgentHealth.model_validate(doc).agent_id == parsed.subject
        assert seen[TopicKind.PRESENCE] > len(example_site.spaces)
        assert seen[TopicKind.HEALTH] > 0
        # the service point's door counter reports every 15 min: 09:15 and 09:30 at least
        assert seen[TopicKind.COUNTS] >= 2
        # presence seq increases per agent in arrival order (no faults injected)
        last: dict[str, int] = {}
        for topic, payload, _ in messages:
            if TOPICS.parse(topic).kind is TopicKind.PRESENCE:
                p = Presence.model_validate_json(payload)
                assert p.seq > last.get(p.agent_id, -1)
                last[p.agent_id] = p.seq

        # a late subscriber gets the retained online status of every agent
        late = Collector(mosquitto, f"test-late-{protocol}")
        retained = late.wait_for(lambda m: m[2] and _status(m) is not None)
        time.sleep(0.5)
        with late.lock:
            online = {
                s.agent_id
                for m in late.messages
                if m[2] and (s := _status(m)) and s.state is AgentState.ONLINE
            }
        late.close()
        assert retained and online == {"agent-f1", "agent-f2", "agent-f3", "agent-f4"}

        # the agent drops its connection without DISCONNECT: the broker sends its will
        sim.crash_agent("agent-f2")
        will = sub.wait_for(
            lambda m: (
                not m[2]  # live, not a retained one from an earlier run
                and (s := _status(m)) is not None
                and s.agent_id == "agent-f2"
                and s.state is AgentState.OFFLINE
            )
        )
        assert AgentStatus.model_validate_json(will[0][1]).event_time is None  # the will has none
        n_before = len(sub.messages)
        time.sleep(1.0)
        with sub.lock:
            quiet = [m for m in sub.messages[n_before:] if b'"agent-f2"' in m[1]]
        assert quiet == []  # nothing from the offline agent
        sim.revive_agent("agent-f2")
        with sub.lock:
            mark = len(sub.messages)

        def after_mark(m: tuple[str, bytes, bool]) -> bool:
            return sub.messages.index(m) >= mark

        again = sub.wait_for(
            lambda m: (
                after_mark(m)
                and not m[2]
                and (s := _status(m)) is not None
                and s.agent_id == "agent-f2"
                and s.state is AgentState.ONLINE
            )
        )
        assert AgentStatus.model_validate_json(again[0][1]).event_time is not None
        sub.wait_for(lambda m: after_mark(m) and "/agents/" not in m[0] and b'"agent-f2"' in m[1])
    finally:
        sim.stop()
        sub.close()
    assert sim.error is None
    # an orderly stop leaves every agent retained as offline
    final = Collector(mosquitto, f"test-final-{protocol}")
    final.wait_for(lambda m: m[2] and _status(m) is not None)
    time.sleep(0.5)
    with final.lock:
        states = {s.agent_id: s.state for m in final.messages if m[2] and (s := _status(m))}
    final.close()
    # (the broker is shared by the whole session: other tests' agents may be retained too)
    ours = ("agent-f1", "agent-f2", "agent-f3", "agent-f4")
    assert {a: states.get(a) for a in ours} == {a: AgentState.OFFLINE for a in ours}


def test_scheduled_agent_offline_fires_the_will(
    tiny_site: Site, mosquitto: MosquittoServer
) -> None:
    from simulators.scenario import Fault, FaultKind
    from tests.simulators.test_handcheck import T, scripted

    sub = Collector(mosquitto, "test-sub-fault")
    time.sleep(0.3)
    fault = Fault(
        kind=FaultKind.AGENT_OFFLINE, target="agent-b", start=T("06:10:00"), end=T("06:20:00")
    )
    sim = LiveSimulator(
        tiny_site,
        scripted([fault]),
        PublisherSettings(broker_url=mosquitto.url, client_id_prefix="fault"),
        # the fault starts 2 s after the start and lasts 2 s: time for both
        # agents to be connected first on a loaded machine (at 600x, 1 s was not)
        speed=300,
        start=T("06:00:00"),
    )
    sim.start()
    try:
        sub.wait_for(
            lambda m: (
                not m[2]
                and (s := _status(m)) is not None
                and s.agent_id == "agent-b"
                and s.state is AgentState.OFFLINE
                and s.event_time is None
            )
        )
        back = sub.wait_for(
            lambda m: (
                not m[2]
                and (s := _status(m)) is not None
                and s.agent_id == "agent-b"
                and s.state is AgentState.ONLINE
                and s.event_time == T("06:20:00")
            )
        )
        assert back
    finally:
        sim.stop()
        sub.close()
    assert sim.error is None and sim.sent["offline"] == 1
    from simulators.truth import truth_to_json

    truth = sim.truth()  # clipped at the simulated now
    assert [(f.kind, f.spaces) for f in truth.faults] == [("agent_offline", ("d2",))]
    assert truth.end_ms > truth.start_ms and '"agent_offline"' in truth_to_json(truth)
