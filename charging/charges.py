"""Monthly charges per agency and site that add up exactly to the cost to recover.

``compute_month`` turns a month's state intervals, bookings, the tariff and the
site registry into charge lines: per agency a ``base`` line (headcount share)
and one line per space type (usage share by weighted occupied hours). All
arithmetic is exact (``fractions.Fraction`` over integer nanoseconds) until the
final rounding to cents by the largest-remainder method, so the lines of a
site and month always sum to the cost to the cent and the same inputs give the
same output, byte for byte (see docs/charging.md for the model and the audit trail).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from fractions import Fraction

import pandas as pd

from charging.attribution import attribute, clip_to_opening_hours, find_no_shows, opening_ns
from charging.bookings import Booking, check_bookings
from charging.inputs_hash import HASH_SCHEME, hash_inputs
from charging.pricing import BASE_LINE, price
from charging.results import AgencySummary, ChargeLine, MonthCharges, NoShowRecord, SpaceUse
from charging.rounding import allocate, eur, hours, largest_remainder
from charging.serialise import LINE_FIELDS, line_dict
from charging.tariff import Tariff
from charging.usage import NS_PER_HOUR, charged_hours, no_show_records, space_uses
from charging.weekly import weekly_weighted_hours
from core.calendar import month_bounds
from core.registry import Site

__all__ = [
    "BASE_LINE",
    "HASH_SCHEME",
    "LINE_FIELDS",
    "NS_PER_HOUR",
    "AgencySummary",
    "ChargeLine",
    "MonthCharges",
    "NoShowRecord",
    "SpaceUse",
    "allocate",
    "compute_month",
    "eur",
    "hash_inputs",
    "hours",
    "largest_remainder",
    "line_dict",
    "parse_month",
    "provisional_period",
]

_MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(month: str) -> tuple[int, int]:
    m = _MONTH_RE.match(month)
    if not m:
        raise ValueError(f"month {month!r} is not like 2026-11")
    return int(m.group(1)), int(m.group(2))


def compute_month(
    *,
    site: Site,
    month: str,
    intervals: pd.DataFrame,
    bookings: Sequence[Booking],
    tariff: Tariff,
    until: datetime | None = None,
) -> MonthCharges:
    """The charges of one site and local calendar month.

    ``intervals``: state spells (space, start, end, state) covering the month,
    not clipped (no-shows need the time outside opening hours; usage is clipped
    here to the opening hours of ``core.calendar``). ``bookings``: the site's
    bookings (any period; those overlapping the month are used), validated.
    ``until``: for a month in progress, the instant the figures run to; the
    result is provisional and its cost pro rata (``provisional_period``).
    """
    year, mon = parse_month(month)
    version, pricing = tariff.pricing(site.id, year, mon)
    start, end, fraction = provisional_period(site=site, year=year, month=mon, until=until)
    for space in site.spaces:
        pricing.weight_of(space.type)  # every type in use needs a weight: fail early
    bookings = check_bookings([b for b in bookings if b.site == site.id], site=site)
    month_bookings = sorted(
        (b for b in bookings if b.start < end and b.end > start), key=lambda b: b.id
    )
    inputs_hash = hash_inputs(
        site=site,
        month=month,
        intervals=intervals,
        bookings=month_bookings,
        tariff_name=tariff.name,
        version=version,
        until=end if fraction != 1 else None,
    )
    clipped = clip_to_opening_hours(intervals=intervals, site=site, start=start, end=end)
    attributed = attribute(intervals=clipped, bookings=month_bookings, site=site)
    starting = [b for b in month_bookings if start <= b.start < end]
    statuses = find_no_shows(
        intervals=intervals,
        bookings=starting,
        site=site,
        window_minutes=pricing.no_show.window_minutes,
    )
    open_ns = opening_ns(site=site, start=start, end=end)
    no_shows = no_show_records(site, pricing, statuses, month_bookings, attributed, start, end)
    spaces = space_uses(site, pricing, clipped, attributed, open_ns, charged_hours(no_shows))
    priced = price(
        site=site,
        month=month,
        start=start,
        end=end,
        tariff=tariff,
        version=version,
        pricing=pricing,
        inputs_hash=inputs_hash,
        spaces=spaces,
        no_shows=no_shows,
        statuses=statuses,
        cost_fraction=fraction,
    )
    return replace(
        priced, weeks=weekly_weighted_hours(site=site, attributed=attributed, charges=priced)
    )


def provisional_period(
    *, site: Site, year: int, month: int, until: datetime | None
) -> tuple[datetime, datetime, Fraction]:
    """The period a month's figures cover and its share of the month's cost.

    A whole month: its bounds and 1. A month in progress (``until`` inside
    it): up to ``until``, and the elapsed share of the month's opening time, so
    a provisional figure is never the full month's cost. Opening time, not
    calendar time: a weekend that has passed costs nothing."""
    start, end = month_bounds(site, year, month)
    if until is None or until >= end:
        return start, end, Fraction(1)
    cut = max(until, start)
    total = opening_ns(site=site, start=start, end=end)
    elapsed = opening_ns(site=site, start=start, end=cut)
    return start, cut, Fraction(elapsed, total) if total else Fraction(0)
