"""The API's live feed drops payloads over the cap before queueing them (one
hostile agent must not fill the API's memory), on a real Mosquitto."""

from __future__ import annotations

import threading

from api.mqtt import MAX_PAYLOAD_BYTES, LiveFeed
from core.messages import RawMessage
from tests.ingest.conftest import publish, wait_until
from tests.servers import MosquittoServer


def test_oversized_payloads_never_reach_the_live_board(mosquitto: MosquittoServer) -> None:
    got: list[RawMessage] = []
    lock = threading.Lock()

    def handler(raw: RawMessage) -> None:
        with lock:
            got.append(raw)

    topic = "occupancy/v1/cap-test/spaces/d1/presence"
    feed = LiveFeed(url=mosquitto.url, topics=[topic], handler=handler)
    feed.start()
    try:
        assert feed.connected.wait(10)
        wait_until(lambda: True, 0.5, "subscription")
        msgs = [
            (topic, b"a" * (MAX_PAYLOAD_BYTES + 1)),
            (topic, b"b" * MAX_PAYLOAD_BYTES),
            (topic, b"c" * (1 << 20)),
            (topic, b"d"),
        ]
        publish(mosquitto.url, msgs)
        wait_until(lambda: len(got) == 2, 10, "the two payloads within the cap")
        assert [r.payload[:1] for r in got] == [b"b", b"d"]
        assert feed.oversized == 2
    finally:
        feed.stop()
