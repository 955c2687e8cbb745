"""The daily-peak forecast on hand-built series with a known pattern."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from core.calendar import is_closed
from metrics.forecast import forecast_peaks
from tests.metrics.conftest import make_site

WEEKDAYS = {d: ["08:00-16:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
SITE = make_site(spaces=[{"id": "d1"}], opening=WEEKDAYS)
FIRST = date(2026, 11, 9)  # a Monday; the 8 weeks hold Christmas and New Year
BASE = {0: 10, 1: 7, 2: 7, 3: 7, 4: 4}  # Mondays 10, midweek 7, Fridays 4


def series(weeks: int, noise: list[int] | None = None, holiday_value: int = 99) -> pd.DataFrame:
    """Weekday base + 1 per week (+ noise of week k); holidays get a wild value
    that the model must ignore."""
    rows = []
    for i in range(7 * weeks):
        d = FIRST + timedelta(days=i)
        if d.weekday() > 4:
            continue
        k = i // 7
        peak = BASE[d.weekday()] + k + (noise[k % len(noise)] if noise else 0)
        if is_closed(SITE, d):
            peak = holiday_value
        rows.append({"zone": "z", "day": pd.Timestamp(d), "spaces": 40, "peak": peak})
    return pd.DataFrame(rows)


def test_weekday_levels_and_trend_are_the_hand_computed_values() -> None:
    # History: 8 weeks from Mon 9 Nov 2026; the forecast week starts Mon 4 Jan
    # 2027 (week 8): Mon 10 + 8 = 18, Tue/Thu 7 + 8 = 15, Fri 4 + 8 = 12;
    # Wed 6 Jan is Epiphany (loppiainen): no row. No noise: a zero-width interval.
    out = forecast_peaks(daily=series(8), site=SITE, by="zone", start=date(2027, 1, 4), days=7)
    got = {r.day.date(): (r.forecast, r.lower, r.upper) for r in out.itertuples()}
    assert got == {
        date(2027, 1, 4): (18.0, 18.0, 18.0),
        date(2027, 1, 5): (15.0, 15.0, 15.0),
        date(2027, 1, 7): (15.0, 15.0, 15.0),
        date(2027, 1, 8): (12.0, 12.0, 12.0),
    }


def test_holidays_in_history_are_skipped_whatever_their_value() -> None:
    a = forecast_peaks(daily=series(8, holiday_value=0), site=SITE, by="zone",
                       start=date(2027, 1, 4), days=7)  # fmt: skip
    b = forecast_peaks(daily=series(8, holiday_value=40), site=SITE, by="zone",
                       start=date(2027, 1, 4), days=7)  # fmt: skip
    pd.testing.assert_frame_equal(a, b)
    # 40 weekdays, less Christmas Eve, Christmas Day (Thu, Fri) and New Year's Day
    assert [d for d in series(8)["day"].dt.date if is_closed(SITE, d)] == [
        date(2026, 12, 24),
        date(2026, 12, 25),
        date(2027, 1, 1),
    ]
    assert (a["history_days"] == 37).all()


def test_interval_holds_the_noise_band() -> None:
    # noise -1, 0, +1 in turn, week by week, over 12 weeks: the residuals of
    # each weekday spread over about [-1, 1], so the 80 % interval must reach
    # about a unit either side of the level, and the forecast stays on it.
    noise = [-1, 0, 1]
    hist = series(12, noise=noise)
    out = forecast_peaks(daily=hist, site=SITE, by="zone", start=date(2027, 2, 1), days=7)
    assert len(out) == 5  # no holiday that week
    for r in out.itertuples():
        truth = BASE[r.day.weekday()] + 12  # week 12, noise 0 on average
        assert r.forecast == pytest.approx(truth, abs=0.6)
        assert r.lower <= r.forecast - 0.6 and r.upper >= r.forecast + 0.6
        assert 1.6 <= r.upper - r.lower <= 2.6


def test_clipped_to_the_group_and_unseen_weekdays_get_no_row() -> None:
    hist = series(8)
    hist = hist[hist["day"].dt.day_of_week != 4]  # no Friday ever
    hist = hist.assign(spaces=16)
    out = forecast_peaks(daily=hist, site=SITE, by="zone", start=date(2027, 1, 4), days=7)
    assert sorted(out["day"].dt.day_of_week) == [0, 1, 3]
    assert out["upper"].max() <= 16 and out["forecast"].max() == 16.0
