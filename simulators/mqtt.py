"""The simulator's only paho-mqtt module: one MQTT connection per simulated agent.

Each agent has its own connection so that each has its own Last Will (the
retained ``offline`` status), exactly like a real edge agent. Callbacks only
hand events off; the simulator thread decides what to do about them.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
from collections.abc import Callable

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from core.broker_url import parse_broker_url

log = logging.getLogger(__name__)

#: on_event(agent_id, "connected" | "disconnected")
EventSink = Callable[[str, str], None]


def probe_broker(url: str, timeout: float = 3.0) -> None:
    """Raise ``OSError`` unless something accepts TCP connections at the broker URL."""
    addr = parse_broker_url(url)
    with socket.create_connection((addr.host, addr.port), timeout):
        pass


class AgentLink:
    def __init__(
        self,
        *,
        agent_id: str,
        client_id: str,
        url: str,
        protocol: str,
        will_topic: str,
        will_payload: bytes,
        qos: int = 1,
        keepalive_s: int = 30,
        username: str | None = None,
        password: str | None = None,
        ca_file: str | None = None,
        max_inflight: int = 100,
        on_event: EventSink | None = None,
    ):
        self.agent_id = agent_id
        self.client_id = client_id
        addr = parse_broker_url(url)
        self.host, self.port, self.tls = addr.host, addr.port, addr.tls
        self.protocol = paho.MQTTv5 if protocol == "5" else paho.MQTTv311
        self.will = (will_topic, will_payload)
        self.qos = qos
        self.keepalive_s = keepalive_s
        self.username = username
        self.password = password
        self.ca_file = ca_file
        self.max_inflight = max_inflight
        self.on_event = on_event
        self._client: paho.Client | None = None

    def _new_client(self) -> paho.Client:
        kwargs: dict[str, object] = {
            "callback_api_version": CallbackAPIVersion.VERSION2,
            "client_id": self.client_id,
            "protocol": self.protocol,
        }
        if self.protocol != paho.MQTTv5:
            kwargs["clean_session"] = True
        client = paho.Client(**kwargs)  # type: ignore[arg-type]
        client.will_set(self.will[0], self.will[1], qos=self.qos, retain=True)
        if self.username:
            client.username_pw_set(self.username, self.password)
        if self.tls:
            client.tls_set(ca_certs=self.ca_file, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.max_inflight_messages_set(self.max_inflight)
        client.reconnect_delay_set(1, 30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        return client

    def _on_connect(
        self, client: paho.Client, userdata: object, flags: object, rc: object, props: object = None
    ) -> None:
        if getattr(rc, "is_failure", False):
            log.warning("agent %s: broker refused the connection: %s", self.agent_id, rc)
            return
        if self.on_event is not None:
            self.on_event(self.agent_id, "connected")

    def _on_disconnect(
        self, client: paho.Client, userdata: object, flags: object, rc: object, props: object = None
    ) -> None:
        if self.on_event is not None:
            self.on_event(self.agent_id, "disconnected")

    def connect(self) -> None:
        """Start connecting in the background (paho retries until it gets through)."""
        self._client = self._new_client()
        self._client.connect_async(self.host, self.port, keepalive=self.keepalive_s)
        self._client.loop_start()

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.is_connected()

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Queue a message; QoS 1 messages wait in paho until the broker acknowledges."""
        if self._client is None:
            return
        self._client.publish(topic, payload, qos=self.qos, retain=retain)

    def crash(self) -> None:
        """Drop the connection without DISCONNECT, like a power cut: the broker
        then publishes the Last Will. The client is discarded (no reconnect)."""
        client, self._client = self._client, None
        if client is None:
            return
        client.loop_stop()
        sock = client.socket()
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    def close(self, final: tuple[str, bytes] | None = None, timeout: float = 5.0) -> None:
        """Orderly shutdown: publish ``final`` (the retained offline status) and disconnect."""
        client, self._client = self._client, None
        if client is None:
            return
        if final is not None and client.is_connected():
            info = client.publish(final[0], final[1], qos=self.qos, retain=True)
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout)
        client.disconnect()
        client.loop_stop()

    def pending(self) -> int:
        """Messages not yet acknowledged by the broker (paho's outgoing queue)."""
        client = self._client
        if client is None:
            return 0
        return len(getattr(client, "_out_messages", {}))
