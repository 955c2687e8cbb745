"""15-minute utilisation rollups and efficiency points, and the whole path from
a real InfluxDB (the session's ``influx`` fixture) through the metrics and back."""

from __future__ import annotations

import uuid
from typing import Any

import pandas as pd

from metrics import (
    clip_to_opening,
    efficiency_points,
    efficiency_report,
    state_intervals,
    utilisation_points,
    utilisation_rollup,
)
from storage.base import PRESENCE, Point
from storage.influx import InfluxStore
from tests.metrics import worked_day
from tests.metrics.conftest import local, make_site, presence, utc
from tests.servers import InfluxServer


def _site():
    return make_site(spaces=[{"id": "d1"}, {"id": "d2"}], opening=worked_day.OFFICE_HOURS)


def _clipped(site, frame):
    start, end = worked_day.DAY_START, worked_day.DAY_END
    iv = state_intervals(presence=frame, status=None, site=site, start=start, end=end)
    return clip_to_opening(intervals=iv, site=site, start=start, end=end)


ROWS = [
    (local("2026-03-02 07:00"), "d1", 0),
    (local("2026-03-02 08:10"), "d1", 1),
    (local("2026-03-02 08:20"), "d1", 0),
]


def test_quarter_hour_rollup_by_hand() -> None:
    """docs/metrics.md, "Rollups": d1 occupied 08:10-08:20 local. Bucket 08:00
    (06:00 UTC) holds 08:10-08:15 = 300 s, bucket 08:15 holds 08:15-08:20 = 300 s.
    d2 sent nothing: opening 900 s, observed 0 in every bucket. 08:00-16:00 is
    32 buckets per space."""
    site = _site()
    roll = utilisation_rollup(intervals=_clipped(site, presence(site, ROWS)))
    assert len(roll) == 64
    d1 = roll[roll["space"] == "d1"].set_index("time")
    assert d1.at[utc("2026-03-02 06:00"), "occupied_s"] == 300.0
    assert d1.at[utc("2026-03-02 06:15"), "occupied_s"] == 300.0
    assert d1["occupied_s"].sum() == 600.0
    assert set(d1["opening_s"]) == {900.0}
    assert set(d1["observed_s"]) == {900.0}
    d2 = roll[roll["space"] == "d2"]
    assert set(d2["observed_s"]) == {0.0}
    assert d2["opening_s"].sum() == 28_800.0

    points = utilisation_points(rollup=roll, site=site)
    first = points[0]
    assert first.measurement == "utilisation"
    assert dict(first.tags) == {
        "site": "testsite",
        "floor": "f1",
        "zone": "z",
        "space": "d1",
        "space_type": "desk",
    }
    assert first.time_ns == int(utc("2026-03-02 06:00").value)
    assert dict(first.fields) == {"occupied_s": 300.0, "opening_s": 900.0, "observed_s": 900.0}


def test_rollup_rerun_is_idempotent_in_influxdb(influx: InfluxServer) -> None:
    """Writing the same rollup twice leaves 64 points, not 128, and 600 s."""
    site = _site()
    db = f"metrics_{uuid.uuid4().hex[:8]}"
    points = utilisation_points(
        rollup=utilisation_rollup(intervals=_clipped(site, presence(site, ROWS))), site=site
    )
    with InfluxStore(influx.url, database=db) as store:
        store.write(points)
        store.write(points)
    got = influx.query("SELECT count(occupied_s), sum(occupied_s) FROM utilisation", db=db)
    values = got["results"][0]["series"][0]["values"][0]
    assert values[1:] == [64, 600.0]


