"""Opening hours, public holidays and closure days, in the site's own time zone.

All results are UTC intervals so that durations are right across DST changes:
a local day in Europe/Helsinki is 23 hours in March and 25 in October.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache

import holidays as holidays_lib

from core.registry import Site


@lru_cache(maxsize=64)
def _holiday_table(country: str, subdivision: str | None, year: int) -> dict[date, str]:
    table = holidays_lib.country_holidays(country, subdiv=subdivision, years=year)
    return dict(table.items())


def public_holidays(site: Site, year: int) -> dict[date, str]:
    """The site's public holidays of a year; none for ``holidays: none``."""
    if site.holidays is None:
        return {}
    return _holiday_table(site.holidays.country, site.holidays.subdivision, year)


def is_public_holiday(site: Site, day: date) -> bool:
    return day in public_holidays(site, day.year)


def is_closed(site: Site, day: date) -> bool:
    """Closed all day: a public holiday, a configured closure, or no opening hours."""
    return (
        day in site.closures
        or is_public_holiday(site, day)
        or not site.opening_hours.ranges(day.weekday())
    )


def open_days(site: Site, start: date, end: date) -> list[date]:
    """Local dates in [start, end) on which the site opens."""
    out = []
    day = start
    while day < end:
        if not is_closed(site, day):
            out.append(day)
        day += timedelta(days=1)
    return out


def _local(site: Site, day: date, t: time) -> datetime:
    if t == time.max:  # "24:00" means the next midnight
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=site.tz)
    return datetime.combine(day, t, tzinfo=site.tz)


def opening_intervals_on(site: Site, day: date) -> list[tuple[datetime, datetime]]:
    """UTC opening intervals of one local date (empty when closed)."""
    if is_closed(site, day):
        return []
    return [
        (_local(site, day, a).astimezone(UTC), _local(site, day, b).astimezone(UTC))
        for a, b in site.opening_hours.ranges(day.weekday())
    ]


def opening_intervals(
    site: Site, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """UTC opening intervals clipped to [start, end), in time order."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    day = start.astimezone(site.tz).date() - timedelta(days=1)
    last = end.astimezone(site.tz).date()
    while day <= last:
        for a, b in opening_intervals_on(site, day):
            lo, hi = max(a, start), min(b, end)
            if lo < hi:
                yield lo, hi
        day += timedelta(days=1)


def wall_time_utc(tz: tzinfo, wall: datetime) -> datetime:
    """A naive local wall-clock time as a UTC instant, the way every local time
    here is read (zoneinfo, fold 0): a time that happens twice (clocks moved
    back) is its first occurrence; a time that never happens (clocks moved
    forward) lies past the gap by the gap's length. Some zones move their
    clocks at midnight (Havana, Santiago) or by half an hour (Lord Howe), where
    pandas' ``tz_localize`` raises or shifts by a whole hour."""
    return wall.replace(tzinfo=tz).astimezone(UTC)


def local_day_bounds(site: Site, day: date) -> tuple[datetime, datetime]:
    """UTC start and end of a local calendar day (23, 24 or 25 hours long)."""
    return (
        datetime.combine(day, time(0), tzinfo=site.tz).astimezone(UTC),
        datetime.combine(day + timedelta(days=1), time(0), tzinfo=site.tz).astimezone(UTC),
    )


def month_bounds(site: Site, year: int, month: int) -> tuple[datetime, datetime]:
    """UTC start and end of a local calendar month."""
    first = date(year, month, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return local_day_bounds(site, first)[0], local_day_bounds(site, nxt)[0]
