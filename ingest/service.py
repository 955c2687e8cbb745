"""``IngestService``: MQTT in, batched durable writes out, acknowledgements last.

Threads and processes (none of them global; ``occupancy up`` embeds the service):

* the receiver process (``ingest.mqtt``) runs paho; a thread of this process
  reads its chunks of messages and puts each chunk, as a list of ``Delivery``,
  on ``inbox``;
* the pipeline thread runs decode -> validate -> to point on each message and
  gathers a ``Batch`` (bounded by points and by age);
* the writer thread makes each batch durable (store, else spool), records its
  dead letters, then sends the receiver the acknowledgements of the whole
  batch, in arrival order, and the ``stored`` confirmations its agents are
  owed (``ingest.confirm``), and replays the spool whenever the store answers
  again.

Memory stays bounded without a bounded inbox: the broker sends at most its
in-flight window of unacknowledged messages (Receive Maximum for MQTT 5,
``max_inflight_messages`` for 3.1.1), the receiver stops reading once
``inflight_max_bytes`` of payload are held unacknowledged, payloads over
``max_payload_bytes`` arrive as excerpts, and nothing is acknowledged before it
is durable. When neither store nor spool takes a batch, acknowledgements stop and
the broker keeps the rest.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime
from types import FrameType
from typing import TYPE_CHECKING

from core.messages import RawMessage
from core.registry import Registry
from core.timeutil import utcnow
from ingest.batcher import Abandoned, Batch, BatchWriter
from ingest.config import IngestSettings
from ingest.confirm import Pending
from ingest.counts import CounterTotals
from ingest.deadletters import DeadLetter, DeadLetterFile, RateLimitedLog, excerpt_of
from ingest.metrics import IngestMetrics
from ingest.pipeline import (
    CountsRules,
    Delivery,
    Limits,
    PresenceTopics,
    Reason,
    Rejected,
    dead_receipt,
    process,
)
from ingest.spool import Spool
from storage.base import Store
from storage.marks import MarkingStore

if TYPE_CHECKING:
    from ingest.subscriber import MqttSubscriber

log = logging.getLogger(__name__)

_STOP = object()
START_WAIT_S = 10.0
# Put on the inbox by the writer when it runs out of work, to wake the pipeline.
_POKE = object()


class IngestService:
    def __init__(
        self,
        settings: IngestSettings,
        registry: Registry,
        store: Store,
        *,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.settings = settings
        self.registry = registry
        # Every raw write marks its local days for the summariser (storage/marks.py).
        self.store: Store = MarkingStore(store, {site.id: site.tz for site in registry})
        self.clock = clock
        self.topics = settings.topics
        self.limits = Limits(max_future=settings.max_future, max_age=settings.max_age)
        self.known = PresenceTopics(registry, settings.topics)
        # owned by the pipeline thread, the only caller of process()
        self.counts = CountsRules(settings.max_counts_per_minute, CounterTotals())
        self.metrics = IngestMetrics()
        self.metrics_port: int | None = None
        self.inbox: queue.SimpleQueue[list[Delivery] | object] = queue.SimpleQueue()
        # Two batches in hand: one being written, one being gathered.
        self._batches: queue.Queue[Batch | object] = queue.Queue(maxsize=2)
        self._spool: Spool | None = None
        self._dead_file: DeadLetterFile | None = None
        self._writer: BatchWriter | None = None
        self._mqtt: object | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._writer_idle = threading.Event()
        self._writer_idle.set()
        self._give_up = threading.Event()
        self._started = False
        self._stopped = threading.Event()
        self._confirm_log = RateLimitedLog(log)
        self._confirms = Pending(topics=self.topics, replica=settings.replica, clock=clock)

    # ---- lifecycle -----------------------------------------------------
    def start(self) -> None:
        """Open the spool, start threads and the receiver; returns once the
        receiver has subscribed, or failed its first attempt to connect (at
        most ``START_WAIT_S``).

        Raises ``SpoolLocked`` when another process holds the spool folder and
        ``OSError`` when the metrics port cannot be bound.
        """
        if self._started:
            raise RuntimeError("IngestService.start() called twice")
        self._started = True
        from ingest.subscriber import MqttSubscriber

        s = self.settings
        self._spool = Spool(
            s.spool_dir, max_bytes=s.spool_max_bytes, segment_bytes=s.spool_segment_bytes
        )
        self._dead_file = DeadLetterFile(
            s.dead_letter_dir,
            replica=s.replica,
            max_bytes=s.dead_letter_max_bytes,
            on_dropped=self.metrics.dead_letters_dropped.labels("rotated").inc,
        )
        self._writer = BatchWriter(
            store=self.store,
            spool=self._spool,
            dead_file=self._dead_file,
            metrics=self.metrics,
            replica=s.replica,
            dead_letters_to_store=s.dead_letters_to_store,
            retry_s=s.store_retry_s,
            clock=self.clock,
        )
        if s.metrics_port is not None:
            self.metrics_port = self.metrics.serve(s.metrics_host, s.metrics_port)
            log.info("event=metrics_listening host=%s port=%d", s.metrics_host, self.metrics_port)
        if not self._spool.empty:
            log.info(
                "event=spool_found batches=%d bytes=%d (replayed before new batches)",
                self._spool.batches,
                self._spool.size_bytes,
            )
        mqtt = MqttSubscriber(
            s,
            self.inbox.put,
            on_state=lambda up: self.metrics.mqtt_connected.set(int(up)),
            on_acked=self.metrics.acked.inc,
            on_inflight=self.metrics.inflight_bytes.set,
            on_published=self._count_published,
        )
        self._mqtt = mqtt
        self._threads = [
            threading.Thread(target=self._writer_loop, name="ingest-writer", daemon=True),
            threading.Thread(target=self._pipeline_loop, name="ingest-pipeline", daemon=True),
        ]
        for t in self._threads:
            t.start()
        mqtt.start()
        # The receiver is a new process (~0.5 s to start): wait until it has
        # subscribed, so a caller may publish as soon as start() returns without
        # a brand-new session missing anything. An unreachable broker ends the
        # wait at its first failed attempt (paho keeps retrying).
        if not mqtt.settled_event.wait(START_WAIT_S):
            log.warning("event=mqtt_not_subscribed_yet waited_s=%g", START_WAIT_S)
        log.info(
            "event=ingest_started broker=%s client_id=%s protocol=%s subscriptions=%s",
            s.broker_url,
            s.client_id,
            s.mqtt_protocol.value,
            ",".join(s.subscriptions()),
        )

    def wait_connected(self, timeout: float) -> bool:
        from ingest.subscriber import MqttSubscriber

        assert isinstance(self._mqtt, MqttSubscriber)
        return self._mqtt.connected_event.wait(timeout)

    @property
    def receiver_pid(self) -> int | None:
        """Process id of the paho receiver (``ingest.mqtt``), once started."""
        from ingest.subscriber import MqttSubscriber

        return self._mqtt.pid if isinstance(self._mqtt, MqttSubscriber) else None

    def stop(self, timeout: float = 10.0) -> bool:
        """Flush the pending batch, acknowledge what is durable, disconnect.

        Returns False when the last batches could not be made durable within
        ``timeout`` (store down and spool full): they stay unacknowledged, so the
        broker delivers them again to the next ingest.
        """
        if not self._started or self._stopped.is_set():
            return True
        from ingest.subscriber import MqttSubscriber

        mqtt = self._mqtt
        assert isinstance(mqtt, MqttSubscriber)
        deadline = time.monotonic() + timeout
        mqtt.stop_accepting()
        self._stopping.set()
        self.inbox.put(_STOP)
        clean = True
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
            if t.is_alive():
                clean = False
        if not clean:
            log.error("event=stop_timeout (unacknowledged messages stay with the broker)")
            self._give_up.set()
            for t in self._threads:
                t.join(5)
        mqtt.disconnect()
        self.metrics.close()
        if self._spool is not None:
            self._spool.close()
        if self._dead_file is not None:
            self._dead_file.close()
        self._stopped.set()
        log.info(
            "event=ingest_stopped received=%d written=%d acked=%d",
            self.metrics.value("ingest_messages_received_total"),
            self.metrics.value("ingest_points_written_total"),
            self.metrics.value("ingest_messages_acked_total"),
        )
        return clean

    def run_forever(self) -> None:
        """Start, then run until SIGTERM or SIGINT (the only place that installs handlers)."""
        done = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            log.info("event=signal signal=%s", signal.Signals(signum).name)
            done.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.start()
            while not done.wait(1.0):
                pass
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    # ---- pipeline thread -----------------------------------------------
    def _pipeline_loop(self) -> None:
        """Gather batches. A batch goes to the writer when it is full, when it is
        ``batch_max_delay_s`` old, or once it is ``batch_linger_s`` old while the
        writer is idle and no message is waiting: light traffic is then written
        within tens of milliseconds, while under load batches grow by
        themselves during each write."""
        s = self.settings
        inbox = self.inbox
        batch = Batch()
        while True:
            if not batch.deliveries:
                timeout = 0.5
            elif self._writer_idle.is_set():
                timeout = max(0.0, batch.started + s.batch_linger_s - time.monotonic())
            else:
                timeout = max(0.0, batch.started + s.batch_max_delay_s - time.monotonic())
            try:
                item = inbox.get(timeout=timeout)
            except queue.Empty:
                item = None
            if item is _STOP:
                break
            if type(item) is list:
                self.metrics.received.inc(len(item))
                for delivery in item:
                    if not batch.deliveries:
                        batch.started = time.monotonic()
                    self._handle(delivery, batch)
                    if batch.full(s.batch_max_points):
                        self._writer_idle.clear()
                        self._hand_to_writer(batch)
                        batch = Batch()
            if not batch.deliveries:
                continue
            if (
                batch.full(s.batch_max_points)
                or batch.due(s.batch_max_delay_s, time.monotonic())
                or (
                    self._writer_idle.is_set()
                    and inbox.empty()
                    and time.monotonic() - batch.started >= s.batch_linger_s
                )
            ):
                self._writer_idle.clear()
                self._hand_to_writer(batch)
                batch = Batch()
        if batch.deliveries:
            self._hand_to_writer(batch)
        self._hand_to_writer(_STOP)

    def _handle(self, delivery: Delivery, batch: Batch) -> None:
        raw = delivery.raw
        size = delivery.size if delivery.size >= 0 else len(raw.payload)
        cap = self.settings.max_payload_bytes
        if size > cap:
            excerpt = excerpt_of(raw.payload, self.settings.dead_letter_excerpt_bytes)
            error = f"payload of {size} bytes is over max_payload_bytes={cap}"
            letter = DeadLetter(
                Reason.PAYLOAD_TOO_LARGE.value, error, raw.topic, excerpt,
                raw.received_at or self.clock(), payload_bytes=size,
            )  # fmt: skip
            batch.add_dead(delivery, letter)
            return
        try:
            outcome = process(
                raw,
                topics=self.topics,
                registry=self.registry,
                limits=self.limits,
                now=self.clock(),
                known=self.known,
                counts=self.counts,
            )
        except Rejected as rej:
            receipt = dead_receipt(raw, known=self.known) if self.settings.confirm else None
            batch.add_dead(delivery, self._letter(raw, rej.reason.value, rej.detail), receipt)
            return
        except Exception as exc:  # the process never crashes on input
            log.exception("event=pipeline_error topic=%s", raw.topic)
            batch.add_dead(delivery, self._letter(raw, Reason.INTERNAL.value, repr(exc)))
            return
        if outcome.skipped:
            self.metrics.skipped.labels(outcome.skipped).inc()
        if outcome.counts_reset is not None:
            self.metrics.counts.inc()
            if outcome.counts_reset:
                self.metrics.counts_resets.inc()
        batch.add(delivery, outcome.points, outcome.receipt if self.settings.confirm else None)

    def _letter(self, raw: RawMessage, reason: str, error: str) -> DeadLetter:
        return DeadLetter(reason, error, raw.topic, raw.payload, raw.received_at or self.clock())

    def _hand_to_writer(self, item: Batch | object) -> None:
        while True:
            try:
                self._batches.put(item, timeout=0.5)
                return
            except queue.Full:
                if self._give_up.is_set():
                    return

    # ---- writer thread -------------------------------------------------
    def _writer_loop(self) -> None:
        from ingest.subscriber import MqttSubscriber

        writer = self._writer
        mqtt = self._mqtt
        assert writer is not None and isinstance(mqtt, MqttSubscriber)
        give_up = self._give_up.is_set
        # A restarted ingest replays its spool before anything new.
        with contextlib.suppress(Exception):
            writer.replay(give_up=give_up, force=True)
        while True:
            try:
                item = self._batches.get(timeout=0.5)
            except queue.Empty:
                if self._give_up.is_set():
                    return
                self._confirm(mqtt, idle=True)
                self._safe_replay(writer, give_up)
                continue
            if item is _STOP:
                self._confirm(mqtt, idle=True)
                return
            assert isinstance(item, Batch)
            if not self._commit(writer, item, give_up):
                return
            # One message to the receiver for the whole batch; the metric counts
            # them when the receiver reports the PUBACKs handed to paho.
            mqtt.ack(item.deliveries)
            if self.settings.confirm:
                self._confirms.add(item.receipts)
                # idle: nothing more waits to be written, so nothing to coalesce with
                self._confirm(mqtt, idle=self._batches.empty() and self.inbox.empty())
            self._safe_replay(writer, give_up)
            if self._batches.empty():
                self._writer_idle.set()
                self.inbox.put(_POKE)

    def _confirm(self, mqtt: MqttSubscriber, *, idle: bool) -> None:
        """Tell each agent which of its messages are now durable (ingest.confirm).

        After the acknowledgements, and whatever became of them: the batches
        are durable either way. Fire and forget: a confirmation that gets lost
        only means its agent sends those messages again (docs/edge.md)."""
        try:
            receipts, messages = self._confirms.take(idle=idle)
        except Exception:  # a bug here must not stop the writer; the agents resend
            log.exception("event=confirm_failed")
            return
        if messages:
            self.metrics.confirmed.inc(receipts)
            mqtt.publish(messages)

    def _count_published(self, ok: int, failed: int) -> None:
        self.metrics.confirmations.inc(ok)
        if failed:
            self.metrics.confirmations_failed.inc(failed)
            self._confirm_log.warning(
                "unpublished", "event=confirmations_not_published count=%d", failed
            )

    def _commit(self, writer: BatchWriter, batch: Batch, give_up: Callable[[], bool]) -> bool:
        """Retry until the batch is durable; False when told to give up."""
        while True:
            try:
                writer.commit(batch, give_up=give_up)
                return True
            except Abandoned:
                return False
            except Exception:
                # Not a store outage (commit handles those): a bug, or a full or
                # read-only disk for the spool or dead letters. Skipping the
                # batch would strand its messages unacknowledged in the broker's
                # window until the next reconnect, so it is retried.
                log.exception("event=commit_failed messages=%d (retrying)", len(batch))
                if give_up():
                    return False
                time.sleep(1.0)

    def _safe_replay(self, writer: BatchWriter, give_up: Callable[[], bool]) -> None:
        try:
            writer.replay(give_up=give_up)
        except Exception:
            log.exception("event=replay_failed")
