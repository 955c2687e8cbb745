"""The hand-worked energy week (tests/metrics/energy_week.py; docs/metrics.md,
"Energy of empty conditioned space"): empty conditioned hours, m²h, kWh and
kg CO2 by zone, floor and site, from state intervals."""

from __future__ import annotations

import pandas as pd
import pytest

from metrics.energy import energy_hours, energy_table
from metrics.intervals import state_intervals
from tests.metrics.conftest import local, presence, status
from tests.metrics.energy_week import (
    FIRST,
    FLOOR_M2H,
    HB_S,
    MONDAY_BY_ZONE,
    PRESENCE_ROWS,
    SITE_BY_FLOOR,
    SITE_BY_ZONE,
    STATUS_ROWS,
    ZONE_HOURS,
    ZONE_M2H,
    week_site,
)

H = 3_600 * 10**9


def week_hours() -> pd.DataFrame:
    site = week_site()
    start, end = local(f"{FIRST} 00:00"), local("2026-03-09 00:00")
    iv = state_intervals(
        presence=presence(site, [(local(t), s, o) for t, s, o in PRESENCE_ROWS], hb=HB_S),
        status=status(site, [(local(t), a, o) for t, a, o in STATUS_ROWS]),
        site=site,
        start=start,
        end=end,
    )
    return energy_hours(intervals=iv, site=site, start=start, end=end)


def test_zone_hours_by_hand() -> None:
    hours = week_hours()
    sums = hours.groupby("zone")[["conditioned_ns", "empty_ns", "unknown_ns"]].sum()
    for zone, cond, empty, unknown in ZONE_HOURS:
        assert sums.loc[zone].tolist() == [cond * H, empty * H, unknown * H], zone


def test_rows_are_whole_local_hours_of_conditioned_time() -> None:
    hours = week_hours()
    # za: 4 days x 4 hours; zc: 5 days x 5 hours (07..11), Thursday included
    assert hours.groupby("zone").size().to_dict() == {"za": 16, "zb": 16, "zc": 25}
    assert (hours["conditioned_ns"] == H).all()
    zc_thu = hours[(hours["zone"] == "zc") & (hours["day"] == pd.Timestamp("2026-03-05"))]
    assert zc_thu["hour"].dt.hour.tolist() == [7, 8, 9, 10, 11]
    # the Monday 08:00 hour of za: a1 from 08:00, a2 from 08:30: occupied all of it
    mon8 = hours[(hours["zone"] == "za") & (hours["hour"] == pd.Timestamp("2026-03-02 08:00"))]
    assert mon8["empty_ns"].tolist() == [0]
    mon9 = hours[(hours["zone"] == "za") & (hours["hour"] == pd.Timestamp("2026-03-02 09:00"))]
    assert mon9["empty_ns"].tolist() == [H // 2]  # a2 until 09:30


def test_by_zone_and_site_by_hand() -> None:
    site = week_site()
    table = energy_table(hours=week_hours(), site=site, by="zone", bucket="year")
    zones = table[table["level"] == "zone"].set_index("group")
    for zone, (cond, empty, unknown) in ZONE_M2H.items():
        row = zones.loc[zone]
        assert (row["conditioned_m2h"], row["empty_m2h"], row["unknown_m2h"]) == pytest.approx(
            (cond, empty, unknown)
        )
    assert zones.loc["za", "empty_h"] == pytest.approx(8.5)
    assert zones.loc["za", "area_m2"] == 20.0
    total = table[table["level"] == "site"].iloc[0]
    assert total["group"] == "energyweek" and total["period"] == "2026"
    for key, value in SITE_BY_ZONE.items():
        assert total[key] == pytest.approx(value), key
    assert total["empty_share"] == pytest.approx(1820 / 2050)


def test_by_floor_by_hand() -> None:
    site = week_site()
    table = energy_table(hours=week_hours(), site=site, by="floor", bucket="month")
    floors = table[table["level"] == "floor"].set_index("group")
    for floor, (cond, empty, unknown) in FLOOR_M2H.items():
        row = floors.loc[floor]
        assert (row["conditioned_m2h"], row["empty_m2h"], row["unknown_m2h"]) == pytest.approx(
            (cond, empty, unknown)
        )
    assert floors.loc["f1", "empty_h"] == pytest.approx(7.5)
    assert floors.loc["f1", "period"] == "2026-03"
    total = table[table["level"] == "site"].iloc[0]
    for key, value in SITE_BY_FLOOR.items():
        assert total[key] == pytest.approx(value), key


def test_by_day() -> None:
    site = week_site()
    table = energy_table(hours=week_hours(), site=site, by="zone", bucket="day")
    days = table[table["level"] == "site"].set_index("period")
    assert list(days.index) == [
        "2026-03-02",
        "2026-03-03",
        "2026-03-04",
        "2026-03-05",
        "2026-03-06",
    ]
    for key, value in MONDAY_BY_ZONE.items():
        assert days.loc["2026-03-02", key] == pytest.approx(value), key
    # Thursday: only zc (closure day, conditioned anyway): 5 h x 50 m² x 0.1 kWh
    assert days.loc["2026-03-05", "empty_kwh"] == pytest.approx(25.0)
    assert days["empty_kwh"].sum() == pytest.approx(SITE_BY_ZONE["empty_kwh"])


def test_no_conditioned_time_gives_an_empty_table() -> None:
    site = week_site()
    start, end = local("2026-03-07 00:00"), local("2026-03-09 00:00")  # a weekend
    iv = state_intervals(
        presence=presence(site, [(local("2026-03-07 00:00"), "a1", 0)]),
        status=None, site=site, start=start, end=end,
    )  # fmt: skip
    hours = energy_hours(intervals=iv, site=site, start=start, end=end)
    assert hours.empty
    assert energy_table(hours=hours, site=site).empty
