"""The summariser as a background thread (inside the API and ``occupancy up``)
or as its own service (``occupancy summaries run``), with its Prometheus
metrics: ``summaries_dirty_days``, ``summaries_lag_seconds``,
``summaries_failures_total``, ``summaries_days_total``, and for raw retention
``summaries_held_days``, ``summaries_retention_waiting_days``,
``summaries_raw_pruned_days_total`` and ``summaries_raw_pruned_points_total``."""

from __future__ import annotations

import logging
import threading

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge

from core.registry import Site
from storage import Store
from summaries.presence import BookingSource, no_bookings
from summaries.summariser import Summariser, SummaryParams
from webhooks.events import EventSink

log = logging.getLogger(__name__)


class SummaryMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.dirty = Gauge(
            "summaries_dirty_days", "Closed days waiting to be summarised", registry=registry
        )
        self.lag = Gauge(
            "summaries_lag_seconds",
            "Seconds since the oldest dirty site was first seen dirty (0: up to date)",
            registry=registry,
        )
        self.failures = Counter(
            "summaries_failures", "Site refreshes that failed (retried)", registry=registry
        )
        self.days = Counter("summaries_days", "Days summarised", registry=registry)
        self.held = Gauge(
            "summaries_held_days",
            "Dirty days not recomputed because their raw points are gone (raw retention)",
            registry=registry,
        )
        self.waiting = Gauge(
            "summaries_retention_waiting_days",
            "Days beyond raw_retention_days without a valid summary",
            registry=registry,
        )
        self.pruned_days = Counter(
            "summaries_raw_pruned_days", "Days whose raw points were dropped", registry=registry
        )
        self.pruned_points = Counter(
            "summaries_raw_pruned_points", "Raw points deleted (SQLite)", registry=registry
        )
        self._seen = (0, 0, 0, 0)

    def update(self, s: Summariser) -> None:
        self.dirty.set(s.dirty_days())
        self.lag.set(s.lag_s())
        self.held.set(s.held_days())
        self.waiting.set(s.waiting_days())
        failures, days, pruned_days, pruned_points = self._seen
        self.failures.inc(s.failed_total - failures)
        self.days.inc(s.days_total - days)
        self.pruned_days.inc(s.pruned_days_total - pruned_days)
        self.pruned_points.inc(s.pruned_points_total - pruned_points)
        self._seen = (s.failed_total, s.days_total, s.pruned_days_total, s.pruned_points_total)


_DEFAULT: SummaryMetrics | None = None
_LOCK = threading.Lock()


def default_metrics() -> SummaryMetrics:
    """The metrics on the process's default registry, created once (several
    apps in one process, as in tests, share them)."""
    global _DEFAULT
    with _LOCK:
        if _DEFAULT is None:
            _DEFAULT = SummaryMetrics()
        return _DEFAULT


class SummariserThread(threading.Thread):
    """Runs a cycle at start, then every ``interval_s`` seconds, until stopped."""

    def __init__(
        self,
        store: Store,
        sites: list[Site],
        params: SummaryParams,
        *,
        interval_s: float,
        metrics: SummaryMetrics | None = None,
        raw_retention_days: int | None = None,
        events: EventSink | None = None,
        bookings: BookingSource = no_bookings,
    ) -> None:
        super().__init__(name="summariser", daemon=True)
        self.summariser = Summariser(
            store=store,
            sites=sites,
            params=params,
            interval_s=interval_s,
            raw_retention_days=raw_retention_days,
            on_cycle=metrics.update if metrics is not None else None,
            events=events,
            bookings=bookings,
        )
        self.interval_s = interval_s
        self.stopped = threading.Event()
        self.cycles = 0

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.summariser.cycle()
            except Exception:  # a bug must not end the thread; the next cycle retries
                log.exception("summariser cycle failed")
            self.cycles += 1
            self.stopped.wait(self.interval_s)

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=30)
