"""Exact peak concurrent occupancy and its 90th percentile (docs/metrics.md, "Peak concurrent")."""

from __future__ import annotations

import pandas as pd

from metrics import clip_to_opening, daily_peaks, p90, peak_summary, state_intervals
from tests.metrics import worked_day
from tests.metrics.conftest import local, make_site, presence, utc

#: (day of March 2026, desk, local start, local end) of every occupied spell.
SPELLS = [
    (2, "d1", "09:00", "10:00"),  # Mon: d1 leaves as d2 arrives: never two at once
    (2, "d2", "10:00", "11:00"),
    (3, "d1", "09:00", "12:00"),  # Tue: all three 11:00-12:00
    (3, "d2", "10:00", "12:00"),
    (3, "d3", "11:00", "12:00"),
    (4, "d1", "09:00", "11:00"),  # Wed: two 10:00-11:00
    (4, "d2", "10:00", "12:00"),
    # Thu: nobody
    (6, "d2", "09:00", "10:00"),  # Fri: two at 09:30-10:00 and at 10:30-11:00
    (6, "d3", "09:30", "11:00"),
    (6, "d1", "10:30", "12:00"),
]


def _week() -> tuple:
    site = make_site(
        spaces=[{"id": "d1"}, {"id": "d2"}, {"id": "d3"}],
        opening=worked_day.OFFICE_HOURS,
    )
    rows = [
        (local(f"2026-03-{d:02d} 07:00"), s, 0) for d in range(2, 7) for s in ("d1", "d2", "d3")
    ]
    for day, desk, a, b in SPELLS:
        rows += [
            (local(f"2026-03-{day:02d} {a}"), desk, 1),
            (local(f"2026-03-{day:02d} {b}"), desk, 0),
        ]
    start, end = local("2026-03-02 00:00"), local("2026-03-07 00:00")
    iv = state_intervals(
        presence=presence(site, rows), status=None, site=site, start=start, end=end
    )
    return site, clip_to_opening(intervals=iv, site=site, start=start, end=end)


def test_daily_peak_is_simultaneous_not_the_sum_of_space_peaks() -> None:
    """Daily peaks Mon-Fri: 1, 3, 2, 0, 2. On Monday and Friday the sum of the
    desks' own peaks (2 and 3) overstates the group's peak (1 and 2)."""
    site, clipped = _week()
    daily = daily_peaks(intervals=clipped, site=site, by="site")
    assert list(daily["day"]) == [pd.Timestamp(f"2026-03-0{d}") for d in range(2, 7)]
    assert list(daily["peak"]) == [1, 3, 2, 0, 2]
    assert list(daily["spaces"]) == [3] * 5
    # Monday's peak first happens at 09:00 local = 07:00 UTC; Tuesday's at 11:00.
    assert daily["peak_at"].iloc[0] == utc("2026-03-02 07:00")
    assert daily["peak_at"].iloc[1] == utc("2026-03-03 09:00")
    assert pd.isna(daily["peak_at"].iloc[3])
    per_space = daily_peaks(intervals=clipped, site=site, by="space")
    sum_of_peaks = per_space.groupby("day")["peak"].sum()
    assert list(sum_of_peaks) == [2, 3, 2, 0, 3]


def test_period_maximum_and_p90() -> None:
    """Sorted daily peaks 0, 1, 2, 2, 3 (n = 5). Rank h = (5 - 1) x 0.9 = 3.6;
    p90 = x[3] + 0.6 x (x[4] - x[3]) = 2 + 0.6 x 1 = 2.6. Maximum 3 (Tuesday),
    mean 8 / 5 = 1.6."""
    site, clipped = _week()
    summary = peak_summary(daily=daily_peaks(intervals=clipped, site=site), by="site").iloc[0]
    assert summary["days"] == 5
    assert summary["max_peak"] == 3
    assert summary["max_day"] == pd.Timestamp("2026-03-03")
    assert summary["p90_peak"] == 2 + 0.6 * 1
    assert summary["mean_peak"] == 1.6


def test_p90_by_hand() -> None:
    # n = 1: the value itself; n = 2: h = 0.9, 10 + 0.9 x (20 - 10) = 19.
    assert p90([4]) == 4.0
    assert p90([20, 10]) == 19.0
    # n = 11 (0..10): h = 9 exactly, x[9] = 9.
    assert p90(list(range(11))) == 9.0


def test_peaks_of_groups_and_space_types() -> None:
    """Worked day: d2 from 08:00, d1 from 09:00, d3 from 10:00 to 10:30 when d2
    turns unknown: peak 3 at 10:00 local. Zone za (d1, d2): 2 from 09:00."""
    site = worked_day.site()
    iv = state_intervals(
        presence=worked_day.presence_frame(site),
        status=worked_day.status_frame(site),
        site=site,
        start=worked_day.DAY_START,
        end=worked_day.DAY_END,
    )
    clipped = clip_to_opening(
        intervals=iv, site=site, start=worked_day.DAY_START, end=worked_day.DAY_END
    )
    s = daily_peaks(intervals=clipped, site=site, by="site").iloc[0]
    assert (s["peak"], s["peak_at"]) == (3, utc("2026-03-02 08:00"))
    z = daily_peaks(intervals=clipped, site=site, by="zone").set_index("zone")
    assert z.at["za", "peak"] == 2
    assert z.at["za", "peak_at"] == utc("2026-03-02 07:00")
    assert z.at["zs", "peak"] == 1
    rooms = daily_peaks(intervals=clipped, site=site, space_types={"meeting_room"})
    assert rooms.empty
