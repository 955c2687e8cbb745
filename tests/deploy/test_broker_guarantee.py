"""The shipped broker configuration (deploy/mosquitto/mosquitto.conf, run by a
real Mosquitto through tests/deploy/test_mosquitto.py's harness): the payload
cap, and what a kill -9 keeps of the messages the broker acknowledged."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tests.deploy.test_mosquitto import MOSQ, PASSWORDS, SITE, Broker, broker, connect, publish_as

__all__ = ["broker"]  # the fixture

PRESENCE = f"occupancy/v1/{SITE}/spaces/f1-palvelu-01/presence"


def conf_value(name: str) -> int:
    match = re.search(rf"^{name}\s+(\d+)\s*$", (MOSQ / "mosquitto.conf").read_text(), re.M)
    assert match, f"{name} is not set in mosquitto.conf"
    return int(match.group(1))


def ingest_session(broker: Broker, received: list[bytes]) -> mqtt.Client:
    """The ingest's persistent MQTT 5 session, subscribed at QoS 1."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="ingest-kill9",
                         protocol=mqtt.MQTTv5)  # fmt: skip
    client.username_pw_set("ingest", PASSWORDS["MQTT_INGEST_PASSWORD"])
    subscribed = threading.Event()
    client.on_message = lambda c, u, m: received.append(bytes(m.payload))
    client.on_subscribe = lambda *a: subscribed.set()
    client.on_connect = lambda c, u, f, rc, p: c.subscribe(PRESENCE, qos=1)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600
    client.connect("127.0.0.1", broker.port, clean_start=False, properties=props)
    client.loop_start()
    assert subscribed.wait(10)
    return client


def test_payloads_over_the_cap_are_not_forwarded(broker: Broker) -> None:
    limit = conf_value("message_size_limit")
    assert limit == 65536
    received: list[bytes] = []
    sub = ingest_session(broker, received)
    try:
        # Mosquitto 2.0.11 drops the oversized PUBLISH (it may also end the
        # connection): one connection per message, and only the last is forwarded.
        for payload in ("x" * (limit + 1), "y" * (1 << 20)):
            agent, code = connect(broker, "agent-f1", "f1-secret")
            assert code == 0
            agent.publish(PRESENCE, payload, qos=1)
            time.sleep(0.5)
            agent.loop_stop()
            agent.disconnect()
        assert publish_as(broker, "agent-f1", "f1-secret", PRESENCE, "z" * limit) == 0
        deadline = time.monotonic() + 10
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        assert [len(p) for p in received] == [limit]
    finally:
        sub.loop_stop()
        sub.disconnect()


def test_kill_9_loses_at_most_the_changes_since_the_last_save(broker: Broker) -> None:
    n = 5_000
    bound = conf_value("autosave_interval")
    assert "autosave_on_changes true" in (MOSQ / "mosquitto.conf").read_text()
    received: list[bytes] = []
    sub = ingest_session(broker, received)
    sub.disconnect()  # the ingest is away: every message is queued for its session
    sub.loop_stop()
    agent = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="agent-f1-kill9",
                        protocol=mqtt.MQTTv311)  # fmt: skip
    agent.username_pw_set("agent-f1", "f1-secret")
    agent.max_inflight_messages_set(100)
    agent.connect("127.0.0.1", broker.port)
    agent.loop_start()
    infos = [agent.publish(PRESENCE, b'{"seq": %d}' % i, qos=1) for i in range(n)]
    for info in infos:
        info.wait_for_publish(30)
    assert all(info.is_published() for info in infos)  # the broker acknowledged all n
    agent.disconnect()
    agent.loop_stop()
    broker.kill()
    broker.start()
    sub = ingest_session(broker, received)
    last: list[Any] = [None, time.monotonic()]
    while time.monotonic() - last[1] < 2:  # until nothing more comes for 2 s
        if len(received) != last[0]:
            last[:] = [len(received), time.monotonic()]
        time.sleep(0.1)
    sub.loop_stop()
    sub.disconnect()
    seqs = sorted(int(p.split(b" ")[1].rstrip(b"}")) for p in set(received))
    # What survived is the oldest messages, with no gap, and at most `bound` lost.
    assert seqs == list(range(len(seqs)))
    assert n - bound <= len(seqs) <= n, (len(seqs), n, bound)
