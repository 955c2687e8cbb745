"""The alerts' Prometheus metrics, on the process's default registry (served
by the API's ``/metrics``): ``alerts_firing``, ``alerts_transitions_total``,
``alerts_notifications_total`` and ``alerts_last_tick_timestamp_seconds``."""

from __future__ import annotations

import threading
from collections import Counter as Tally
from collections.abc import Iterable

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge


class AlertMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.firing = Gauge(
            "alerts_firing",
            "Open alerts (firing or acknowledged) per site and rule kind",
            ["site", "kind"],
            registry=registry,
        )
        self.transitions = Counter(
            "alerts_transitions",
            "Alert transitions (fired, resolved) per site and rule kind",
            ["site", "kind", "change"],
            registry=registry,
        )
        self.notifications = Counter(
            "alerts_notifications",
            "Notifications handed on, per channel (webhook, email) and outcome",
            ["channel", "outcome"],
            registry=registry,
        )
        self.last_tick = Gauge(
            "alerts_last_tick_timestamp_seconds",
            "When the alert engine last evaluated (Unix time)",
            registry=registry,
        )
        self._shown: set[tuple[str, str]] = set()

    def set_open(self, open_alerts: Iterable[tuple[str, str]]) -> None:
        """Set the open-alert gauges from (site, kind) pairs, zeroing those gone."""
        counts = Tally(open_alerts)
        for key in self._shown - set(counts):
            self.firing.labels(*key).set(0)
        for key, n in counts.items():
            self.firing.labels(*key).set(n)
        self._shown |= set(counts)


_DEFAULT: AlertMetrics | None = None
_LOCK = threading.Lock()


def default_metrics() -> AlertMetrics:
    """Created once per process (several apps in one process, as in tests, share it)."""
    global _DEFAULT
    with _LOCK:
        if _DEFAULT is None:
            _DEFAULT = AlertMetrics()
        return _DEFAULT
