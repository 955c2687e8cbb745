"""Per-group daily rows (``summary_groups``): the hand-worked day of the small
site (tests/api/scenario.py) on SQLite and on the real InfluxDB; rows that
do not match their day's commit (a rewrite that crashed half way, a racing
writer, a commit older than the rows) are never read: the day's cells and
peaks stand in, and every figure equals the raw recompute."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from core.calendar import local_day_bounds
from core.registry import Site, load_site
from metrics.utilisation import group_of
from storage import StoreSettings, open_store
from storage.base import PRESENCE, Point
from storage.marks import MarkingStore
from summaries.compute import ALL, view_spaces
from summaries.groups import GROUP_SUMS, group_combinations, stored_view
from summaries.reader import PeriodData, clear_cache
from summaries.schema import DAYS, GROUPS, read_commits
from summaries.summariser import SummaryParams, refresh_site
from tests.api import scenario
from tests.api.conftest import SMALL_SITE

DAY = scenario.DAY.date()
H = 3_600 * 1_000_000_000
NOW = scenario.DAY + timedelta(days=2)

# The hand-worked day (tests/api/scenario.py), per (level, view, group):
# opening, unknown, occupied hours and the peak of concurrent desks.
#   aa = a1..a5: 5 x 8 h open, a5 unknown 1.5 h, a1 2 h + a2 8 h; a1 and a2 at once
#   bb = b1, b2: 2 x 8 h, b1 2.5 h; one desk at a time
#   _shared = s1..s3, r1: 4 x 8 h, s1 1 h + r1 2 h (a room: no desk peak)
#   site: 11 x 8 h; a1, a2, b1 at 10:00-11:00
#   site in aa's view (za + zs): a1, a2 at 10:00; a2, s1 at 12:00 -> 2
#   site in bb's view (zb + zs): b1 and s1 at 12:00-12:30 -> 2
HAND_WORKED = {
    ("agency", ALL, "aa"): (40, 1.5, 10, 2),
    ("agency", ALL, "bb"): (16, 0, 2.5, 1),
    ("agency", ALL, "_shared"): (32, 0, 3, 1),
    ("site", ALL, "pieni"): (88, 1.5, 15.5, 3),
    ("site", "aa", "pieni"): (72, 1.5, 13, 2),
    ("site", "bb", "pieni"): (48, 0, 5.5, 2),
}


@pytest.fixture(params=["sqlite", "influx"])
def world(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[tuple[Site, MarkingStore]]:
    if request.param == "sqlite":
        settings = StoreSettings(url=f"sqlite:///{tmp_path}/store.db")
    else:
        influx = request.getfixturevalue("influx")
        settings = StoreSettings(url=influx.url, database=f"groups_{uuid.uuid4().hex[:8]}")
    site = load_site(SMALL_SITE)
    store = MarkingStore(open_store(settings), {site.id: site.tz})
    store.write(scenario.points(site))
    refresh_site(store, site, SummaryParams(), now=NOW)
    clear_cache()
    yield site, store
    clear_cache()
    store.close()


def period(site: Site, store: Any, source: str = "summaries") -> PeriodData:
    return PeriodData(
        store=store,
        site=site,
        start=local_day_bounds(site, DAY)[0],
        end=local_day_bounds(site, DAY)[1],
        params=SummaryParams(),
        source=source,  # type: ignore[arg-type]
        now=NOW,
    )


def stored(store: Any, site: Site) -> dict[tuple[str, str, str], tuple[float, ...]]:
    """The day's ``summary_groups`` rows as read back from the store, in hours."""
    lo, hi = local_day_bounds(site, DAY)
    rows = store.read(GROUPS, start=lo, end=hi, where={"site": site.id})
    return {
        (r.level, r.view, r.group): (
            r.opening_ns / H,
            r.unknown_ns / H,
            r.occupied_ns / H,
            int(r.desk_peak),
        )
        for r in rows.itertuples()
    }


def as_dict(frame: pd.DataFrame, view: str) -> dict[tuple[str, str, str], tuple[float, ...]]:
    return {
        (r.level, view, r.group): (
            r.opening_ns / H,
            r.unknown_ns / H,
            r.occupied_ns / H,
            int(r.desk_peak),
        )
        for r in frame.itertuples()
    }


