"""The API's MQTT feed for live occupancy (the only module here importing paho).

Callbacks only wrap the message and hand it to a queue; a worker thread
decodes it and updates the live boards. The session is not persistent: live
state needs only what happens from now on, and the store seeds the rest.
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading
import uuid
from collections.abc import Callable

import paho.mqtt.client as mqtt

from core.broker_url import parse_broker_url
from core.messages import RawMessage
from core.timeutil import utcnow

log = logging.getLogger(__name__)

#: The contract's payloads are well under this; the ingest and the broker
#: (``message_size_limit`` in deploy/mosquitto/mosquitto.conf) use the same cap.
MAX_PAYLOAD_BYTES = 64 << 10


class LiveFeed:
    def __init__(
        self,
        *,
        url: str,
        topics: list[str],
        handler: Callable[[RawMessage], None],
        protocol: str = "5",
        username: str | None = None,
        password: str | None = None,
        ca_file: str | None = None,
        max_payload_bytes: int = MAX_PAYLOAD_BYTES,
    ):
        self._addr = parse_broker_url(url)
        self._max_payload = max_payload_bytes
        # Dropped before the queue: 100,000 queued 1 MB payloads would be 100 GB.
        self.oversized = 0
        self._topics = topics
        self._handler = handler
        self._queue: queue.Queue[RawMessage | None] = queue.Queue(maxsize=100_000)
        self.connected = threading.Event()
        proto = mqtt.MQTTv5 if protocol == "5" else mqtt.MQTTv311
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"occupancy-api-{uuid.uuid4().hex[:8]}",
            protocol=proto,
        )
        if username:
            self._client.username_pw_set(username, password)
        if self._addr.tls:
            self._client.tls_set(ca_certs=ca_file, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.reconnect_delay_set(1, 30)
        self._worker = threading.Thread(target=self._work, name="api-live-feed", daemon=True)

    def start(self) -> None:
        self._worker.start()
        self._client.connect_async(self._addr.host, self._addr.port, keepalive=30)
        self._client.loop_start()

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
        self._queue.put(None)
        self._worker.join(5)

    def _on_connect(self, client, _userdata, _flags, reason_code, _props=None):
        if reason_code.is_failure:
            log.warning("live feed: broker refused connection: %s", reason_code)
            return
        for t in self._topics:
            client.subscribe(t, qos=1)
        self.connected.set()
        log.info("live feed connected to %s:%s", self._addr.host, self._addr.port)

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _props=None):
        self.connected.clear()
        if reason_code != 0:
            log.warning("live feed disconnected (%s); reconnecting", reason_code)

    def _on_message(self, _client, _userdata, msg):
        if len(msg.payload) > self._max_payload:
            self.oversized += 1
            if self.oversized == 1 or self.oversized % 1000 == 0:
                log.warning(
                    "live feed: dropped %d payload(s) over %d bytes (last on %s)",
                    self.oversized, self._max_payload, msg.topic,
                )  # fmt: skip
            return
        raw = RawMessage(msg.topic, msg.payload, msg.qos, msg.retain, msg.mid, utcnow())
        try:
            self._queue.put_nowait(raw)
        except queue.Full:  # live view only: the store remains complete
            log.warning("live feed queue full; dropping a live update")

    def _work(self) -> None:
        while True:
            raw = self._queue.get()
            if raw is None:
                return
            try:
                self._handler(raw)
            except Exception:  # never let one message stop the live view
                log.exception("live feed: could not apply message on %s", raw.topic)
