"""Energy hours through the store: the hand-worked energy week written as
raw points to a real SQLite store, summarised, and read back from the daily
summaries and from raw points (the same integers, the hand-worked figures);
the example site over the spring DST change with a zone conditioned past
opening hours and on Saturdays, summaries against raw, exact; a torn day
falls back to raw points; a changed schedule makes the days dirty."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from core.calendar import local_day_bounds
from core.registry import Site
from metrics.energy import energy_table
from simulators.backfill import backfill
from simulators.scenario import Fault, FaultKind, Scenario
from storage.base import AGENT_STATUS, PRESENCE, Point
from storage.marks import MarkingStore
from storage.sqlite import SQLiteStore
from summaries.energy import ENERGY_HOURS, read_energy_hours
from summaries.reader import PeriodData
from summaries.summariser import SummaryParams, refresh_site, site_status
from tests.metrics.conftest import local
from tests.metrics.energy_week import (
    HB_S,
    PRESENCE_ROWS,
    SITE_BY_FLOOR,
    SITE_BY_ZONE,
    STATUS_ROWS,
    week_site,
)

WEEK_NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


def _period(
    site: Site, store: MarkingStore, first: date, last: date, source: str, now: datetime
) -> PeriodData:
    return PeriodData(
        store=store,
        site=site,
        start=local_day_bounds(site, first)[0],
        end=local_day_bounds(site, last)[1],
        params=SummaryParams(),
        source=source,  # type: ignore[arg-type]
        now=now,
    )


def _ns(text: str) -> int:
    return int(local(text).value)


@pytest.fixture()
def week(tmp_path: Path) -> tuple[Site, MarkingStore]:
    site = week_site()
    store = MarkingStore(SQLiteStore(tmp_path / "occ.db"), {site.id: site.tz})
    points = [
        Point(PRESENCE, site.space_tags(s), {"occupied": o, "hb": HB_S, "seq": i}, _ns(t))
        for i, (t, s, o) in enumerate(PRESENCE_ROWS)
    ]
    points += [
        Point(AGENT_STATUS, {"site": site.id, "agent": a}, {"online": o}, _ns(t))
        for t, a, o in STATUS_ROWS
    ]
    store.write(points)
    return site, store


def test_the_hand_worked_week_from_summaries_and_from_raw(week: tuple[Site, MarkingStore]) -> None:
    site, store = week
    first, last = date(2026, 3, 2), date(2026, 3, 8)
    refresh_site(store, site, SummaryParams(), now=WEEK_NOW)
    stored = store.read(ENERGY_HOURS, start=local(f"{first} 00:00"), end=local("2026-03-09 00:00"))
    assert len(stored) == 16 + 16 + 25  # za, zb 4 days x 4 h; zc 5 days x 5 h
    from_summaries, meta = read_energy_hours(
        _period(site, store, first, last, "summaries", WEEK_NOW)
    )
    assert meta["energy_days_from_summaries"] == 7 and meta["energy_days_from_raw"] == []
    from_raw, raw_meta = read_energy_hours(_period(site, store, first, last, "raw", WEEK_NOW))
    assert raw_meta["energy_days_from_summaries"] == 0
    pd.testing.assert_frame_equal(from_summaries, from_raw, check_exact=True)
    by_zone = energy_table(hours=from_summaries, site=site, by="zone", bucket="year")
    total = by_zone[by_zone["level"] == "site"].iloc[0]
    for key, value in SITE_BY_ZONE.items():
        assert total[key] == pytest.approx(value), key
    by_floor = energy_table(hours=from_summaries, site=site, by="floor", bucket="year")
    total = by_floor[by_floor["level"] == "site"].iloc[0]
    for key, value in SITE_BY_FLOOR.items():
        assert total[key] == pytest.approx(value), key


def test_a_torn_day_is_read_from_raw_points(week: tuple[Site, MarkingStore]) -> None:
    site, store = week
    first, last = date(2026, 3, 2), date(2026, 3, 8)
    refresh_site(store, site, SummaryParams(), now=WEEK_NOW)
    whole, _ = read_energy_hours(_period(site, store, first, last, "summaries", WEEK_NOW))
    # one row of Tuesday rewritten by a writer of another generation
    hour = local("2026-03-03 09:00")
    store.write(
        [Point(ENERGY_HOURS, {"site": site.id, "floor": "f1", "zone": "za"},
               {"conditioned_ns": 1, "empty_ns": 1, "unknown_ns": 0, "floor_empty_ns": 0,
                "floor_unknown_ns": 0, "gen": 1}, int(hour.value))]
    )  # fmt: skip
    torn, meta = read_energy_hours(_period(site, store, first, last, "summaries", WEEK_NOW))
    assert meta["energy_days_from_raw"] == ["2026-03-03"]
    pd.testing.assert_frame_equal(torn, whole, check_exact=True)


def test_a_changed_schedule_makes_the_days_dirty(week: tuple[Site, MarkingStore]) -> None:
    site, store = week
    params = SummaryParams()
    refresh_site(store, site, params, now=WEEK_NOW)
    assert site_status(store, site, params, now=WEEK_NOW).dirty == []
    data = site.model_dump(mode="json", exclude_none=True)
    data["zones"][2]["conditioning"]["schedule"]["mon"] = ["06:00-12:00"]
    changed = Site.model_validate(data)
    assert site_status(store, changed, params, now=WEEK_NOW).dirty != []
    # a site without any conditioning keeps the digest it had before energy rows
    # existed (every stored summary stays current)
    for zone in data["zones"]:
        zone.pop("conditioning", None)
    plain = Site.model_validate(data)
    assert params.digest(plain) == params.digest(plain.model_copy(update={"energy": plain.energy}))


FIRST, LAST = date(2026, 3, 27), date(2026, 4, 1)
NOW = datetime(2026, 4, 3, 12, tzinfo=UTC)


def conditioned(example: Site) -> Site:
    data = example.model_dump(mode="json", exclude_none=True)
    for zone in data["zones"]:
        if zone["id"] == "f4-c":  # conditioned 06-20 Mon-Sat, past opening hours
            days = ("mon", "tue", "wed", "thu", "fri", "sat")
            zone["conditioning"] = {"schedule": {d: ["06:00-20:00"] for d in days}}
    return Site.model_validate(data)


def test_example_site_summaries_equal_raw(example_site: Site, tmp_path: Path) -> None:
    site = conditioned(example_site)
    store = MarkingStore(SQLiteStore(tmp_path / "occ.db"), {site.id: site.tz})
    start, end = local_day_bounds(site, FIRST)[0], local_day_bounds(site, LAST)[1]
    offline = datetime(2026, 3, 30, 19, tzinfo=UTC)
    faults = [Fault(kind=FaultKind.AGENT_OFFLINE, target="agent-f4", start=offline,
                    end=offline + timedelta(hours=14))]  # fmt: skip
    backfill(site, Scenario(seed=3, faults=faults), store, start, end, collect=False)
    refresh_site(store, site, SummaryParams(), now=NOW)
    a, meta = read_energy_hours(_period(site, store, FIRST, LAST, "summaries", NOW))
    b, _ = read_energy_hours(_period(site, store, FIRST, LAST, "raw", NOW))
    assert meta["energy_days_from_raw"] == []
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    for by in ("zone", "floor"):
        for bucket in ("day", "month", "year"):
            pd.testing.assert_frame_equal(
                energy_table(hours=a, site=site, by=by, bucket=bucket),  # type: ignore[arg-type]
                energy_table(hours=b, site=site, by=by, bucket=bucket),  # type: ignore[arg-type]
                check_exact=True,
            )
    # f4-c on Saturday 28 March (the site is closed): 14 conditioned hours
    sat = a[(a["zone"] == "f4-c") & (a["day"] == pd.Timestamp("2026-03-28"))]
    assert len(sat) == 14 and int(sat["conditioned_ns"].sum()) == 14 * 3_600 * 10**9
    # the spring DST night (29 March) is a Sunday: nothing conditioned
    assert a[a["day"] == pd.Timestamp("2026-03-29")].empty
    # every zone's time splits into occupied, empty and unknown
    assert (a["empty_ns"] + a["unknown_ns"] <= a["conditioned_ns"]).all()
    assert (a["floor_empty_ns"] <= a["empty_ns"]).all()


def test_days_without_energy_rows_and_raw_points_read_as_unknown(
    week: tuple[Site, MarkingStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Days summarised before energy rows existed, whose raw points are then
    dropped (raw retention): flagged, and their conditioned time is unknown,
    never empty (no kWh is claimed for them)."""
    import summaries.compute as compute
    from summaries.retention import apply_retention

    site, store = week
    params = SummaryParams()
    monkeypatch.setattr(compute, "energy_hours", lambda **_: None)  # the summariser before
    refresh_site(store, site, params, now=WEEK_NOW)
    monkeypatch.undo()
    later = datetime(2026, 4, 30, 12, tzinfo=UTC)
    while apply_retention(store, site, digest=params.digest(site), raw_retention_days=7,
                          now=later).pruned:  # fmt: skip
        pass
    data = PeriodData(
        store=store, site=site, start=local_day_bounds(site, date(2026, 3, 2))[0],
        end=local_day_bounds(site, date(2026, 3, 8))[1], params=params, now=later,
        raw_retention_days=7,
    )  # fmt: skip
    hours, meta = read_energy_hours(data)
    # the weekend has no conditioned time: nothing to miss
    assert meta["energy_missing_days"] == [f"2026-03-0{d}" for d in range(2, 7)]
    assert int(hours["empty_ns"].sum()) == 0 and int(hours["floor_empty_ns"].sum()) == 0
    assert (hours["unknown_ns"] == hours["conditioned_ns"]).all()
