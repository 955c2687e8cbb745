"""The entrance counts in the daily summaries (summaries/counts.py): the
service reports read from summaries equal those recomputed from raw points,
exactly, on random counts (late, out of order, duplicated, reset, absurd,
from an unknown entrance, with gaps), written through a marking SQLite store
in two batches with a summariser run after each; a torn day is read raw; a
late count for a summarised day shows at once and after the next cycle."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from api import service as svc
from core.calendar import local_day_bounds
from core.registry import OpeningHours, Site
from metrics import service as service_m
from storage.base import ENTRANCE_COUNTS, Point
from storage.marks import MarkingStore
from storage.sqlite import SQLiteStore
from summaries.counts import COUNTS, count_rows, counts_of_rows, write_counts
from summaries.reader import Source, clear_cache
from summaries.retention import complete_days
from summaries.schema import read_commits
from summaries.summariser import SummaryParams, _is_dirty, refresh_site, site_status
from tests.metrics import service_day as day

SITE = day.site()
FIRST, LAST = date(2026, 11, 2), date(2026, 11, 4)  # Monday to Wednesday
START = local_day_bounds(SITE, FIRST)[0]
END = local_day_bounds(SITE, LAST)[1]
NOW = datetime(2026, 11, 10, 12, tzinfo=UTC)
PARAMS = SummaryParams()
ENTRANCES = ["ovi", "takaovi"]
ZONE = {"ovi": "asiakas", "takaovi": "za", "ghost": "asiakas"}
HOURS = OpeningHours.model_validate({"mon": ["09:30-11:15"], "wed": ["10:00-15:00"]})
_NS = 1_000_000_000


def count(
    entrance: str, end_ns: int, interval_s: float, n_in: float, n_out: float, reset: bool = False
) -> Point:
    return Point(
        ENTRANCE_COUNTS,
        {"site": SITE.id, "entrance": entrance, "zone": ZONE[entrance]},
        {"in_count": n_in, "out_count": n_out, "interval_s": float(interval_s), "seq": 0,
         "sensor": "c", "agent": "ag", "hb": float(interval_s), "reset": int(reset)},
        end_ns,
    )  # fmt: skip


def reports(
    site: Site, store: MarkingStore, source: Source
) -> tuple[svc.ServiceData, dict[str, pd.DataFrame]]:
    data = svc.read_service(store, site, START, END, entrances=ENTRANCES, source=source)
    out = {"rows": data.rows, "flags": data.flags, "coverage": data.coverage}
    for bucket in service_m.VISIT_BUCKETS:
        for by in ("entrance", "zone"):
            out[f"visits {bucket} {by}"] = svc.visits_report(data, bucket=bucket, by=by)
    out["series"], out["drift"] = svc.occupancy_report(data)
    for hours in (site.opening_hours, HOURS):
        share = service_m.opening_share(
            rows=data.rows, site=site, hours=hours, start=START, end=END, by="zone"
        )
        out[f"share {hours.model_dump_json()}"] = share
    daily = data.daily("zone")
    out["fit"] = service_m.class_fit(daily=daily, classes=site.service.classes)
    out["peaks"] = service_m.peak_hours(
        hourly=service_m.hourly_visits(rows=data.rows, site=site, by="zone"), daily=daily, by="zone"
    )
    return data, out


def assert_same(store: MarkingStore) -> svc.ServiceData:
    summ, a = reports(SITE, store, "summaries")
    raw, b = reports(SITE, store, "raw")
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True, obj=name)
    assert summ.meta()["quality"] == raw.meta()["quality"]
    assert raw.meta()["source"] == "raw"
    return summ


def new_store(tmp: str) -> MarkingStore:
    return MarkingStore(SQLiteStore(Path(tmp) / "occ.db"), {SITE.id: SITE.tz})


def summarise(store: MarkingStore, days: list[date] | None = None) -> list[date]:
    """Summarise ``days`` (default: the dirty ones)."""
    return refresh_site(store, SITE, PARAMS, now=NOW, days=days)


#: the days of the period and one each side
ALL_DAYS = [FIRST + timedelta(days=i) for i in range(-1, 4)]


# ---- the folding of empty runs ----------------------------------------------------


def test_a_night_of_zeros_is_one_row() -> None:
    t0 = int(pd.Timestamp(local_day_bounds(SITE, FIRST)[0]).value)
    ends = t0 + (np.arange(600) + 1) * 60 * _NS  # 00:01 .. 10:00, minute intervals
    n_in = np.zeros(600)
    n_in[[540, 541, 599]] = [3, 1, 2]  # 09:01, 09:02 and 10:00
    raw = pd.DataFrame(
        {"time": pd.to_datetime(ends, utc=True), "entrance": "ovi", "zone": "asiakas",
         "in_count": n_in, "out_count": 0.0, "interval_s": 60.0, "reset": 0.0}
    )  # fmt: skip
    rows = count_rows(raw, site=SITE)
    # 540 empty minutes, 2 counted, 57 empty, 1 counted: 4 rows
    assert rows["n"].tolist() == [540, 1, 1, 57, 1]
    assert rows["in_count"].tolist() == [0, 3, 1, 0, 2]
    pd.testing.assert_frame_equal(unfolded(rows, raw), raw, check_exact=True)


def stored(rows: pd.DataFrame) -> pd.DataFrame:
    """``count_rows`` as a store read gives them back (a ``time`` column)."""
    return rows.assign(time=pd.to_datetime(rows["time_ns"].to_numpy(), utc=True))


def unfolded(rows: pd.DataFrame, raw: pd.DataFrame) -> pd.DataFrame:
    """``counts_of_rows`` of ``rows``, its categories as strings typed as in ``raw``."""
    back = counts_of_rows(stored(rows))
    return back.astype({c: raw[c].dtype for c in ("entrance", "zone")})[raw.columns.tolist()]


def test_a_gap_or_another_length_breaks_a_run() -> None:
    t0 = int(pd.Timestamp(START).value)
    ends = [t0 + 60 * _NS, t0 + 120 * _NS, t0 + 240 * _NS, t0 + 1140 * _NS]  # gap 02-03
    raw = pd.DataFrame(
        {"time": pd.to_datetime(ends, utc=True), "entrance": "ovi", "zone": "asiakas",
         "in_count": 0.0, "out_count": 0.0, "interval_s": [60.0, 60.0, 60.0, 900.0],
         "reset": [0.0, 0.0, 0.0, 0.0]}
    )  # fmt: skip
    rows = count_rows(raw, site=SITE)
    assert rows["n"].tolist() == [2, 1, 1]
    pd.testing.assert_frame_equal(unfolded(rows, raw), raw)


# ---- random scenarios -------------------------------------------------------------

INTERVALS = (60, 900, 3600)
SPAN_S = 4 * 86400  # from Sunday evening to Thursday


def _events() -> st.SearchStrategy[list[tuple]]:
    value = st.one_of(st.integers(0, 12), st.sampled_from([-3, 100_000]))
    one = st.tuples(
        st.sampled_from(["ovi", "ovi", "takaovi", "ghost"]),
        st.sampled_from(INTERVALS),
        st.integers(0, SPAN_S // 60),  # the end, in minutes from the start
        st.integers(1, 1),  # a single interval
        value,
        st.integers(0, 12),
        st.booleans(),
        st.integers(0, 1),  # the batch it arrives in (1: late, after a summariser run)
    )
    run = st.tuples(
        st.sampled_from(["ovi", "takaovi"]),
        st.sampled_from(INTERVALS),
        st.integers(0, SPAN_S // 60),
        st.integers(2, 200),  # a run of empty intervals
        st.just(0),
        st.just(0),
        st.just(False),
        st.integers(0, 1),
    )
    return st.lists(st.one_of(one, run), min_size=1, max_size=40)


def _points(events: list[tuple], batch: int) -> list[Point]:
    base = int(pd.Timestamp(START).value) - 6 * 3600 * _NS  # Sunday 18:00
    out = []
    for entrance, interval, minute, n, n_in, n_out, reset, b in events:
        if b != batch:
            continue
        # ends on the interval's own grid, so that duplicates and runs line up
        first = base + (minute * 60 // interval) * interval * _NS
        for k in range(n):
            out.append(count(entrance, first + k * interval * _NS, interval, n_in, n_out, reset))
    return out[::-1]  # newest first: out of order


@settings(
    max_examples=30,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking a store run is slow
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(events=_events())
def test_random_counts_equal_from_summaries_and_raw(events: list[tuple]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = new_store(tmp)
        store.write(_points(events, 0) or [count("ovi", int(pd.Timestamp(START).value), 60, 0, 0)])
        summarise(store, ALL_DAYS)
        data = assert_same(store)
        assert data.meta()["days_from_summaries"] == 3, data.meta()
        late = _points(events, 1)
        if late:
            store.write(late)  # duplicates overwrite; the days they touch are dirty
            assert_same(store)
            assert site_status(store, SITE, PARAMS, now=NOW).dirty
            summarise(store)
            data = assert_same(store)
            assert data.meta()["days_from_summaries"] == 3 and data.meta()["stale_days"] == []
        store.close()


# ---- a torn day, a late count -----------------------------------------------------


def _hand_worked_store(tmp: str) -> MarkingStore:
    store = new_store(tmp)
    store.write(day.counts_points(SITE) + day.presence_points(SITE))
    summarise(store, ALL_DAYS)
    return store


def _ovi(data: svc.ServiceData) -> int:
    daily = data.daily("entrance")
    mine = (daily["entrance"] == "ovi") & (daily["day"] == pd.Timestamp(FIRST))
    return int(daily[mine]["visits"].sum())


def test_a_torn_day_is_read_raw(tmp_path: Path) -> None:
    store = _hand_worked_store(str(tmp_path))
    data = svc.read_service(store, SITE, START, END, entrances=ENTRANCES)
    assert data.meta()["days_from_summaries"] == 3 and _ovi(data) == day.VISITS
    # a rewrite of the day that crashed after two of its rows: those two rows
    # now carry a generation the commit does not name
    stored = store.read(COUNTS, start=START, end=START + timedelta(days=1), where={"site": SITE.id})
    assert len(stored) == len(day.OVI) + 1  # every interval of the day has its counts
    part = pd.DataFrame(
        {"entrance": stored["entrance"].to_numpy()[:2], "zone": stored["zone"].to_numpy()[:2],
         "time_ns": pd.DatetimeIndex(stored["time"]).asi8[:2], "in_count": 99.0,
         "out_count": 0.0, "interval_s": 3600.0, "reset": 0.0, "n": 1}
    )  # fmt: skip
    write_counts(store, SITE, part, gen=1)
    # what a process started now reads (this one keeps the rows it checked
    # under the commit's generation, as they were when complete)
    clear_cache()
    data = assert_same(store)
    meta = data.meta()
    assert meta["days_from_raw"] == meta["stale_days"] == [FIRST.isoformat()]
    assert meta["days_from_summaries"] == 2 and _ovi(data) == day.VISITS  # not 99s


def test_a_late_count_changes_the_figures(tmp_path: Path) -> None:
    store = _hand_worked_store(str(tmp_path))
    # the counter's corrected 16-17 interval (5 in, 1 out; it had 0 in), arriving late
    store.write([count("ovi", int(pd.Timestamp(day.local(17)).value), 3600, 5, 1)])
    data = assert_same(store)
    assert _ovi(data) == day.VISITS + 5
    assert data.meta()["days_from_raw"] == [FIRST.isoformat()]  # dirty: raw until summarised
    assert site_status(store, SITE, PARAMS, now=NOW).dirty[0] == FIRST
    assert FIRST in summarise(store)  # (and the days after the period, never summarised)
    data = assert_same(store)
    assert _ovi(data) == day.VISITS + 5 and data.meta()["days_from_summaries"] == 3
    drift = svc.occupancy_report(data)[1]
    # after the reset at closing (16:00), 16-17 counts 0 + 5 - 1 = 4 people in
    series = svc.occupancy_report(data)[0]
    assert series[series["zone"] == "asiakas"]["in_building"].iloc[8] == 4
    assert drift[drift["zone"] == "asiakas"]["drift"].iloc[0] == day.DRIFT


def test_a_commit_without_counts_is_summarised_again(tmp_path: Path) -> None:
    store = _hand_worked_store(str(tmp_path))
    commit = read_commits(store, SITE, START, END)[FIRST]
    assert commit.counts == len(day.OVI) + 1
    digest = PARAMS.digest(SITE)
    assert not _is_dirty(FIRST, commit, {}, digest)
    # as a commit written before summary_counts existed reads (no field: -1)
    assert _is_dirty(FIRST, replace(commit, counts=-1), {}, digest)


def test_raw_retention_waits_for_whole_count_rows(tmp_path: Path) -> None:
    store = _hand_worked_store(str(tmp_path))
    commits = read_commits(store, SITE, START, END)
    assert complete_days(store, SITE, commits) == set(commits)
    stored = store.read(COUNTS, start=START, end=START + timedelta(days=1), where={"site": SITE.id})
    torn = pd.DataFrame(
        {"entrance": stored["entrance"].to_numpy()[:1], "zone": stored["zone"].to_numpy()[:1],
         "time_ns": pd.DatetimeIndex(stored["time"]).asi8[:1], "in_count": 1.0,
         "out_count": 0.0, "interval_s": 3600.0, "reset": 0.0, "n": 1}
    )  # fmt: skip
    write_counts(store, SITE, torn, gen=1)
    assert complete_days(store, SITE, commits) == set(commits) - {FIRST}
