"""The ingest's only paho-mqtt module: connect, subscribe, hand off, acknowledge.

paho runs in a child process of its own, the *receiver*, which does nothing
but receive messages and send acknowledgements. The service's process decodes,
validates, batches and writes. Why a process and not a thread: paho's receive
path is pure Python (~40 µs a message), and so are the pipeline steps; in one
process they take turns on the GIL, and the ingest reached only about half the
rate of a bare paho subscriber (see docs/ingest.md, "Throughput"). Split in
two, each process has a core's worth of Python of its own.

* ``MqttSubscriber`` (service side, ``ingest.subscriber``) starts the receiver, hands each chunk of
  received messages to the pipeline as ``Delivery`` objects, and sends it the
  acknowledgements of a whole batch at once.
* ``receiver_main`` (receiver side) runs paho (``connect_async`` +
  ``loop_start``; paho reconnects by itself, so a broker outage never ends the
  process). Its callback only appends a tuple to a buffer; the receiver's main
  thread ships the buffer to the service every few milliseconds and calls
  ``client.ack`` for each acknowledged packet id, in the order given.

Memory is bounded in bytes, not only in messages (issue 20: 1,000 x 1 MB
took the ingest to 1.5 GB). A payload over ``max_payload_bytes`` crosses to
the service as an excerpt with its real size, to be dead-lettered. The
receiver counts the payload bytes it has shipped and the service has not yet
released (acknowledged); above ``inflight_max_bytes`` the paho callback
waits before returning, so paho stops reading the socket and the broker
keeps the rest (TCP flow control). The wait is cut at half the keepalive, so
paho still sends its pings: while paused one message per half keepalive gets
through, and the broker's in-flight window bounds those.

Acknowledgements are manual (``manual_ack=True``): the service acknowledges a
message once its point is durable. The receiver leaves at once, acknowledging
nothing more, when the service's end of the socket closes (the service died):
the broker keeps every unacknowledged message for the next connection. The
same client publishes the service's ``stored`` confirmations to the agents
(QoS 1, paho's outgoing queue bounded).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import ssl
import sys
import threading
import time
from collections import deque
from multiprocessing.connection import Connection, wait
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from ingest.config import IngestSettings, MqttProtocol
from ingest.subscriber import MqttSubscriber

# ``MqttSubscriber`` lives in ``ingest.subscriber`` (no paho there); it is
# imported here too so that ``from ingest.mqtt import MqttSubscriber`` holds.
__all__ = ["MqttSubscriber", "receiver_main"]


QOS = 1
# While messages flow, the receiver ships its buffer this often (seconds): a
# chunk then holds tens of messages, so the cost of pickling and of a socket
# write is shared by all of them.
_SHIP_EVERY_S = 0.002
_IDLE_WAIT_S = 0.5


# ---- the receiver process ----------------------------------------------------
# Outgoing confirmations: unacknowledged at once, and held by paho at most (a
# broker away for long would otherwise grow paho's queue without bound).
_PUBLISH_INFLIGHT = 1000
_PUBLISH_QUEUED = 10_000


def receiver_main() -> None:
    """Entry point of the receiver process (argv[1]: the socket's descriptor)."""
    # Ctrl-C and a service manager's SIGTERM reach the whole process group; the
    # service decides when the receiver stops (after the last acknowledgements).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    conn = Connection(int(sys.argv[1]))
    try:
        _start, settings, epoch = conn.recv()
    except (EOFError, OSError):
        os._exit(0)
    _Receiver(settings, conn, epoch).run()
    os._exit(0)


def _paho_client(settings: IngestSettings) -> paho.Client:
    """A client with the session, credentials, TLS and queue bounds of the
    settings; its callbacks are the receiver's to set."""
    if settings.mqtt_protocol is MqttProtocol.V5:
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
    if settings.mqtt_username is not None:
        client.username_pw_set(
            settings.mqtt_username,
            settings.mqtt_password.get_secret_value() if settings.mqtt_password else None,
        )
    if settings.broker.tls:
        client.tls_set(
            ca_certs=str(settings.mqtt_ca_file) if settings.mqtt_ca_file else None,
            certfile=str(settings.mqtt_client_cert) if settings.mqtt_client_cert else None,
            keyfile=str(settings.mqtt_client_key) if settings.mqtt_client_key else None,
            cert_reqs=ssl.CERT_REQUIRED,
        )
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    client.max_inflight_messages_set(_PUBLISH_INFLIGHT)
    client.max_queued_messages_set(_PUBLISH_QUEUED)
    return client


class _Receiver:
    def __init__(self, settings: IngestSettings, conn: Connection, epoch: int):
        self.settings = settings
        self._conn = conn
        self._send_lock = threading.Lock()
        self._lock = threading.Lock()
        self._epoch = epoch
        self._connected = False
        self._accepting = True
        self._buffer: deque[tuple[str, bytes, int, bool, int, float, int, int]] = deque()
        self._shipping = False
        self._max_payload = settings.max_payload_bytes
        self._excerpt = settings.dead_letter_excerpt_bytes
        # Payload bytes shipped and not yet released by the service, and an
        # event set while they are under the budget (see the module doc).
        self._held = 0
        self._budget = settings.inflight_max_bytes
        self._may_read = threading.Event()
        self._may_read.set()
        self._pause_wait_s = settings.keepalive_s / 2
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._v5 = settings.mqtt_protocol is MqttProtocol.V5
        client = _paho_client(settings)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        client.on_connect_fail = self._on_connect_fail
        self._client = client

    def _send(self, item: object) -> None:
        with self._send_lock:
            self._conn.send(item)

    def _log(self, level: int, text: str) -> None:
        with contextlib.suppress(OSError):
            self._send(("log", level, text))

    def run(self) -> None:
        s = self.settings
        broker = s.broker
        if self._v5:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = s.session_expiry_s
            # The broker may have this many unacknowledged messages out to us.
            # It must exceed a batch, or batches would wait for their timer.
            props.ReceiveMaximum = s.receive_maximum
            self._client.connect_async(
                broker.host, broker.port, keepalive=s.keepalive_s, clean_start=False,
                properties=props,
            )  # fmt: skip
        else:
            self._client.connect_async(broker.host, broker.port, keepalive=s.keepalive_s)
        self._client.loop_start()
        conn = self._conn
        try:
            while True:
                timeout = _SHIP_EVERY_S if self._shipping else _IDLE_WAIT_S
                ready = wait([conn, self._wake_r], timeout)
                if self._wake_r in ready:
                    os.read(self._wake_r, 4096)
                if conn in ready:
                    try:
                        item = conn.recv()
                    except (EOFError, OSError):
                        return  # the service is gone: acknowledge nothing more
                    if not self._command(item):
                        return
                self._ship()
        finally:
            self._client.loop_stop()

    def _command(self, item: tuple[Any, ...]) -> bool:
        kind = item[0]
        if kind == "ack":
            self._ack(item[1], item[2])
            self._released(item[3])
        elif kind == "release":
            self._released(item[1])
        elif kind == "publish":
            self._publish(item[1])
        elif kind == "stop_accepting":
            self._accepting = False
            self._may_read.set()
        elif kind == "disconnect":
            self._accepting = False
            self._may_read.set()
            # PUBACKs already queued go out before the DISCONNECT (paho keeps order).
            self._client.disconnect()
            self._client.loop_stop()
            with contextlib.suppress(OSError):
                self._send(("bye",))
            return False
        return True

    def _ack(self, epoch: int, mids: list[int]) -> None:
        with self._lock:
            if epoch != self._epoch or not self._connected:
                stale = True
            else:
                stale = False
                ack = self._client.ack
                for mid in mids:
                    ack(mid, QOS)
        self._send(("stale" if stale else "acked", len(mids)))

    def _publish(self, messages: list[tuple[str, bytes]]) -> None:
        ok = 0
        for topic, payload in messages:
            # NO_CONN: paho keeps it and sends it once connected again
            rc = self._client.publish(topic, payload, qos=QOS).rc
            ok += rc in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_NO_CONN)
        with contextlib.suppress(OSError):
            self._send(("published", ok, len(messages) - ok))

    def _released(self, n: int) -> None:
        with self._lock:
            self._held -= n
            # Resume at half the budget, so reading does not flap per message.
            if self._held <= self._budget // 2:
                self._may_read.set()

    def _ship(self) -> None:
        buffer = self._buffer
        n = len(buffer)
        if n:
            popleft = buffer.popleft
            with contextlib.suppress(OSError):
                self._send(("msgs", [popleft() for _ in range(n)]))
            return
        # Nothing came in for a while: sleep until the callback wakes us. The
        # flag is cleared before the last look, so a message appended meanwhile
        # is either seen here or wakes us.
        self._shipping = False
        if buffer:
            self._shipping = True

    # ---- paho callbacks (the network thread): hand off only --------------
    def _on_connect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.ConnectFlags,
        reason_code: Any,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            self._log(
                logging.ERROR,
                f"event=mqtt_refused reason={reason_code} broker={self.settings.broker_url}",
            )
            with contextlib.suppress(OSError):
                self._send(("connect_failed",))
            return
        with self._lock:
            self._epoch += 1
            self._connected = True
            epoch = self._epoch
        with contextlib.suppress(OSError):
            self._send(("state", True, epoch))
        self._log(
            logging.INFO,
            f"event=mqtt_connected broker={self.settings.broker_url} "
            f"client_id={self.settings.client_id} session_present={flags.session_present}",
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
            self._log(logging.ERROR, f"event=mqtt_subscribe_refused reasons={','.join(failed)}")
        with contextlib.suppress(OSError):
            self._send(("subscribed",))

    def _on_connect_fail(self, client: paho.Client, userdata: Any) -> None:
        # paho retries by itself; the service only stops waiting for us.
        with contextlib.suppress(OSError):
            self._send(("connect_failed",))

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
            epoch = self._epoch
        with contextlib.suppress(OSError):
            self._send(("state", False, epoch))
        if self._accepting:
            self._log(
                logging.WARNING, f"event=mqtt_disconnected reason={reason_code} (reconnecting)"
            )

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        if not self._accepting:
            return
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            topic = bytes(msg._topic).decode("utf-8", errors="replace")
        size = len(msg.payload)
        # Over the cap only an excerpt crosses to the service (to be dead-lettered).
        payload = bytes(msg.payload[: self._excerpt] if size > self._max_payload else msg.payload)
        self._buffer.append(
            (topic, payload, msg.qos, bool(msg.retain), msg.mid, time.time(), self._epoch, size)
        )
        with self._lock:
            self._held += len(payload)
            if self._held > self._budget:
                self._may_read.clear()
        if not self._shipping:
            self._shipping = True
            with contextlib.suppress(BlockingIOError):
                os.write(self._wake_w, b"!")
        if not self._may_read.is_set():
            # Over the byte budget: holding paho's thread here stops it reading
            # the socket (see the module doc).
            self._may_read.wait(self._pause_wait_s)