def every_view(data: PeriodData, site: Site) -> dict[tuple[str, str, str], tuple[float, ...]]:
    out = {}
    for level, view in group_combinations(site):
        out.update(as_dict(data.group_days(level=level, view=view), view))
    return out


def test_the_hand_worked_day_is_stored_and_read_back(world: tuple[Site, MarkingStore]) -> None:
    site, store = world
    assert stored(store, site) == HAND_WORKED
    commit = read_commits(store, site, *local_day_bounds(site, DAY))[DAY]
    assert commit.groups == len(HAND_WORKED)
    summ, raw = period(site, store), period(site, store, "raw")
    assert every_view(summ, site) == HAND_WORKED == every_view(raw, site)
    assert summ.meta()["days_from_summaries"] == 1 and summ.meta()["stale_days"] == []


def test_an_agency_view_of_agency_groups_is_its_visible_groups(
    world: tuple[Site, MarkingStore],
) -> None:
    site, store = world
    data = PeriodData(
        store=store,
        site=site,
        start=local_day_bounds(site, DAY)[0],
        end=local_day_bounds(site, DAY)[1],
        params=SummaryParams(),
        now=NOW,
        visible=view_spaces(site, "bb"),
    )
    got = data.group_days(level="agency", view="bb")
    assert sorted(got["group"]) == ["_shared", "bb"]
    assert as_dict(got, ALL) == {k: v for k, v in HAND_WORKED.items() if k[2] in ("bb", "_shared")}
    with pytest.raises(ValueError, match="draws on spaces"):
        data.group_days(level="site", view=ALL)


def test_a_row_of_another_generation_is_not_read(world: tuple[Site, MarkingStore]) -> None:
    """A racing writer's row (another generation, other figures) in a committed
    day: the day's group rows are left aside, its cells and peaks stand in."""
    site, store = world
    lo = local_day_bounds(site, DAY)[0]
    store.write_columns(
        GROUPS,
        time_ns=[int(pd.Timestamp(lo).value)],
        tags={"site": site.id, "level": "agency", "view": ALL, "group": "aa"},
        fields={
            **{c: [1] for c in GROUP_SUMS},
            "space_days": [1],
            "desk_peak": [99],
            "gen": [1],
        },
    )
    assert stored(store, site)[("agency", ALL, "aa")] == (1 / H, 1 / H, 1 / H, 99)
    summ = period(site, store)
    assert every_view(summ, site) == HAND_WORKED
    meta = summ.meta()
    assert meta["days_from_summaries"] == 1 and meta["stale_days"] == [], meta


