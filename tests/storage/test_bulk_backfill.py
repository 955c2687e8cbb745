"""The bulk path on its real workload: the simulator's backfill written through
``write_columns`` leaves the same store as written point by point (``write``),
on SQLite and on the real InfluxDB, faults included (duplicates, out of order,
clock skew, a silent sensor, an agent offline)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from core.registry import Site
from simulators.backfill import backfill
from simulators.scenario import Fault, FaultKind, Scenario
from storage.base import AGENT_HEALTH, AGENT_STATUS, PRESENCE, SENSOR_HEALTH, Store
from storage.influx import InfluxStore
from storage.sqlite import SQLiteStore
from tests.servers import InfluxServer

START = datetime(2026, 3, 3, 6, tzinfo=UTC)
END = datetime(2026, 3, 3, 12, tzinfo=UTC)
MEASUREMENTS = (PRESENCE, SENSOR_HEALTH, AGENT_HEALTH, AGENT_STATUS)


def scenario() -> Scenario:
    return Scenario(
        seed=5,
        faults=[
            Fault(kind=FaultKind.DUPLICATES, target="agent-f1", start=START, end=END),
            Fault(kind=FaultKind.OUT_OF_ORDER, target="agent-f2", start=START, end=END),
            Fault(kind=FaultKind.CLOCK_SKEW, target="agent-f3", start=START, end=END, param=40.0),
            Fault(
                kind=FaultKind.AGENT_OFFLINE,
                target="agent-f4",
                start=datetime(2026, 3, 3, 8, tzinfo=UTC),
                end=datetime(2026, 3, 3, 9, tzinfo=UTC),
            ),
        ],
    )


def compare(site: Site, columns: Store, points: Store) -> None:
    sc = scenario()
    a = backfill(site, sc, columns, START, END, collect=False)
    b = backfill(site, sc, points, START, END, collect=False, columnar=False)
    assert a.points == b.points and a.by_measurement == b.by_measurement
    # hourly reports of every sensor, but for the hour agent-f4 (87 sensors) is offline
    assert a.by_measurement[SENSOR_HEALTH] == 6 * len(site.spaces) - 87
    for m in MEASUREMENTS:
        got = columns.read(m, start=START, end=END)
        want = points.read(m, start=START, end=END)
        assert len(want) > 0, m
        pd.testing.assert_frame_equal(got, want, obj=m)


def test_sqlite_columns_equal_points(example_site: Site, tmp_path: Path) -> None:
    a, b = SQLiteStore(tmp_path / "columns.db"), SQLiteStore(tmp_path / "points.db")
    try:
        compare(example_site, a, b)
    finally:
        a.close()
        b.close()


def test_sqlite_column_blocks_equal_points(example_site: Site, tmp_path: Path) -> None:
    """The same with every ``write_columns`` kept as a column block, and the
    latest point per space read back alike."""
    a = SQLiteStore(tmp_path / "blocks.db", block_rows=1)
    b = SQLiteStore(tmp_path / "points.db")
    try:
        compare(example_site, a, b)
        for m in MEASUREMENTS:
            pd.testing.assert_frame_equal(a.last(m, by="agent"), b.last(m, by="agent"), obj=m)
            assert a.count(m) == b.count(m)
        pd.testing.assert_frame_equal(
            a.last(PRESENCE, by="space", before=END - timedelta(hours=2)),
            b.last(PRESENCE, by="space", before=END - timedelta(hours=2)),
        )
        assert a.count(PRESENCE, where={"floor": "2"}) == b.count(PRESENCE, where={"floor": "2"})
    finally:
        a.close()
        b.close()


def test_influx_columns_equal_points(example_site: Site, influx: InfluxServer) -> None:
    a = InfluxStore(influx.url, database=f"test_{uuid.uuid4().hex[:12]}")
    b = InfluxStore(influx.url, database=f"test_{uuid.uuid4().hex[:12]}")
    try:
        compare(example_site, a, b)
    finally:
        for store in (a, b):
            store.drop_database()
            store.close()
