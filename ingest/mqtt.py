"""The ingest's only paho-mqtt module: connect, subscribe, hand off, acknowledge.

Callbacks do nothing but wrap each message in a frozen ``RawMessage`` and hand
it to the pipeline; everything else happens on the service's threads. paho runs
its own network thread (``connect_async`` + ``loop_start``) and reconnects by
itself, so a broker outage never ends the process.

Acknowledgements are manual (``manual_ack=True``): the service calls ``ack``
once a message's point is durable.
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from core.messages import RawMessage
from core.timeutil import utcnow
from ingest.config import IngestSettings, MqttProtocol
from ingest.pipeline import Delivery

log = logging.getLogger(__name__)

QOS = 1


class MqttSubscriber:
    def __init__(
        self,
        settings: IngestSettings,
        hand_off: Callable[[Delivery], None],
        *,
        on_state: Callable[[bool], None] = lambda connected: None,
    ):
        self.settings = settings
        self._hand_off = hand_off
        self._on_state = on_state
        self._lock = threading.Lock()
        self._epoch = 0
        self._connected = False
        self._accepting = True
        self.stale_acks = 0
        self.connected_event = threading.Event()
        v5 = settings.protocol is MqttProtocol.V5
        self._v5 = v5
        if v5:
            client = paho.Client(
                CallbackAPIVersion.VERSION2,
                client_id=settings.client_id,
                protocol=paho.MQTTv5,
                manual_ack=True,
            )
        else:
            client = paho.Client(
                CallbackAPIVersion.VERSION2,
                client_id=settings.client_id,
                protocol=paho.MQTTv311,
                clean_session=False,
                manual_ack=True,
            )
        if settings.username is not None:
            client.username_pw_set(
                settings.username,
                settings.password.get_secret_value() if settings.password else None,
            )
        if settings.broker.tls:
            client.tls_set(
                ca_certs=str(settings.ca_file) if settings.ca_file else None,
                certfile=str(settings.client_cert) if settings.client_cert else None,
                keyfile=str(settings.client_key) if settings.client_key else None,
                cert_reqs=ssl.CERT_REQUIRED,
            )
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        self._client = client

    # ---- lifecycle -----------------------------------------------------
    def start(self) -> None:
        broker = self.settings.broker
        if self._v5:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = self.settings.session_expiry_s
            # The broker may have this many unacknowledged messages out to us.
            # It must exceed a batch, or batches would wait for their timer.
            props.ReceiveMaximum = self.settings.receive_maximum
            self._client.connect_async(
                broker.host,
                broker.port,
                keepalive=self.settings.keepalive_s,
                clean_start=False,
                properties=props,
            )
        else:
            self._client.connect_async(
                broker.host, broker.port, keepalive=self.settings.keepalive_s
            )
        self._client.loop_start()

    def stop_accepting(self) -> None:
        """Ignore messages from now on; unacknowledged, the broker keeps them."""
        self._accepting = False

    def disconnect(self) -> None:
        # PUBACKs already queued go out before the DISCONNECT (paho keeps order).
        self._accepting = False
        self._client.disconnect()
        self._client.loop_stop()

    @property
    def connected(self) -> bool:
        return self._connected

    # ---- acknowledgements ----------------------------------------------
    def ack(self, delivery: Delivery) -> bool:
        raw = delivery.raw
        if raw.qos == 0:
            return True
        with self._lock:
            if delivery.epoch != self._epoch or not self._connected:
                # Received on an earlier connection: the broker resends it with
                # the same packet id, so acking now could hit a different message.
                self.stale_acks += 1
                return False
            self._client.ack(raw.mid, raw.qos)
        return True

    # ---- callbacks: decode and hand off only ---------------------------
    def _on_connect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.ConnectFlags,
        reason_code: Any,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            log.error(
                "event=mqtt_refused reason=%s broker=%s", reason_code, self.settings.broker_url
            )
            return
        with self._lock:
            self._epoch += 1
            self._connected = True
        self.connected_event.set()
        self._on_state(True)
        log.info(
            "event=mqtt_connected broker=%s client_id=%s session_present=%s",
            self.settings.broker_url,
            self.settings.client_id,
            flags.session_present,
        )
        # Subscribing again on a resumed session is harmless; with MQTT 5 it
        # does not replay retained messages (retain handling 1).
        if self._v5:
            opts = SubscribeOptions(qos=QOS, retainHandling=SubscribeOptions.RETAIN_SEND_IF_NEW_SUB)
            client.subscribe([(f, opts) for f in self.settings.subscriptions()])
        else:
            client.subscribe([(f, QOS) for f in self.settings.subscriptions()])

    def _on_subscribe(
        self,
        client: paho.Client,
        userdata: Any,
        mid: int,
        reason_codes: list[Any],
        properties: Properties | None,
    ) -> None:
        failed = [str(rc) for rc in reason_codes if rc.is_failure]
        if failed:
            log.error("event=mqtt_subscribe_refused reasons=%s", ",".join(failed))

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: Any,
        reason_code: Any,
        properties: Properties | None,
    ) -> None:
        with self._lock:
            self._epoch += 1
            self._connected = False
        self.connected_event.clear()
        self._on_state(False)
        if self._accepting:
            log.warning("event=mqtt_disconnected reason=%s (reconnecting)", reason_code)

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        if not self._accepting:
            return
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            topic = bytes(msg._topic).decode("utf-8", errors="replace")
        self._hand_off(
            Delivery(
                RawMessage(
                    topic=topic,
                    payload=bytes(msg.payload),
                    qos=msg.qos,
                    retain=bool(msg.retain),
                    mid=msg.mid,
                    received_at=utcnow(),
                ),
                self._epoch,
            )
        )
