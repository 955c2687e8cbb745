"""Opening hours in local time, DST-safe, without holidays and closures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from core.calendar import (
    is_closed,
    local_day_bounds,
    month_bounds,
    open_days,
    opening_intervals,
)
from core.registry import Site


def make_site(**over: object) -> Site:
    data: dict[str, object] = {
        "id": "s",
        "name": "S",
        "timezone": "Europe/Helsinki",
        "opening_hours": {d: ["08:00-16:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        "area_m2": 100,
        "agencies": [{"id": "a", "name": "A", "headcount_htv": 1}],
        "floors": [{"id": "f", "name": "F", "level": 1, "plan": {"width": 10, "height": 10}}],
        "zones": [{"id": "z", "name": "Z", "floor": "f"}],
        "spaces": [
            {
                "id": "d",
                "type": "desk",
                "zone": "z",
                "capacity": 1,
                "area_m2": 1,
                "geometry": {"x": 0, "y": 0, "w": 1, "h": 1},
            }
        ],
    }
    data.update(over)
    return Site.model_validate(data)


def test_opening_is_local_time_in_winter_and_summer() -> None:
    site = make_site()
    winter = list(
        opening_intervals(
            site, datetime(2026, 1, 13, tzinfo=UTC), datetime(2026, 1, 14, tzinfo=UTC)
        )
    )
    # 08:00 EET = 06:00 UTC in winter (UTC+2); 16:00 EET = 14:00 UTC
    assert winter == [(datetime(2026, 1, 13, 6, tzinfo=UTC), datetime(2026, 1, 13, 14, tzinfo=UTC))]
    summer = list(
        opening_intervals(site, datetime(2026, 6, 9, tzinfo=UTC), datetime(2026, 6, 10, tzinfo=UTC))
    )
    # EEST is UTC+3
    assert summer == [(datetime(2026, 6, 9, 5, tzinfo=UTC), datetime(2026, 6, 9, 13, tzinfo=UTC))]


def test_dst_days_are_23_and_25_hours_long() -> None:
    site = make_site(
        opening_hours={
            d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        }
    )
    # 2026: clocks go forward on Sun 29 March, back on Sun 25 October (EU rule)
    a, b = local_day_bounds(site, date(2026, 3, 29))
    assert b - a == timedelta(hours=23)
    a, b = local_day_bounds(site, date(2026, 10, 25))
    assert b - a == timedelta(hours=25)
    spring = list(opening_intervals(site, *local_day_bounds(site, date(2026, 3, 29))))
    assert sum((hi - lo for lo, hi in spring), timedelta()) == timedelta(hours=23)


def test_holidays_closures_and_weekends_are_closed() -> None:
    site = make_site(closures=[date(2026, 12, 23)])
    assert is_closed(site, date(2026, 12, 6 + 1)) is False  # Mon 7 Dec is an ordinary day
    assert is_closed(site, date(2026, 12, 24))  # Christmas Eve (holiday in the FI calendar)
    assert is_closed(site, date(2026, 12, 23))  # configured closure
    assert is_closed(site, date(2026, 12, 5))  # Saturday
    # December 2026: 23 weekdays, minus Christmas Eve (Thu), Christmas Day (Fri),
    # and the 23rd closure -> 20 open days. (6 Dec Independence Day is a Sunday.)
    assert len(open_days(site, date(2026, 12, 1), date(2027, 1, 1))) == 20


def test_month_bounds_follow_local_midnight() -> None:
    site = make_site()
    start, end = month_bounds(site, 2026, 3)
    assert start == datetime(2026, 2, 28, 22, tzinfo=UTC)  # 1 March 00:00 EET
    assert end == datetime(2026, 3, 31, 21, tzinfo=UTC)  # 1 April 00:00 EEST


def test_wall_times_read_as_zoneinfo_reads_them_where_clocks_jump() -> None:
    from zoneinfo import ZoneInfo

    from core.calendar import wall_time_utc

    cases = [
        # a repeated hour: its first occurrence (03:00 EEST, UTC+3)
        ("Europe/Helsinki", datetime(2026, 10, 25, 3), datetime(2026, 10, 25, 0)),
        # Lord Howe skips 02:00-02:30: 02:00 lies 30 minutes past the gap
        # start, i.e. at 02:30 LHDT (UTC+11); pandas' shift_forward gives 03:00
        ("Australia/Lord_Howe", datetime(2026, 10, 4, 2), datetime(2026, 10, 3, 15, 30)),
        # Santiago skips midnight (00:00 -> 01:00 -03): 04:00 UTC
        ("America/Santiago", datetime(2026, 9, 6), datetime(2026, 9, 6, 4)),
        # Havana has midnight twice (01:00 CDT -> 00:00 CST): the first, at UTC-4
        ("America/Havana", datetime(2026, 11, 1), datetime(2026, 11, 1, 4)),
    ]
    for tz, wall, utc in cases:
        assert wall_time_utc(ZoneInfo(tz), wall) == utc.replace(tzinfo=UTC), tz
