"""Cutting intervals to opening hours: local days, midnight, DST, holidays
(docs/metrics.md, "Opening hours and local days")."""

from __future__ import annotations

import pandas as pd

from metrics import clip_to_opening, heatmap, state_intervals, utilisation_table
from tests.metrics.conftest import local, make_site, presence, utc


def _run(site, rows, start, end):
    iv = state_intervals(
        presence=presence(site, rows), status=None, site=site, start=start, end=end
    )
    return clip_to_opening(intervals=iv, site=site, start=start, end=end)


def test_interval_across_midnight_is_split_by_local_day() -> None:
    """docs/metrics.md, "Across midnight": open round the clock; d1 occupied
    Monday 22:00 to Tuesday 02:00 local. Monday has 2 h = 7,200 s of it, Tuesday
    2 h; each local day is 86,400 s of opening."""
    site = make_site(spaces=[{"id": "d1"}])
    start, end = local("2026-03-02 00:00"), local("2026-03-04 00:00")
    clipped = _run(
        site,
        [
            (local("2026-03-02 00:00"), "d1", 0),
            (local("2026-03-02 22:00"), "d1", 1),
            (local("2026-03-03 02:00"), "d1", 0),
            (local("2026-03-03 12:00"), "d1", 0),  # heartbeat
        ],
        start,
        end,
    )
    occ = clipped[clipped["state"] == "occupied"]
    # Local midnight 2026-03-03 00:00 is 2026-03-02 22:00 UTC (UTC+2).
    assert list(zip(occ["start"], occ["end"], occ["day"], strict=True)) == [
        (utc("2026-03-02 20:00"), utc("2026-03-02 22:00"), pd.Timestamp("2026-03-02")),
        (utc("2026-03-02 22:00"), utc("2026-03-03 00:00"), pd.Timestamp("2026-03-03")),
    ]
    daily = utilisation_table(intervals=clipped, site=site, by="space", bucket="day")
    assert list(daily["opening_s"]) == [86_400.0, 86_400.0]
    assert list(daily["occupied_s"]) == [7_200.0, 7_200.0]
    assert list(daily["utilisation"]) == [7_200 / 86_400, 7_200 / 86_400]


def test_spring_dst_day_has_23_hours() -> None:
    """docs/metrics.md, "DST": Sunday 29 March 2026, clocks go 03:00 -> 04:00.
    Open 00:00-24:00: 23 h = 82,800 s. Occupied 01:00-05:00 local wall clock is
    23:00-02:00 UTC = 3 h = 10,800 s; utilisation 10,800 / 82,800 = 0.1304."""
    site = make_site(spaces=[{"id": "d1"}])
    start, end = local("2026-03-29 00:00"), local("2026-03-30 00:00")
    assert (end - start).total_seconds() == 82_800
    clipped = _run(
        site,
        [
            (local("2026-03-29 00:00"), "d1", 0),
            (local("2026-03-29 01:00"), "d1", 1),
            (local("2026-03-29 05:00"), "d1", 0),
        ],
        start,
        end,
    )
    row = utilisation_table(intervals=clipped, site=site, by="space").iloc[0]
    assert row["opening_s"] == 82_800.0
    assert row["occupied_s"] == 10_800.0
    assert row["utilisation"] == 10_800 / 82_800
    cells = heatmap(intervals=clipped, site=site)
    # 23 local hours: 03 does not exist that day.
    assert list(cells["hour"]) == [0, 1, 2, *range(4, 24)]
    assert set(cells["weekday"]) == {6}
    assert list(cells.loc[cells["occupied_s"] > 0, "hour"]) == [1, 2, 4]


def test_autumn_dst_day_has_25_hours() -> None:
    """docs/metrics.md, "DST": Sunday 25 October 2026, clocks go 04:00 -> 03:00.
    Open 00:00-24:00: 25 h = 90,000 s. Occupied 02:00 (summer time, 23:00 UTC)
    to 05:00 (winter time, 03:00 UTC) = 4 h = 14,400 s; utilisation 0.16. The
    local hour 03 happens twice: the heatmap cell holds 7,200 s."""
    site = make_site(spaces=[{"id": "d1"}])
    start, end = local("2026-10-25 00:00"), local("2026-10-26 00:00")
    assert (end - start).total_seconds() == 90_000
    clipped = _run(
        site,
        [
            (local("2026-10-25 00:00"), "d1", 0),
            (utc("2026-10-24 23:00"), "d1", 1),  # 02:00 local, summer time
            (local("2026-10-25 05:00"), "d1", 0),
        ],
        start,
        end,
    )
    row = utilisation_table(intervals=clipped, site=site, by="space").iloc[0]
    assert row["opening_s"] == 90_000.0
    assert row["occupied_s"] == 14_400.0
    assert row["utilisation"] == 0.16
    cells = heatmap(intervals=clipped, site=site).set_index("hour")
    assert len(cells) == 24
    assert cells.at[3, "opening_s"] == 7_200.0
    assert cells.at[3, "occupied_s"] == 7_200.0
    assert cells.at[2, "occupied_s"] == 3_600.0
    assert cells.at[4, "occupied_s"] == 3_600.0
    assert cells["opening_s"].sum() == 90_000.0


def test_public_holiday_and_closure_day_are_not_opening_time() -> None:
    """docs/metrics.md, "Holidays": open Mon-Fri 08:00-16:00; Thursday 30 April
    to Monday 4 May 2026. Friday 1 May is May Day (a Finnish public holiday),
    the weekend has no opening hours, Monday 4 May is a configured closure. Only
    Thursday counts: 8 h = 28,800 s, one open day."""
    site = make_site(
        spaces=[{"id": "d1"}],
        opening={d: ["08:00-16:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        closures=["2026-05-04"],
    )
    start, end = local("2026-04-30 00:00"), local("2026-05-05 00:00")
    rows = [
        (local(f"2026-{d} 00:00"), "d1", 1) for d in ("04-30", "05-01", "05-02", "05-03", "05-04")
    ]
    clipped = _run(site, rows, start, end)
    assert set(clipped["day"]) == {pd.Timestamp("2026-04-30")}
    row = utilisation_table(intervals=clipped, site=site, by="space").iloc[0]
    assert (row["open_days"], row["opening_s"], row["occupied_s"]) == (1, 28_800.0, 28_800.0)
