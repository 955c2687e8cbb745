"""The edge agent's only paho-mqtt module: connections to the broker and to zigbee2mqtt.

Callbacks run on paho's network thread and only hand events to the agent's
queue (connected, disconnected, acknowledged mid, message); all decisions are
made on the agent's main loop. Connections use ``connect_async`` +
``loop_start`` so paho keeps reconnecting with backoff while the broker is away.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import ssl
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from core.timeutil import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Connected:
    link: str


@dataclass(frozen=True, slots=True)
class Disconnected:
    link: str
    reason: str


@dataclass(frozen=True, slots=True)
class Acked:
    mid: int


@dataclass(frozen=True, slots=True)
class Incoming:
    link: str
    topic: str
    payload: bytes
    received_at: datetime


LinkEvent = Connected | Disconnected | Acked | Incoming


@dataclass(frozen=True, slots=True)
class Endpoint:
    host: str
    port: int
    tls: bool = False
    ca_file: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    username: str | None = None
    password: str | None = None
    keepalive_s: int = 30
    reconnect_max_s: float = 60.0


class MqttLink:
    """One broker connection. ``publish`` may be called from the agent's thread."""

    def __init__(
        self,
        name: str,
        endpoint: Endpoint,
        client_id: str,
        events: queue.Queue[Any],
        *,
        will: tuple[str, bytes] | None = None,
        subscriptions: list[str] | None = None,
    ):
        self.name = name
        self.endpoint = endpoint
        self._events = events
        self._subscriptions = list(subscriptions or [])
        # clean session: the outbox, not the broker session, remembers what is unsent
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=True,
            protocol=mqtt.MQTTv311,
        )
        if endpoint.username is not None:
            client.username_pw_set(endpoint.username, endpoint.password)
        if endpoint.tls:
            client.tls_set(
                ca_certs=endpoint.ca_file,
                certfile=endpoint.client_cert,
                keyfile=endpoint.client_key,
                cert_reqs=ssl.CERT_REQUIRED,
            )
        if will is not None:
            client.will_set(will[0], will[1], qos=1, retain=True)
        client.reconnect_delay_set(min_delay=1, max_delay=max(1, int(endpoint.reconnect_max_s)))
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        self._client = client
        self.connected = False

    # ---- callbacks (network thread): decode and hand off only -------------
    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.warning("%s: broker refused the connection: %s", self.name, reason_code)
            return
        for topic in self._subscriptions:
            client.subscribe(topic, qos=1)
        self.connected = True
        self._events.put(Connected(self.name))

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.connected = False
        self._events.put(Disconnected(self.name, str(reason_code)))

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        self._events.put(Acked(mid))

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        refused = [str(rc) for rc in reason_codes if rc.is_failure]
        if refused:
            # e.g. the broker's ACL lacks the agent's 'stored' topic: no confirmation arrives
            log.warning("%s: broker refused a subscription (%s)", self.name, ", ".join(refused))

    def _on_message(self, client, userdata, message):
        self._events.put(Incoming(self.name, message.topic, bytes(message.payload), utcnow()))

    # ---- used by the agent ------------------------------------------------
    def start(self) -> None:
        self._client.connect_async(
            self.endpoint.host, self.endpoint.port, self.endpoint.keepalive_s
        )
        self._client.loop_start()

    def publish(
        self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False
    ) -> int | None:
        """Returns the message id, or None when it was not handed to the socket."""
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            return None
        return int(info.mid)

    def stop(self, *, last: tuple[str, bytes] | None = None, timeout: float = 3.0) -> None:
        """Disconnect cleanly, first publishing ``last`` (the retained offline status)."""
        if last is not None and self.connected:
            info = self._client.publish(last[0], last[1], qos=1, retain=True)
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout)
        self._client.disconnect()
        self._client.loop_stop()
