"""Batching and making batches durable: store first, spool when it is down.

A ``Batch`` collects the points and dead letters of consecutive messages, in
the order they arrived. ``BatchWriter.commit`` returns only once the whole
batch is durable (points in the store or in the spool, dead letters in their
file); then, and only then, the service acknowledges its messages, in order.

While the spool holds anything, new batches are appended behind it rather than
written straight to the store, so replay keeps the arrival order.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from core.timeutil import utcnow
from ingest.deadletters import (
    DeadLetter,
    DeadLetterFile,
    DeadLetterPoints,
    DeadLetterWriteFailed,
    RateLimitedLog,
)
from ingest.metrics import IngestMetrics
from ingest.pipeline import Delivery, Reason, Receipt
from ingest.spool import Spool, SpoolFull, encode_points
from storage.base import (
    DEAD_LETTERS,
    PartialWriteError,
    Point,
    Store,
    StoreError,
    StoreUnavailable,
)

log = logging.getLogger(__name__)


@dataclass
class Batch:
    """Messages gathered for one write. ``origins[i]`` is the index in
    ``deliveries`` of the message that produced ``points[i]``."""

    started: float = field(default_factory=time.monotonic)
    points: list[Point] = field(default_factory=list)
    origins: list[int] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    # Presence messages to confirm to their agents once the batch is durable.
    receipts: list[Receipt] = field(default_factory=list)
    # Made once, so a retried commit writes the same dead-letter points (same
    # identities, overwriting themselves) and files each dead letter once.
    dead_points: list[Point] | None = None
    letters_filed: bool = False

    def add(
        self, delivery: Delivery, points: Sequence[Point], receipt: Receipt | None = None
    ) -> None:
        i = len(self.deliveries)
        self.deliveries.append(delivery)
        self.points.extend(points)
        self.origins.extend([i] * len(points))
        if receipt is not None:
            self.receipts.append(receipt)

    def add_dead(
        self, delivery: Delivery, letter: DeadLetter, receipt: Receipt | None = None
    ) -> None:
        self.deliveries.append(delivery)
        self.dead_letters.append(letter)
        if receipt is not None:
            self.receipts.append(receipt)

    def full(self, max_points: int) -> bool:
        return len(self.points) >= max_points or len(self.deliveries) >= max_points

    def due(self, max_delay_s: float, now: float) -> bool:
        return bool(self.deliveries) and now - self.started >= max_delay_s

    def __len__(self) -> int:
        return len(self.deliveries)


class Abandoned(Exception):
    """The batch could not be made durable before the caller gave up (stop with a timeout)."""


class StoreRefuses(StoreUnavailable):
    """The store refused a whole write for a reason that is not the data's
    (authentication, missing database): handled like an outage, so nothing is lost."""


class BatchWriter:
    def __init__(
        self,
        *,
        store: Store,
        spool: Spool,
        dead_file: DeadLetterFile,
        metrics: IngestMetrics,
        replica: str,
        dead_letters_to_store: bool = True,
        retry_s: float = 2.0,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.store = store
        self.spool = spool
        self.dead_file = dead_file
        self.metrics = metrics
        self.dead_points = DeadLetterPoints(replica=replica)
        self.dead_letters_to_store = dead_letters_to_store
        self.retry_s = retry_s
        self.clock = clock
        self.dead_log = RateLimitedLog(logging.getLogger("ingest.deadletters"))
        self._store_was_up = True
        self._next_replay = 0.0
        metrics.spool_bytes.set(spool.size_bytes)
        metrics.spool_batches.set(spool.batches)
        metrics.store_up.set(1)

    # ---- one batch -----------------------------------------------------
    def commit(self, batch: Batch, *, give_up: Callable[[], bool] = lambda: False) -> None:
        """Make ``batch`` durable; raises ``Abandoned`` when ``give_up()`` turns true first."""
        t0 = time.monotonic()
        points = list(batch.points)
        if self.dead_letters_to_store and batch.dead_letters:
            if batch.dead_points is None:
                batch.dead_points = self.dead_points.points(batch.dead_letters)
            points.extend(batch.dead_points)
        rejected = self._durable(points, give_up) if points else []
        letters = list(batch.dead_letters)
        for idx, error in rejected:
            if idx < len(batch.points):
                raw = batch.deliveries[batch.origins[idx]].raw
                letters.append(
                    DeadLetter(
                        Reason.STORE_REJECTED.value,
                        error,
                        raw.topic,
                        raw.payload,
                        raw.received_at or self.clock(),
                    )
                )
            else:
                log.error("event=dead_letter_point_rejected error=%s", error)
        if not batch.letters_filed:
            self.record_dead_letters(letters)
            batch.letters_filed = True
        self.metrics.batch_seconds.observe(time.monotonic() - t0)
        self.metrics.batch_points.observe(len(batch.points))

    def record_dead_letters(self, letters: Sequence[DeadLetter]) -> None:
        if not letters:
            return
        try:
            self.dead_file.append(letters)
        except DeadLetterWriteFailed as exc:
            # Never let bad input's record hold good messages back: count it,
            # say it (rate-limited), and let the batch be acknowledged.
            self.metrics.dead_letters_dropped.labels("write_failed").inc(exc.unwritten)
            self.dead_log.warning(
                "write_failed", "event=dead_letter_write_failed unwritten=%d error=%s",
                exc.unwritten, exc,
            )  # fmt: skip
        for letter in letters:
            self.metrics.dead_letters.labels(letter.reason).inc()
            self.dead_log.warning(
                letter.reason,
                "event=dead_letter reason=%s topic=%s error=%s",
                letter.reason,
                letter.topic,
                letter.error,
            )

    def _durable(self, points: list[Point], give_up: Callable[[], bool]) -> list[tuple[int, str]]:
        """Store or spool ``points``; returns (index, error) of points the store refused."""
        while True:
            if self.spool.empty:
                try:
                    rejected = self._write_checked(points)
                    self._mark_store(up=True)
                    self._relieved()
                    return rejected
                except StoreUnavailable as exc:
                    self._mark_store(up=False, error=exc)
            try:
                size = self.spool.append(points)
            except SpoolFull as exc:
                # Over the size limit, or the disk refused the append (ENOSPC):
                # the batch is not durable, so its messages stay unacknowledged
                # and the broker keeps them.
                if not self.metrics.value("ingest_backpressure"):
                    log.warning("event=backpressure acks_held=true reason=%s", exc)
                self.metrics.backpressure.set(1)
                # The store may be back: draining the spool makes room (and is
                # the only way out while the disk stays full).
                drained = self.replay(give_up=give_up, force=True)
                if give_up():
                    raise Abandoned(str(exc)) from None
                if not (drained and self._store_was_up):
                    self._sleep(self.retry_s, give_up)
                continue
            self._relieved()
            self.metrics.spooled.inc(len(points))
            self.metrics.spool_bytes.set(self.spool.size_bytes)
            self.metrics.spool_batches.set(self.spool.batches)
            log.debug("event=spooled points=%d bytes=%d", len(points), size)
            # Points appended behind a backlog: try to drain it straight away
            # if the store looks up, so the spool does not lag behind forever.
            if self._store_was_up:
                self.replay(give_up=give_up)
            return []

    def _relieved(self) -> None:
        if self.metrics.value("ingest_backpressure"):
            log.info("event=backpressure_over")
            self.metrics.backpressure.set(0)

    def _sleep(self, seconds: float, give_up: Callable[[], bool]) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not give_up():
            time.sleep(min(0.1, seconds))

    # ---- store writes --------------------------------------------------
    def _write_checked(self, points: list[Point]) -> list[tuple[int, str]]:
        """Write; returns (index, reason) of the points the store refused as bad data."""
        try:
            self.store.write(points)
        except PartialWriteError as exc:
            index = {id(p): i for i, p in enumerate(points)}
            rejected = [
                (index[id(r.point)] if id(r.point) in index else points.index(r.point), r.reason)
                for r in exc.rejected
            ]
            refused = {i for i, _ in rejected}
            self._written([p for i, p in enumerate(points) if i not in refused])
            return rejected
        except StoreUnavailable:
            raise
        except StoreError as exc:
            # Not about particular points (authentication, a missing database):
            # dead-lettering would throw good data away, so keep it and retry.
            raise StoreRefuses(str(exc)) from exc
        self._written(points)
        return []

    def _written(self, points: Sequence[Point]) -> None:
        self.metrics.written.inc(len(points))
        now_ns = time.time_ns()
        observe = self.metrics.lag_seconds.observe
        for p in points:
            if p.measurement != DEAD_LETTERS:
                observe((now_ns - p.time_ns) / 1e9)

    def _mark_store(self, *, up: bool, error: Exception | None = None) -> None:
        if up != self._store_was_up:
            if up:
                log.info("event=store_up")
            elif isinstance(error, StoreRefuses):
                log.error("event=store_refuses error=%s (batches go to the spool)", error)
            else:
                log.warning("event=store_down error=%s (batches go to the spool)", error)
        self._store_was_up = up
        self.metrics.store_up.set(1 if up else 0)

    # ---- spool replay --------------------------------------------------
    def replay(self, *, give_up: Callable[[], bool] = lambda: False, force: bool = False) -> bool:
        """Write spooled batches to the store, oldest first; True once the spool is empty.

        Without ``force``, a store that just failed is retried only every ``retry_s``.
        """
        if self.spool.empty:
            return True
        now = time.monotonic()
        if not force and not self._store_was_up and now < self._next_replay:
            return False
        self._next_replay = now + self.retry_s
        while (segment := self.spool.oldest()) is not None:
            for points in self.spool.read(segment):
                if give_up():
                    return False
                try:
                    rejected = self._write_checked(points)
                except StoreUnavailable as exc:
                    self._mark_store(up=False, error=exc)
                    return False
                self._mark_store(up=True)
                letters = [
                    DeadLetter(
                        Reason.STORE_REJECTED.value,
                        error,
                        "(spool)",
                        encode_points([points[i]]),
                        self.clock(),
                    )
                    for i, error in rejected
                ]
                self.record_dead_letters(letters)
            self.spool.remove(segment)
            self.metrics.spool_bytes.set(self.spool.size_bytes)
            self.metrics.spool_batches.set(self.spool.batches)
        log.info("event=spool_replayed")
        return True
