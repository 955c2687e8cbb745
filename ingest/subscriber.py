"""``MqttSubscriber``: the service's side of the MQTT receiver process.

It starts the receiver (``ingest.mqtt``, the only module importing paho),
turns each chunk it ships into ``Delivery`` objects for the pipeline, keeps
the count of payload bytes held, and sends the acknowledgements back. See
``ingest.mqtt`` for why the receiver is a process of its own and how memory
stays bounded.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path

from core.messages import RawMessage
from ingest.config import IngestSettings
from ingest.pipeline import Delivery

log = logging.getLogger(__name__)

# Each receiver started by one subscriber numbers its connections from
# generation * _EPOCH_SPAN, so an acknowledgement meant for a connection of an
# earlier receiver can never match a later one.
_EPOCH_SPAN = 1 << 32
_RECEIVER_MAIN = "from ingest.mqtt import receiver_main; receiver_main()"
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)


def _from_epoch(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class MqttSubscriber:
    """The service's handle on the receiver process.

    ``hand_off(deliveries)`` is called on a thread of this object with each
    chunk of received messages, in arrival order. ``on_acked(n)`` reports
    messages whose PUBACK the receiver has handed to paho.
    """

    def __init__(
        self,
        settings: IngestSettings,
        hand_off: Callable[[list[Delivery]], None],
        *,
        on_state: Callable[[bool], None] = lambda connected: None,
        on_acked: Callable[[int], None] = lambda n: None,
        on_inflight: Callable[[int], None] = lambda n: None,
        on_published: Callable[[int, int], None] = lambda ok, failed: None,
    ):
        self.settings = settings
        self._hand_off = hand_off
        self._on_state = on_state
        self._on_acked = on_acked
        self._on_inflight = on_inflight
        self._on_published = on_published
        self._held_lock = threading.Lock()
        self._held_bytes = 0
        self._send_lock = threading.Lock()
        self._conn: Connection | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._generation = 0
        self._epoch = -1
        self._connected = False
        self._accepting = True
        self._closing = False
        self._gone = threading.Event()
        self.stale_acks = 0
        self.connected_event = threading.Event()
        # Set once the receiver has subscribed, or its first connection
        # attempt has failed: what ``IngestService.start`` waits for.
        self.settled_event = threading.Event()

    # ---- lifecycle -----------------------------------------------------
    def start(self) -> None:
        """Start the receiver; returns at once (it connects in the background)."""
        self._spawn()
        self._reader = threading.Thread(target=self._read_loop, name="ingest-receiver", daemon=True)
        self._reader.start()

    def _spawn(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH", "")) if p
        )
        fd = theirs.fileno()
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _RECEIVER_MAIN, str(fd)],
            pass_fds=(fd,),
            env=env,
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        self._conn = Connection(ours.detach())
        self._gone.clear()
        self._send(("start", self.settings, self._generation * _EPOCH_SPAN))

    def stop_accepting(self) -> None:
        """Ignore messages from now on; unacknowledged, the broker keeps them."""
        self._accepting = False
        with contextlib.suppress(OSError):
            self._send(("stop_accepting",))

    def disconnect(self, timeout: float = 10.0) -> None:
        """Acknowledgements already sent go out before the DISCONNECT (one
        socket, read in order); then the receiver exits."""
        self._accepting = False
        self._closing = True
        with contextlib.suppress(OSError):
            self._send(("disconnect",))
        self._gone.wait(timeout)
        proc = self._proc
        if proc is not None:
            try:
                proc.wait(max(1.0, timeout / 2))
            except subprocess.TimeoutExpired:
                log.error("event=receiver_kill pid=%d (did not exit)", proc.pid)
                proc.kill()
                proc.wait()
        if self._reader is not None:
            self._reader.join(5)
        if self._conn is not None:
            self._conn.close()

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    # ---- acknowledgements ----------------------------------------------
    def ack(self, deliveries: Sequence[Delivery]) -> None:
        """Acknowledge ``deliveries`` in this order: one message to the receiver
        per run of the same connection. QoS 0 messages need none."""
        released = self._release(deliveries)
        qos0 = 0
        runs: list[tuple[int, list[int]]] = []
        for d in deliveries:
            raw = d.raw
            if raw.qos == 0:
                qos0 += 1
            elif runs and runs[-1][0] == d.epoch:
                runs[-1][1].append(raw.mid)
            else:
                runs.append((d.epoch, [raw.mid]))
        if qos0:
            self._on_acked(qos0)
        for epoch, mids in runs:
            if epoch != self._epoch or not self._connected:
                # Received on an earlier connection: the broker resends it with
                # the same packet id, so acking now could hit a different message.
                self.stale_acks += len(mids)
                continue
            try:
                # The released bytes ride on the batch's first ack message.
                self._send(("ack", epoch, mids, released))
                released = 0
            except OSError:
                self.stale_acks += len(mids)  # the receiver is gone; so is its connection
        if released:
            with contextlib.suppress(OSError):
                self._send(("release", released))

    def publish(self, messages: list[tuple[str, bytes]]) -> None:
        """Publish (topic, payload) pairs at QoS 1 through the receiver; its
        report of how many paho took comes back to ``on_published``."""
        try:
            self._send(("publish", messages))
        except OSError:
            self._on_published(0, len(messages))

    # ---- the byte bound -------------------------------------------------
    @property
    def held_bytes(self) -> int:
        return self._held_bytes

    def _hold(self, n: int) -> None:
        with self._held_lock:
            self._held_bytes += n
            held = self._held_bytes
        self._on_inflight(held)

    def _release(self, deliveries: Sequence[Delivery]) -> int:
        """The bytes the receiver may read again: only those of its own
        generation (an earlier receiver's messages were never on its count)."""
        total = mine = 0
        generation = self._generation
        for d in deliveries:
            n = len(d.raw.payload)
            total += n
            if d.epoch // _EPOCH_SPAN == generation:
                mine += n
        with self._held_lock:
            self._held_bytes -= total
            held = self._held_bytes
        self._on_inflight(held)
        return mine

    def _send(self, item: object) -> None:
        conn = self._conn
        if conn is None:
            raise OSError("receiver not started")
        with self._send_lock:
            conn.send(item)

    # ---- the receiver's reports ----------------------------------------
    def _read_loop(self) -> None:
        while True:
            self._read_until_gone()
            self._set_state(False, self._epoch)
            self._gone.set()
            if self._closing:
                return
            code = self._proc.wait() if self._proc is not None else None
            log.error("event=receiver_exited code=%s (restarting in 1 s)", code)
            time.sleep(1.0)
            if self._closing:
                return
            self._generation += 1
            try:
                self._spawn()
            except OSError:
                log.exception("event=receiver_start_failed")

    def _read_until_gone(self) -> None:
        conn = self._conn
        assert conn is not None
        hand_off = self._hand_off
        while True:
            try:
                item = conn.recv()
            except (EOFError, OSError):
                return
            kind = item[0]
            if kind == "msgs":
                if self._accepting:
                    stamp = _from_epoch
                    chunk = [
                        Delivery(RawMessage(t, p, q, r, m, stamp(ts)), e, n)
                        for t, p, q, r, m, ts, e, n in item[1]
                    ]
                    self._hold(sum(len(d.raw.payload) for d in chunk))
                    hand_off(chunk)
            elif kind == "acked":
                self._on_acked(item[1])
            elif kind == "published":
                self._on_published(item[1], item[2])
            elif kind == "stale":
                self.stale_acks += item[1]
            elif kind == "state":
                self._set_state(item[1], item[2])
            elif kind in ("subscribed", "connect_failed"):
                self.settled_event.set()
            elif kind == "log":
                log.log(item[1], "%s", item[2])
            elif kind == "bye":
                return

    def _set_state(self, up: bool, epoch: int) -> None:
        self._epoch = epoch
        self._connected = up
        if up:
            self.connected_event.set()
        else:
            self.connected_event.clear()
        self._on_state(up)
