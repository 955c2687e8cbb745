"""deploy/mosquitto/tuning.conf bounds the per-client queue (issue 14, item 6),
and what its comment says happens at the bound is what Mosquitto does: later
messages for that session are dropped and counted, while the publisher has its
PUBACK (so only an outbox that waits for the ingest's confirmation resends
them: tests/ingest/test_broker_crash.py)."""

from __future__ import annotations

import threading
from pathlib import Path

import paho.mqtt.client as mqtt

from tests.servers import MosquittoServer

TUNING = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto" / "tuning.conf"


def settings() -> dict[str, str]:
    out = {}
    for line in TUNING.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition(" ")
            out[key] = value.strip()
    return out


def test_queue_limits_are_bounded_and_documented() -> None:
    conf = settings()
    assert 0 < int(conf["max_queued_messages"]) <= 10_000_000
    assert 0 < int(conf["max_queued_bytes"]) <= 1 << 30
    text = TUNING.read_text()
    assert "dropped" in text and "$SYS/broker/publish/messages/dropped" in text


def _client(server: MosquittoServer, cid: str, *, clean: bool) -> mqtt.Client:
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid, clean_session=clean)
    c.connect("127.0.0.1", server.port)
    c.loop_start()
    return c


def test_at_the_bound_mosquitto_drops_and_counts(tmp_path: Path) -> None:
    # The project's tuning with a small bound, so it is reached quickly.
    server = MosquittoServer(tmp_path, extra_conf="max_queued_messages 5\nsys_interval 1\n").start()
    try:
        sub = _client(server, "slow-ingest", clean=False)
        sub.subscribe("t/#", qos=1)
        threading.Event().wait(0.5)
        sub.loop_stop()
        sub.disconnect()  # the persistent session stays, its client away

        pub = _client(server, "agent", clean=True)
        infos = [pub.publish("t/x", str(i), qos=1) for i in range(30)]
        for info in infos:
            info.wait_for_publish(5)
        assert all(info.is_published() for info in infos)  # every one PUBACKed

        dropped: list[int] = []
        got = threading.Event()

        def on_message(_c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
            dropped.append(int(msg.payload))
            if dropped[-1] > 0:
                got.set()

        pub.on_message = on_message
        pub.subscribe("$SYS/broker/publish/messages/dropped", qos=0)
        assert got.wait(15), "no $SYS dropped counter"
        pub.loop_stop()
        pub.disconnect()

        received: list[str] = []
        back = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id="slow-ingest", clean_session=False
        )
        back.on_message = lambda _c, _u, m: received.append(m.payload.decode())
        back.connect("127.0.0.1", server.port)
        back.loop_start()
        threading.Event().wait(1.5)
        back.loop_stop()
        back.disconnect()
    finally:
        server.stop()
    # Queued up to the bound (plus the in-flight window), the rest dropped.
    assert 0 < len(received) < 30
    assert dropped[-1] == 30 - len(received)
