"""Backfill: months of simulated history written straight into a store.

The same engine as the live mode produces the same rows; instead of MQTT
messages they become store points of exactly the shape ``storage.points``
gives the ingest. By default they go in as columns (``Store.write_columns``,
one call per simulated day and measurement, no object per event); ``columnar=
False`` builds a ``Point`` per event instead (the benchmark's baseline, and the
check that both give the same store). Duplicated deliveries are written twice
(the point identity makes that harmless, as in production). The writes run in
a thread of their own, in order, while the next day is generated; the call
returns once every write is durable, and a store error ends it.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from core.registry import Site
from simulators.engine import Engine
from simulators.layout import build_layout, from_ms, to_ms
from simulators.messages import (
    ColumnFactory,
    PointFactory,
    health_parts,
    status_model,
    true_times,
)
from simulators.scenario import Scenario
from simulators.sensors import K_CHANGE, K_HEALTH, K_HEARTBEAT, K_STATUS_OFFLINE, K_STATUS_ONLINE
from simulators.truth import Truth, TruthCollector
from simulators.visits import counts_messages
from storage.base import PRESENCE, SENSOR_HEALTH, Point, Store
from storage.points import counts_point, status_point

#: progress(done, total) in simulated seconds
Progress = Callable[[float, float], None]


class _Writer:
    """Runs the store writes in a thread of their own, in the order given, so
    that the store's work (Parquet encoding, SQLite, HTTP: partly outside the
    GIL) overlaps the generation of the next day. At most ``depth`` writes wait;
    the first error stops the writing and is raised to the caller."""

    def __init__(self, depth: int = 2) -> None:
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="backfill-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            if self._error is None:
                try:
                    job()
                except BaseException as exc:  # handed to the caller's thread
                    self._error = exc

    def submit(self, job: Callable[[], None]) -> None:
        self._raise()
        self._jobs.put(job)

    def close(self) -> None:
        """Wait for the writes given so far, then raise the first error if any."""
        self._jobs.put(None)
        self._thread.join()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error


@dataclass
class BackfillResult:
    start: datetime
    end: datetime
    changes: int = 0
    heartbeats: int = 0
    health_reports: int = 0
    status: int = 0
    #: entrance counts reports (the door counter, simulators.visits)
    counts: int = 0
    points: int = 0
    writes: int = 0
    seconds: float = 0.0
    truth: Truth | None = None
    by_measurement: dict[str, int] = field(default_factory=dict)

    @property
    def events(self) -> int:
        """Messages an agent would have sent (presence + health + status + counts)."""
        return self.changes + self.heartbeats + self.health_reports + self.status + self.counts


def backfill(
    site: Site,
    scenario: Scenario,
    store: Store | None,
    start: datetime,
    end: datetime,
    *,
    progress: Progress | None = None,
    chunk_points: int = 100_000,
    chunk_rows: int = 1_000_000,
    build_points: bool = True,
    columnar: bool = True,
    collect: bool = True,
) -> BackfillResult:
    """Simulate [start, end) and write its points into ``store``.

    ``columnar`` writes columns of at most ``chunk_rows`` rows; otherwise points
    are built and written ``chunk_points`` at a time. ``store=None`` generates
    (and, with ``build_points``, builds the points or columns) without writing;
    ``build_points=False`` only generates - the benchmark's baseline.
    ``collect`` keeps the truth.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    if end <= start:
        raise ValueError(f"backfill range is empty: {start.isoformat()} .. {end.isoformat()}")
    t_wall = time.perf_counter()
    layout = build_layout(site, scenario)
    lo, hi = to_ms(start), to_ms(end)
    engine = Engine(layout, lo)
    collector = TruthCollector(layout, lo, hi) if collect else None
    factory = PointFactory(layout)
    columns = ColumnFactory(layout)
    result = BackfillResult(start=start, end=end)
    pending: list[Point] = []

    def count(measurement: str, n: int) -> None:
        result.points += n
        result.by_measurement[measurement] = result.by_measurement.get(measurement, 0) + n

    writer = _Writer() if store is not None else None

    def flush() -> None:
        if pending and writer is not None and store is not None:
            points = list(pending)
            writer.submit(lambda: store.write(points))
            result.writes += 1
        for p in pending:
            count(p.measurement, 1)
        pending.clear()

    def write_columns(measurement: str, cols: dict[str, Any]) -> None:
        if writer is not None and store is not None:
            writer.submit(lambda: store.write_columns(measurement, **cols))
            result.writes += 1
        count(measurement, len(cols["time_ns"]))

    try:
        for plan, e, t0, t1 in engine.windows(hi):
            if collector is not None:
                collector.add(plan)
            for msg in counts_messages(layout, plan, t0, t1):
                result.counts += 1
                if build_points:
                    pending.append(counts_point(site, msg))
            kind = e.kind
            presence = np.flatnonzero((kind == K_CHANGE) | (kind == K_HEARTBEAT))
            result.changes += int(np.count_nonzero(kind == K_CHANGE))
            result.heartbeats += int(np.count_nonzero(kind == K_HEARTBEAT))
            others = np.flatnonzero((kind != K_CHANGE) & (kind != K_HEARTBEAT))
            if build_points and columnar:
                for a in range(0, len(presence), chunk_rows):
                    write_columns(PRESENCE, columns.presence(e, presence[a : a + chunk_rows]))
            elif build_points:
                # presence in chunks so memory stays bounded for big sites
                for a in range(0, len(presence), chunk_points):
                    pending.extend(factory.presence(e, presence[a : a + chunk_points]))
                    if len(pending) >= chunk_points:
                        flush()
            truth_t = true_times(plan, e) if len(others) else e.event
            reports: list[tuple[int, int, int, tuple[np.ndarray, ...]]] = []
            for i in others.tolist():
                k = int(kind[i])
                if k == K_HEALTH:
                    result.health_reports += 1
                    if not build_points:
                        continue
                    t_true = int(truth_t[i])
                    if columnar:
                        agent = int(e.agent[i])
                        parts = health_parts(layout, plan, agent, t_true)
                        reports.append((int(e.event[i]), t_true, agent, parts))
                        pending.append(columns.agent_health(plan, e, i, lo, t_true=t_true))
                    else:
                        pending.extend(factory.health(plan, e, i, lo, t_true=t_true))
                elif k in (K_STATUS_ONLINE, K_STATUS_OFFLINE):
                    result.status += 1
                    if build_points:
                        pending.append(
                            status_point(
                                site, status_model(layout, e, i), received_at=from_ms(int(e.pub[i]))
                            )
                        )
            if reports:
                write_columns(SENSOR_HEALTH, columns.sensor_health(reports))
            if len(pending) >= chunk_points or (columnar and pending):
                flush()
            if progress is not None:
                progress((engine.cursor - lo) / 1000, (hi - lo) / 1000)
        flush()
    except BaseException:
        if writer is not None:
            with suppress(BaseException):  # the first error is the one to see
                writer.close()
        raise
    if writer is not None:
        writer.close()  # every write durable (or its error raised) before returning
    if collector is not None:
        result.truth = collector.truth(engine.series)
    result.seconds = time.perf_counter() - t_wall
    return result
