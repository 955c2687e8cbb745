"""Raw retention with the summariser and the reader, on SQLite (B-tree rows and
column blocks) and on the real InfluxDB: the simulator's backfill of the small
site, Monday 2 to Friday 6 March 2026 (the agent offline across the night into
Thursday 5th), every day summarised but the first; then with
``raw_retention_days`` = 4 on 9 March (the horizon: 5 March) a summariser
cycle drops the raw points of 3 and 4 March, and keeps those of 2 March (no
summary yet) and of the days after.

Compared with figures computed from raw points before the drop: every report
input from summaries is equal; the raw recompute of the days still kept is
equal (the state carried into 5 March survived); ``source=raw`` over a
dropped day is refused naming the setting; a late point for a dropped day
leaves its summary alone (held, in the metadata), and its raw point is kept.

On InfluxDB the policy expires raw points (storage/test_retention.py shows it
is there, and that raw points go into it): the backfill is written before raw
retention is set, as an existing installation's history is, and the cycle
records the days beyond the horizon."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from core.calendar import local_day_bounds
from core.registry import Site, load_site
from metrics.utilisation import GROUPINGS
from simulators.backfill import backfill
from simulators.scenario import Fault, FaultKind, Scenario
from storage import StoreSettings, open_store
from storage.base import AGENT_STATUS, PRESENCE, Point, Store
from storage.marks import MarkingStore
from summaries.compute import ALL
from summaries.reader import PeriodData, clear_cache
from summaries.retention import PRUNED, RawRetentionError, gone_days, read_pruned
from summaries.schema import read_commits
from summaries.summariser import Summariser, SummaryParams, refresh_site, site_status
from tests.api.conftest import SMALL_SITE

FIRST, LAST = date(2026, 3, 2), date(2026, 3, 6)
EDGE = date(2026, 3, 5)  # the first day kept: 9 March 12:00 UTC minus 4 days, local
NOW = datetime(2026, 3, 9, 12, tzinfo=UTC)
KEEP = 4
PARAMS = SummaryParams()


@dataclass
class World:
    site: Site
    store: Store  # what the summariser and the API use (raw retention set)
    writer: Store  # what the raw points were written through
    kind: str


def scenario() -> Scenario:
    night = datetime(2026, 3, 4, 19, tzinfo=UTC)  # 21:00 local, offline until 07:00 local
    offline = Fault(
        kind=FaultKind.AGENT_OFFLINE, target="ag", start=night, end=night + timedelta(hours=10)
    )
    return Scenario(seed=5, faults=[offline])


@pytest.fixture(params=["sqlite", "sqlite_blocks", "influx"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    site = load_site(SMALL_SITE)
    tz = {site.id: site.tz}
    if request.param == "influx":
        url = request.getfixturevalue("influx").url
        db = f"ret_{uuid.uuid4().hex[:8]}"
        writer: Store = MarkingStore(open_store(StoreSettings(url=url, database=db)), tz)
        settings = StoreSettings(url=url, database=db, raw_retention_days=KEEP)
        store: Store = MarkingStore(open_store(settings), tz)
    else:
        from storage.sqlite import SQLiteStore

        blocks = 1 if request.param == "sqlite_blocks" else 1_000_000
        store = writer = MarkingStore(SQLiteStore(tmp_path / "s.db", block_rows=blocks), tz)
    start, end = local_day_bounds(site, FIRST)[0], local_day_bounds(site, LAST)[1]
    backfill(site, scenario(), writer, start, end, collect=False)
    days = [FIRST + timedelta(days=i) for i in range((NOW.date() - FIRST).days)]
    refresh_site(store, site, PARAMS, days=days[1:], now=NOW)  # 2 March left unsummarised
    clear_cache()
    yield World(site, store, writer, request.param)
    if request.param == "influx":
        store.inner.drop_database()  # type: ignore[attr-defined]
    store.close()
    if writer is not store:
        writer.close()


def period(
    w: World, first: date, last: date, source: str = "summaries", keep: int | None = KEEP
) -> PeriodData:
    return PeriodData(
        store=w.store,
        site=w.site,
        start=local_day_bounds(w.site, first)[0],
        end=local_day_bounds(w.site, last)[1],
        params=PARAMS,
        source=source,  # type: ignore[arg-type]
        now=NOW,
        raw_retention_days=keep,
    )


def inputs(data: PeriodData, site: Site) -> dict[str, pd.DataFrame]:
    """Every report input, read now (the frames, not the lazy reader)."""
    cells = lambda f: f.sort_values(["space", *(c for c in ("day", "hour") if c in f)])  # noqa: E731
    out = {
        "days": cells(data.day_cells()).reset_index(drop=True),
        "hours": cells(data.hour_cells()).reset_index(drop=True),
    }
    for level in GROUPINGS:
        for types in (None, "desk"):
            for view in (ALL, "aa"):
                out[f"{level}/{types}/{view}"] = data.daily_peaks(
                    level=level, types=types, view=view
                )
    return out


def assert_equal(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        pd.testing.assert_frame_equal(a[key], b[key], check_exact=True, obj=key)


def raw_counts(w: World, first: date, last: date) -> int:
    start, end = local_day_bounds(w.site, first)[0], local_day_bounds(w.site, last)[1]
    return len(w.store.read(PRESENCE, start=start, end=end, where={"site": w.site.id}))


def test_dropped_raw_points_reports_still_right(world: World) -> None:
    w, site = world, world.site
    edge_start = local_day_bounds(site, EDGE)[0]
    # before: figures from raw points, and what the store holds
    raw_all = inputs(period(w, FIRST, LAST, "raw", keep=None), site)
    raw_kept = inputs(period(w, EDGE, LAST, "raw", keep=None), site)
    counts = {
        d: raw_counts(w, d, d) for d in (FIRST, date(2026, 3, 3), date(2026, 3, 4), EDGE, LAST)
    }
    carried = w.store.last(PRESENCE, by="space", before=edge_start, where={"site": site.id})
    status_in = w.store.last(AGENT_STATUS, by="agent", before=edge_start, where={"site": site.id})
    assert status_in["online"].tolist() == [0]  # the agent went offline the night before
    gens = {
        d: c.gen
        for d, c in read_commits(w.store, site, edge_start - timedelta(days=3), edge_start).items()
    }

    summariser = Summariser(w.store, [site], PARAMS, raw_retention_days=KEEP)
    summariser.cycle(now=NOW)
    clear_cache()
    status = summariser.status[site.id]
    assert status.dirty == [] and status.held == [FIRST]  # never summarised, now too late
    assert summariser.waiting[site.id] == [FIRST]  # said, and its raw points kept
    pruned = read_pruned(w.store, site, local_day_bounds(site, FIRST)[0], edge_start)
    if w.kind == "influx":  # the policy expires them all: recorded, the unsummarised one as 0
        assert sorted(pruned) == [FIRST, date(2026, 3, 3), date(2026, 3, 4)]
        assert pruned[FIRST] == 0
    else:
        assert sorted(pruned) == [date(2026, 3, 3), date(2026, 3, 4)]
        assert summariser.pruned_points_total > 0
        # of 3 and 4 March at most the latest point of each space is left
        assert raw_counts(w, date(2026, 3, 3), date(2026, 3, 4)) <= len(site.spaces)
        assert raw_counts(w, FIRST, FIRST) == counts[FIRST]
    assert {d: raw_counts(w, d, d) for d in (EDGE, LAST)} == {d: counts[d] for d in (EDGE, LAST)}
    # the state carried into 5 March is what it was
    where = {"site": site.id}
    assert w.store.last(PRESENCE, by="space", before=edge_start, where=where).equals(carried)
    assert w.store.last(AGENT_STATUS, by="agent", before=edge_start, where=where).equals(status_in)
    # each recorded with the generation of the summary it was dropped under
    assert all(pruned[d] == gens[d] for d in pruned if d != FIRST)

    # reports: from summaries, equal to the raw figures from before the drop
    data = period(w, FIRST, LAST)
    assert_equal(inputs(data, site), raw_all)
    meta = data.meta()
    assert meta["missing_days"] == ["2026-03-02"]  # no summary, raw points beyond retention
    assert meta["days_from_raw"] == ["2026-03-02"] and meta["held_days"] == []
    # the days still kept recompute from raw points exactly as before
    assert_equal(inputs(period(w, EDGE, LAST, "raw"), site), raw_kept)
    # source=raw over a day beyond retention: refused, naming the setting
    with pytest.raises(RawRetentionError, match="raw_retention_days = 4") as refused:
        period(w, FIRST, LAST, "raw")
    assert refused.value.days == [FIRST, date(2026, 3, 3), date(2026, 3, 4)]
    assert "2026-03-02..2026-03-04" in str(refused.value)
    # a process not given raw_retention_days still knows which days were dropped
    assert gone_days(w.store, site, FIRST, LAST, raw_retention_days=None, now=NOW) == (
        [FIRST, date(2026, 3, 3), date(2026, 3, 4)]
        if w.kind == "influx"
        else [date(2026, 3, 3), date(2026, 3, 4)]
    )
    assert w.store.count(PRUNED) >= 2
    with pytest.raises(RawRetentionError, match="raw_retention_days, when it was set"):
        PeriodData(
            store=w.store,
            site=site,
            start=local_day_bounds(site, date(2026, 3, 4))[0],
            end=local_day_bounds(site, LAST)[1],
            params=PARAMS,
            source="raw",
            now=NOW,
        )


def test_a_dirty_mark_beyond_retention_leaves_the_summary(world: World) -> None:
    w, site = world, world.site
    summariser = Summariser(w.store, [site], PARAMS, raw_retention_days=KEEP)
    summariser.cycle(now=NOW)
    clear_cache()
    before = inputs(period(w, date(2026, 3, 3), LAST), site)
    day = date(2026, 3, 3)
    bounds = local_day_bounds(site, day)
    old = read_commits(w.store, site, *bounds)[day]
    # a late "occupied" for 3 March, 10:00 local, from an edge outbox
    late = Point(
        PRESENCE,
        site.space_tags("a3"),
        {"occupied": 1, "hb": 3600.0, "seq": 1},
        int(pd.Timestamp(bounds[0] + timedelta(hours=10)).value),
    )
    w.writer.write([late])
    status = site_status(w.store, site, PARAMS, now=NOW, raw_retention_days=KEEP)
    assert day in status.held and day not in status.dirty
    summariser.cycle(now=NOW)
    summariser.cycle(now=NOW)
    clear_cache()
    assert read_commits(w.store, site, *bounds)[day] == old  # not recomputed
    # asked for explicitly, still not: the setting, or the record of the drop, refuses it
    assert refresh_site(w.store, site, PARAMS, days=[day], now=NOW, raw_retention_days=KEEP) == []
    assert refresh_site(w.store, site, PARAMS, days=[day], now=NOW) == []
    assert read_commits(w.store, site, *bounds)[day] == old
    data = period(w, day, LAST)
    assert_equal(inputs(data, site), before)
    assert data.meta()["held_days"] == ["2026-03-03"] and data.meta()["missing_days"] == []
    # the late point itself is not dropped: its day is dirty
    found = w.store.read(PRESENCE, start=bounds[0], end=bounds[1], where={"space": "a3"})
    assert late.time_ns in {int(t.value) for t in found["time"]}
