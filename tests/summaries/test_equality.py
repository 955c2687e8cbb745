"""Summaries against the raw recompute, exact: the simulator's faulty backfill
of the example site over the spring DST change and Easter (Good Friday and
Easter Monday are public holidays), written through a marking SQLite store;
every day summarised; then every report input (day cells, hour cells, the
daily peaks of every stored combination) and every report table read from
summaries equals the one recomputed from raw points, to the last bit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from core.calendar import local_day_bounds
from core.registry import Site
from metrics.cells import sort_cells
from metrics.utilisation import BUCKETS, GROUPINGS, heatmap_from_cells, utilisation_from_cells
from simulators.backfill import backfill
from simulators.scenario import Fault, FaultKind, Scenario
from storage.base import AGENT_STATUS, PRESENCE, Point
from storage.marks import MarkingStore
from storage.sqlite import SQLiteStore
from summaries.compute import ALL, peak_combinations
from summaries.reader import PeriodData
from summaries.summariser import SummaryParams, refresh_site, site_status
from tests.summaries.test_groups import assert_group_rows_equal

FIRST, LAST = date(2026, 3, 27), date(2026, 4, 7)
NOW = datetime(2026, 4, 9, 12, tzinfo=UTC)


def scenario() -> Scenario:
    night = datetime(2026, 3, 31, 19, tzinfo=UTC)
    return Scenario(
        seed=7,
        faults=[
            Fault(
                kind=FaultKind.DUPLICATES,
                target="agent-f1",
                start=night,
                end=night + timedelta(hours=20),
            ),
            Fault(
                kind=FaultKind.OUT_OF_ORDER,
                target="agent-f2",
                start=night,
                end=night + timedelta(hours=20),
            ),
            # offline across local midnight: the carried state matters
            Fault(
                kind=FaultKind.AGENT_OFFLINE,
                target="agent-f4",
                start=night,
                end=night + timedelta(hours=14),
            ),
        ],
    )


@pytest.fixture(scope="module")
def world(
    example_site: Site, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Site, MarkingStore]:
    path: Path = tmp_path_factory.mktemp("summaries") / "occ.db"
    store = MarkingStore(SQLiteStore(path), {example_site.id: example_site.tz})
    start = local_day_bounds(example_site, FIRST)[0]
    end = local_day_bounds(example_site, LAST)[1]
    backfill(example_site, scenario(), store, start, end, collect=False)
    return example_site, store


def period(site: Site, store: MarkingStore, source: str, params: SummaryParams) -> PeriodData:
    return PeriodData(
        store=store,
        site=site,
        start=local_day_bounds(site, FIRST)[0],
        end=local_day_bounds(site, LAST)[1],
        params=params,
        source=source,  # type: ignore[arg-type]
        now=NOW,
    )


def assert_same_inputs(site: Site, a: PeriodData, b: PeriodData) -> None:
    pd.testing.assert_frame_equal(a.presence_pairs(), b.presence_pairs(), check_exact=True)
    pd.testing.assert_frame_equal(
        sort_cells(a.day_cells(), site), sort_cells(b.day_cells(), site), check_exact=True
    )
    pd.testing.assert_frame_equal(
        sort_cells(a.hour_cells(), site), sort_cells(b.hour_cells(), site), check_exact=True
    )
    types = [None, *sorted({s.type.value for s in site.spaces})]
    views = [ALL, *(ag.id for ag in site.agencies)]
    for level in GROUPINGS:
        for t in types:
            for view in views:
                got = a.daily_peaks(level=level, types=t, view=view)
                want = b.daily_peaks(level=level, types=t, view=view)
                pd.testing.assert_frame_equal(
                    got, want, check_exact=True, obj=f"{level}/{t}/{view}"
                )
    assert_group_rows_equal(site, a, b)


def assert_same_tables(site: Site, a: PeriodData, b: PeriodData) -> None:
    for by in GROUPINGS:
        for bucket in (None, *BUCKETS):
            cells_a = a.hour_cells() if bucket == "hour" else a.day_cells()
            cells_b = b.hour_cells() if bucket == "hour" else b.day_cells()
            pd.testing.assert_frame_equal(
                utilisation_from_cells(cells=cells_a, site=site, by=by, bucket=bucket),
                utilisation_from_cells(cells=cells_b, site=site, by=by, bucket=bucket),
                check_exact=True,
                obj=f"utilisation {by}/{bucket}",
            )
    pd.testing.assert_frame_equal(
        heatmap_from_cells(cells=a.hour_cells(), site=site),
        heatmap_from_cells(cells=b.hour_cells(), site=site),
        check_exact=True,
    )


@pytest.mark.parametrize("merge_gap_s", [0.0, 600.0])
def test_summaries_equal_raw(world: tuple[Site, MarkingStore], merge_gap_s: float) -> None:
    site, store = world
    params = SummaryParams(merge_gap_s=merge_gap_s)
    # the backfill marked its days; nothing is summarised for these parameters yet
    assert site_status(store, site, params, now=NOW).dirty[:1] == [FIRST]
    done = refresh_site(store, site, params, now=NOW)
    assert done[0] == FIRST and LAST in done
    assert site_status(store, site, params, now=NOW).dirty == []
    summ, raw = period(site, store, "summaries", params), period(site, store, "raw", params)
    assert_same_inputs(site, summ, raw)
    assert_same_tables(site, summ, raw)
    meta = summ.meta()
    assert meta["days_from_summaries"] == (LAST - FIRST).days + 1, meta
    assert meta["days_from_raw"] == [] and meta["stale_days"] == []
    assert raw.meta()["days_from_summaries"] == 0


def test_every_combination_is_stored(world: tuple[Site, MarkingStore]) -> None:
    site, _ = world
    combos = peak_combinations(site)
    assert len(combos) == len(set(combos))
    assert ("site", "desk", site.agencies[0].id) in combos


def test_late_message_marks_its_day_and_the_next_cycle_reflects_it(
    world: tuple[Site, MarkingStore],
) -> None:
    site, store = world
    params = SummaryParams()
    refresh_site(store, site, params, now=NOW)
    desk = next(s for s in site.spaces if s.type.value == "desk" and s.sensor is not None)
    day = date(2026, 4, 1)
    at = local_day_bounds(site, day)[0] + timedelta(
        hours=5, minutes=3
    )  # 05:03 local: before opening
    before = period(site, store, "summaries", params).day_cells()
    # a late "occupied" from an edge outbox, 07:00-07:45 local; the desk's own
    # heartbeats then say what they said before
    late = [
        Point(
            PRESENCE,
            site.space_tags(desk.id),
            {"occupied": 1, "hb": 3600.0, "seq": 1},
            int(pd.Timestamp(at + timedelta(hours=2)).value),
        ),
    ]
    store.write(late)
    assert day in site_status(store, site, params, now=NOW).dirty
    # before the summariser runs, the report reads that day from raw points: live and exact
    mid = period(site, store, "summaries", params)
    assert mid.meta()["stale_days"] == [day.isoformat()]
    assert_same_inputs(site, mid, period(site, store, "raw", params))
    done = refresh_site(store, site, params, now=NOW)
    assert day in done
    after = period(site, store, "summaries", params)
    assert after.meta()["stale_days"] == []
    assert_same_inputs(site, after, period(site, store, "raw", params))
    row = lambda f: f[(f["space"] == desk.id) & (pd.to_datetime(f["day"]).dt.date == day)]  # noqa: E731
    assert int(row(after.day_cells())["occupied_ns"].iloc[0]) != int(
        row(before)["occupied_ns"].iloc[0]
    )


def test_offline_status_late_cascades_into_the_next_day(world: tuple[Site, MarkingStore]) -> None:
    site, store = world
    params = SummaryParams()
    refresh_site(store, site, params, now=NOW)
    agent = sorted(site.agents())[0]
    day = date(2026, 4, 2)
    at = local_day_bounds(site, day)[1] - timedelta(minutes=1)  # 23:59 local
    store.write(
        [
            Point(
                AGENT_STATUS,
                {"site": site.id, "agent": agent},
                {"online": 0},
                int(pd.Timestamp(at).value),
            )
        ]
    )
    done = refresh_site(store, site, params, now=NOW)
    # the carried state of 2 April changed, so 3 April was recomputed too
    assert done[:2] == [day, day + timedelta(days=1)], done
    assert_same_inputs(
        site, period(site, store, "summaries", params), period(site, store, "raw", params)
    )
