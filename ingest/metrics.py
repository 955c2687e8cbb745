"""Prometheus metrics of one ingest instance.

Each ``IngestMetrics`` owns its ``CollectorRegistry`` (no process-global
registry), so ``occupancy up`` can embed an ingest and tests can run several.
"""

from __future__ import annotations

import threading
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from ingest.pipeline import Reason

# Publish-to-store lag spans sub-second live traffic and hours of replayed
# outage, hence the wide buckets.
_LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400)
_BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class IngestMetrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.received = Counter("ingest_messages_received", "MQTT messages received.", registry=r)
        self.acked = Counter(
            "ingest_messages_acked", "Messages acknowledged to the broker (durable).", registry=r
        )
        self.written = Counter(
            "ingest_points_written", "Points written to the store (live or replayed).", registry=r
        )
        self.dead_letters = Counter(
            "ingest_dead_letters", "Messages dead-lettered, by reason.", ["reason"], registry=r
        )
        self.dead_letters_dropped = Counter(
            "ingest_dead_letters_dropped",
            "Dead-letter records not kept on file: 'rotated' (deleted to stay in "
            "dead_letter_max_bytes), 'write_failed' (the disk refused them).",
            ["cause"],
            registry=r,
        )
        self.inflight_bytes = Gauge(
            "ingest_inflight_bytes",
            "Payload bytes received and not yet acknowledged (bounded by inflight_max_bytes).",
            registry=r,
        )
        self.confirmations = Counter(
            "ingest_confirmations",
            "'stored' confirmations handed to the receiver to publish to the agents.",
            registry=r,
        )
        self.confirmations_failed = Counter(
            "ingest_confirmations_failed",
            "Confirmations not published (receiver gone, or its outgoing queue full); "
            "their agents send those messages again.",
            registry=r,
        )
        self.confirmed = Counter(
            "ingest_messages_confirmed",
            "Presence messages named in confirmations.",
            registry=r,
        )
        self.skipped = Counter(
            "ingest_messages_skipped",
            "Valid messages that carry nothing to store, by reason.",
            ["reason"],
            registry=r,
        )
        self.counts = Counter(
            "ingest_counts_messages",
            "Valid entrance_counts messages (people counters) turned into points.",
            registry=r,
        )
        self.counts_resets = Counter(
            "ingest_counts_resets",
            "Entrance counts stored with reset=1: the counter's running totals went backwards.",
            registry=r,
        )
        self.spooled = Counter(
            "ingest_points_spooled", "Points appended to the on-disk spool.", registry=r
        )
        self.spool_bytes = Gauge("ingest_spool_bytes", "Bytes held in the spool.", registry=r)
        self.spool_batches = Gauge("ingest_spool_batches", "Batches held in the spool.", registry=r)
        self.store_up = Gauge("ingest_store_up", "1 when the last store write worked.", registry=r)
        self.mqtt_connected = Gauge(
            "ingest_mqtt_connected", "1 while connected to the broker.", registry=r
        )
        self.backpressure = Gauge(
            "ingest_backpressure",
            "1 while acknowledgements are held because neither store nor spool takes data.",
            registry=r,
        )
        self.batch_seconds = Histogram(
            "ingest_batch_seconds",
            "Time to make one batch durable (store or spool write).",
            buckets=_BATCH_BUCKETS,
            registry=r,
        )
        self.batch_points = Histogram(
            "ingest_batch_points",
            "Points per batch.",
            buckets=(1, 10, 100, 500, 1000, 2000, 5000, 10000),
            registry=r,
        )
        self.lag_seconds = Histogram(
            "ingest_publish_to_store_seconds",
            "From a point's event time to its write into the store.",
            buckets=_LAG_BUCKETS,
            registry=r,
        )
        for reason in Reason:
            self.dead_letters.labels(reason.value)
        for cause in ("rotated", "write_failed"):
            self.dead_letters_dropped.labels(cause)
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def serve(self, host: str, port: int) -> int:
        """Start the /metrics endpoint; returns the port it listens on (0 picks one)."""
        server, thread = start_http_server(port, addr=host, registry=self.registry)
        self._server, self._thread = server, thread
        return int(server.server_address[1])

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def value(self, name: str, **labels: str) -> float:
        """Current value of a sample (for tests and the CLI's summary)."""
        v = self.registry.get_sample_value(name, labels or None)
        return float(v) if v is not None else 0.0
