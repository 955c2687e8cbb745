"""Backfill into the real SQLite store: the stored points reproduce the truth and
are the very points the ingest would store for the live messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from core.calendar import opening_intervals
from core.messages import Presence
from core.registry import Site
from simulators.backfill import backfill
from simulators.publisher import message_stream
from simulators.scenario import Fault, FaultKind, Scenario
from simulators.truth import occupied_seconds
from storage.base import PRESENCE, SENSOR_HEALTH, StoreUnavailable
from storage.points import presence_point
from storage.sqlite import SQLiteStore

DAY = (
    datetime(2026, 3, 2, 22, tzinfo=UTC),
    datetime(2026, 3, 3, 22, tzinfo=UTC),
)  # Tue 3 March, local


def _occupied_from_points(
    frame: pd.DataFrame, windows: list[tuple[datetime, datetime]]
) -> dict[str, float]:
    """Independent integration: a state holds from one point to the next of its space."""
    out: dict[str, float] = {}
    for space, g in frame.sort_values("time").groupby("space"):
        times = [t.to_pydatetime() for t in g["time"]]
        occ = g["occupied"].astype(int).tolist()
        total = 0.0
        for i in range(len(times) - 1):
            if not occ[i]:
                continue
            for lo, hi in windows:
                a, b = max(times[i], lo), min(times[i + 1], hi)
                if a < b:
                    total += (b - a).total_seconds()
        out[str(space)] = total
    return out


def test_backfill_reproduces_the_truth(example_site: Site, tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "sim.db")
    sc = Scenario(seed=21).without_faults()
    result = backfill(example_site, sc, store, *DAY)
    assert result.truth is not None
    assert store.count(PRESENCE) == result.changes + result.heartbeats
    frame = store.read(PRESENCE, start=DAY[0], end=DAY[1])
    windows = list(opening_intervals(example_site, *DAY))
    measured = _occupied_from_points(frame, windows)
    want = occupied_seconds(result.truth, start=DAY[0], end=DAY[1], windows=windows)
    assert sum(want.values()) > 100 * 3600  # a real working day
    for space, seconds in want.items():
        assert abs(measured.get(space, 0.0) - seconds) < 1e-3, space
    # sensor health: one report per agent per hour, every sensor in it
    assert store.count(SENSOR_HEALTH) == 24 * len(example_site.spaces)
    store.close()


def test_backfilled_points_equal_the_ingest_points(example_site: Site, tmp_path: Path) -> None:
    start, end = datetime(2026, 3, 3, 7, tzinfo=UTC), datetime(2026, 3, 3, 9, tzinfo=UTC)
    sc = Scenario(
        seed=8,
        faults=[
            Fault(kind=FaultKind.CLOCK_SKEW, target="agent-f2", start=start, end=end, param=30.0),
        ],
    )
    store = SQLiteStore(tmp_path / "sim.db")
    backfill(example_site, sc, store, start, end)
    stored = store.read(
        PRESENCE, start=datetime(2026, 3, 3, tzinfo=UTC), end=datetime(2026, 3, 4, tzinfo=UTC)
    )
    got = {
        (
            r.space,
            r.time.value,
            int(r.occupied),
            int(r.seq),
            r.sensor,
            r.agent,
            r.kind,
            float(r.hb),
            None if pd.isna(r["count"]) else int(r["count"]),
        )
        for _, r in stored.iterrows()
    }
    want = set()
    for msg in message_stream(example_site, sc, start, end):
        if msg.kind != "presence":
            continue
        p = presence_point(example_site, Presence.model_validate(json.loads(msg.payload)))
        f = p.fields
        want.add(
            (
                p.tags["space"],
                p.time_ns,
                f["occupied"],
                f["seq"],
                f["sensor"],
                f["agent"],
                f["kind"],
                f["hb"],
                f.get("count"),
            )
        )
    assert got == want
    store.close()


class _FailingStore(SQLiteStore):
    """A real SQLite store that turns unavailable after its first bulk write."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.bulk_writes = 0

    def write_columns(self, measurement: str, **columns: object) -> None:  # type: ignore[override]
        self.bulk_writes += 1
        if self.bulk_writes > 1:
            raise StoreUnavailable("disk gone")
        super().write_columns(measurement, **columns)  # type: ignore[arg-type]


def test_a_store_error_in_the_writer_thread_reaches_the_caller(
    example_site: Site, tmp_path: Path
) -> None:
    store = _FailingStore(tmp_path / "sim.db")
    with pytest.raises(StoreUnavailable, match="disk gone"):
        backfill(example_site, Scenario(seed=2), store, DAY[0], DAY[0] + timedelta(days=5))
    # the writes stopped at the first error, and what was written before it is there
    assert store.bulk_writes == 2
    assert store.count(PRESENCE) > 0
    store.close()