def test_metrics_from_frames_read_back_from_influxdb(influx: InfluxServer) -> None:
    """The worked day written as presence points and read back with Store.read
    and Store.last gives the same figures as the hand-built frames."""
    site = worked_day.site()
    frame = worked_day.presence_frame(site)
    db = f"metrics_{uuid.uuid4().hex[:8]}"
    fields = ["occupied", "seq", "sensor", "agent", "kind", "hb"]
    points = [
        Point(
            PRESENCE,
            site.space_tags(row["space"]),
            {k: row[k] for k in fields},
            int(row["time"].value),
        )
        for row in frame.to_dict("records")
    ]
    start = local("2026-03-02 09:30")  # mid-morning: the state before must come from last()
    with InfluxStore(influx.url, database=db) as store:
        store.write(points)
        before = store.last(PRESENCE, by="space", before=start, where={"site": site.id})
        within = store.read(PRESENCE, start=start, end=worked_day.DAY_END, where={"site": site.id})
    from_store = pd.concat([before, within], ignore_index=True)
    by_hand = frame[frame["time"] >= start]
    by_hand = pd.concat(
        [frame[frame["time"] < start].groupby("space").tail(1), by_hand], ignore_index=True
    )
    args: dict[str, Any] = {
        "status": worked_day.status_frame(site),
        "site": site,
        "start": start,
        "end": worked_day.DAY_END,
    }
    a = state_intervals(presence=from_store, **args)
    b = state_intervals(presence=by_hand, **args)
    pd.testing.assert_frame_equal(a, b)
    # d1 is occupied from 09:30 (its 09:00 message came through last()).
    assert (a.iloc[0]["state"], a.iloc[0]["start"]) == ("occupied", start)


def test_efficiency_points() -> None:
    site = worked_day.site()
    clipped = clip_to_opening(
        intervals=state_intervals(
            presence=worked_day.presence_frame(site),
            status=None,
            site=site,
            start=worked_day.DAY_START,
            end=worked_day.DAY_END,
        ),
        site=site,
        start=worked_day.DAY_START,
        end=worked_day.DAY_END,
    )
    report = efficiency_report(intervals=clipped, site=site)
    points = efficiency_points(report=report, site=site, year=2026, month=3)
    assert [dict(p.tags) for p in points] == [
        {"site": "testsite", "agency": "a", "month": "2026-03"},
        {"site": "testsite", "agency": "_site", "month": "2026-03"},
    ]
    # Local month start, 1 March 2026 00:00 at UTC+2.
    assert {p.time_ns for p in points} == {int(utc("2026-02-28 22:00").value)}
    # Agency a (10 htv): its 10 m2 of desks plus all the other 90 m2 (the only
    # agency) = 100 m2, 10 m2/htv; d1 and d2 both in use 09:00-10:30 and the
    # shared d3 from 10:00, all of whose pool is a's (the only agency): peak 3.
    a = dict(points[0].fields)
    assert a["headcount_htv"] == 10.0
    assert a["m2_per_htv"] == 10.0
    assert a["peak_desks"] == 3.0
    assert a["use_rate"] == 0.3
    assert all(isinstance(v, float) for v in a.values())


def test_day_rollup_columns_are_the_points() -> None:
    """What the summariser writes as columns is, point for point, the
    utilisation, heatmap and peak points of the same intervals."""
    from metrics.peaks import daily_peaks
    from metrics.rollups import (
        PEAK_LEVELS,
        day_rollup_batches,
        heatmap_points,
        heatmap_rollup,
        peak_points,
    )

    site = _site()
    clipped = _clipped(site, presence(site, ROWS))
    roll = utilisation_rollup(intervals=clipped)
    want = utilisation_points(rollup=roll, site=site)
    want += heatmap_points(rows=heatmap_rollup(rollup=roll, site=site), site=site)
    for level in PEAK_LEVELS:
        want += peak_points(
            daily=daily_peaks(intervals=clipped, site=site, by=level), site=site, by=level
        )
    got = [p for b in day_rollup_batches(intervals=clipped, site=site) for p in b.points()]

    def key(p: Point) -> tuple[Any, ...]:
        return (p.measurement, sorted(p.tags.items()), sorted(p.fields.items()), p.time_ns)

    # 32 quarter hours x 2 spaces; 8 local hours of one zone and type; site and floor
    assert len(got) == len(want) == 64 + 8 + 2
    assert sorted(map(key, got)) == sorted(map(key, want))
