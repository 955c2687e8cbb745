"""One month's charges from a store: read presence and agent status, build the
state intervals (``metrics.intervals``) and call ``compute_month``.

Shared by ``occupancy charges`` and the API's charge routes so that both
compute from the same inputs the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from charging.bookings import Booking
from charging.charges import MonthCharges, compute_month, parse_month
from charging.tariff import Tariff
from core.calendar import month_bounds
from core.registry import Site
from storage.base import Store
from summaries.raw import read_intervals
from summaries.retention import require_raw


def month_window(*, site: Site, month: str, tariff: Tariff) -> tuple[datetime, datetime]:
    """The period whose intervals a month's charges need: the local month, plus
    the no-show window after its end (a booking starting at 23:55 on the last
    day is judged on its first minutes, which fall in the next month)."""
    year, mon = parse_month(month)
    start, end = month_bounds(site, year, mon)
    _, pricing = tariff.pricing(site.id, year, mon)
    return start, end + timedelta(minutes=pricing.no_show.window_minutes)


class FutureMonthError(ValueError):
    """A month that has not begun: there is nothing to charge yet."""


def month_status(*, site: Site, month: str, now: datetime) -> str:
    """``closed`` (ended), ``in_progress`` or ``future``, in the site's time zone."""
    year, mon = parse_month(month)
    start, end = month_bounds(site, year, mon)
    if now >= end:
        return "closed"
    return "in_progress" if now >= start else "future"


def refuse_future(*, site: Site, month: str, now: datetime) -> None:
    if month_status(site=site, month=month, now=now) == "future":
        raise FutureMonthError(
            f"{month} has not begun at {site.id} (it is {now.astimezone(site.tz):%Y-%m-%d} "
            "there): a future month cannot be charged"
        )


def charge_month(
    *,
    store: Store,
    site: Site,
    month: str,
    tariff: Tariff,
    bookings: Sequence[Booking],
    silence_factor: float = 2.5,
    merge_gap_s: float = 0,
    raw_retention_days: int | None = None,
    now: datetime | None = None,
) -> MonthCharges:
    """``compute_month`` on the store's data for the month. Charges are computed
    from raw points (a booking's no-show is judged on its first minutes), so a
    month whose raw points are gone is refused (``RawRetentionError``).

    With ``now``: a future month is refused (``FutureMonthError``) and a month
    in progress is computed up to ``now``, provisional and pro rata."""
    start, end = month_window(site=site, month=month, tariff=tariff)
    until = None
    if now is not None:
        refuse_future(site=site, month=month, now=now)
        if month_status(site=site, month=month, now=now) == "in_progress":
            until = now
            end = min(end, now)
    require_raw(
        store,
        site,
        start,
        end,
        raw_retention_days=raw_retention_days,
        what=f"charges of {month}",
    )
    intervals = read_intervals(
        store=store,
        site=site,
        start=start,
        end=end,
        silence_factor=silence_factor,
        merge_gap_s=merge_gap_s,
    )
    return compute_month(
        site=site, month=month, intervals=intervals, bookings=bookings, tariff=tariff, until=until
    )