class CrashingStore:
    """A store that dies while writing ``summary_groups``: the first rows are
    written, then the process is gone (the day's commit is never written)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def write_columns(self, measurement: str, *, time_ns: Any, tags: Any, fields: Any) -> None:
        if measurement != GROUPS:
            self.inner.write_columns(measurement, time_ns=time_ns, tags=tags, fields=fields)
            return
        n = len(time_ns) // 2

        def head(v: Any) -> Any:
            return v[:n] if isinstance(v, np.ndarray | pd.Categorical | list) else v

        self.inner.write_columns(
            measurement,
            time_ns=time_ns[:n],
            tags={k: head(v) for k, v in tags.items()},
            fields={k: head(v) for k, v in fields.items()},
        )
        raise SystemExit("killed mid-day")


def test_a_crash_while_writing_group_rows_leaves_a_day_read_from_raw(
    world: tuple[Site, MarkingStore],
) -> None:
    site, store = world
    # a late point changes the day: the rewrite's rows differ from the old ones
    at = scenario.local(15.5)
    store.write(
        [
            Point(
                PRESENCE,
                site.space_tags("b2"),
                {"occupied": 1, "hb": 3600.0, "seq": 900},
                int(pd.Timestamp(at).value),
            )
        ]
    )
    with pytest.raises(SystemExit):
        refresh_site(CrashingStore(store), site, SummaryParams(), days=[DAY], now=NOW)
    before = read_commits(store, site, *local_day_bounds(site, DAY))[DAY]
    clear_cache()
    summ, raw = period(site, store), period(site, store, "raw")
    got = every_view(summ, site)
    assert got == every_view(raw, site)
    assert got[("agency", ALL, "bb")][2] == 3.0  # b1 2.5 h + b2's late 15:30-16:00
    assert summ.meta()["days_from_raw"] == [DAY.isoformat()]
    assert summ.meta()["stale_days"] == [DAY.isoformat()]
    # the next cycle repairs it
    refresh_site(store, site, SummaryParams(), days=[DAY], now=NOW)
    after = read_commits(store, site, *local_day_bounds(site, DAY))[DAY]
    assert after.gen != before.gen
    clear_cache()
    summ = period(site, store)
    assert every_view(summ, site) == every_view(raw, site)
    assert summ.meta()["days_from_raw"] == [] and summ.meta()["stale_days"] == []


def test_days_committed_before_group_rows_existed_read_cells_and_peaks(
    world: tuple[Site, MarkingStore], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """A store summarised before ``summary_groups``: commits without a
    ``groups`` count, no group rows. The days still come from summaries."""
    site, _ = world
    old = MarkingStore(
        open_store(StoreSettings(url=f"sqlite:///{tmp_path}/old.db")), {site.id: site.tz}
    )
    old.write(scenario.points(site))
    writes: list[str] = []
    inner_write = old.write_columns

    def without_groups(measurement: str, *, time_ns: Any, tags: Any, fields: Any) -> None:
        writes.append(measurement)
        if measurement == GROUPS:
            return
        if measurement == DAYS:
            fields = {k: v for k, v in fields.items() if k != "groups"}
        inner_write(measurement, time_ns=time_ns, tags=tags, fields=fields)

    monkeypatch.setattr(old, "write_columns", without_groups)
    refresh_site(old, site, SummaryParams(), now=NOW)
    monkeypatch.undo()
    assert GROUPS in writes
    commit = read_commits(old, site, *local_day_bounds(site, DAY))[DAY]
    assert commit.groups == -1
    clear_cache()
    summ = period(site, old)
    assert every_view(summ, site) == HAND_WORKED
    meta = summ.meta()
    assert meta["days_from_summaries"] == 1 and meta["stale_days"] == [], meta
    old.close()


def expected_from_cells(
    data: PeriodData, site: Site, *, level: str, view: str
) -> dict[tuple[str, Any], tuple[int, ...]]:
    """Per (group, day): the sums over the day cells and the desk peak, added up
    here one row at a time (not with the code under test)."""
    groups = group_of(site=site, by=level)  # type: ignore[arg-type]
    allowed = None if view == ALL else view_spaces(site, view)
    out: dict[tuple[str, Any], list[int]] = {}
    for r in data.day_cells().itertuples():
        if allowed is not None and r.space not in allowed:
            continue
        acc = out.setdefault((groups[r.space], pd.Timestamp(r.day)), [0, 0, 0, 0, -1])
        acc[0] += int(r.opening_ns)
        acc[1] += int(r.unknown_ns)
        acc[2] += int(r.occupied_ns)
        acc[3] += 1
    seen = {g for s, g in groups.items() if allowed is None or s in allowed}
    peaks = data.daily_peaks(level=level, types="desk", view=stored_view(level, view))
    for r in peaks.itertuples():
        group = getattr(r, level)
        if group in seen:
            out.setdefault((group, pd.Timestamp(r.day)), [0, 0, 0, 0, -1])[4] = int(r.peak)
    return {k: tuple(v) for k, v in out.items()}


def group_rows(
    data: PeriodData, *, level: str, view: str
) -> dict[tuple[str, Any], tuple[int, ...]]:
    frame = data.group_days(level=level, view=view)
    return {
        (r.group, pd.Timestamp(r.day)): (
            int(r.opening_ns),
            int(r.unknown_ns),
            int(r.occupied_ns),
            int(r.space_days),
            int(r.desk_peak),
        )
        for r in frame.itertuples()
    }


def assert_group_rows_equal(site: Site, summ: PeriodData, raw: PeriodData) -> None:
    """Every stored (level, view) and every agency's view of the agency groups:
    the same rows from summaries and raw points, equal to the day cells' sums."""
    combos = [*group_combinations(site), *(("agency", a.id) for a in site.agencies)]
    for level, view in combos:
        got = group_rows(summ, level=level, view=view)
        assert got == group_rows(raw, level=level, view=view), (level, view)
        assert got == expected_from_cells(summ, site, level=level, view=view), (level, view)


def test_group_rows_equal_the_day_cells_sums(world: tuple[Site, MarkingStore]) -> None:
    site, store = world
    assert_group_rows_equal(site, period(site, store), period(site, store, "raw"))
