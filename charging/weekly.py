"""An agency's weighted hours week by week, for the statement's summary chart.

The month's lines say how many weighted hours an agency used; this splits the
same hours over the ISO weeks of the site's local calendar, so the weeks of an
agency add up exactly to its usage lines (pool pieces by its pool share, every
piece times its line's scale, no-show hours in the week the booking started).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING

from charging.attribution import POOL, to_ns

if TYPE_CHECKING:
    import pandas as pd

    from charging.charges import MonthCharges
    from core.registry import Site

NS_PER_HOUR = 3_600_000_000_000


@dataclass(frozen=True)
class WeekUse:
    agency: str
    week: str  # ISO week, "2026-W45"
    first_day: date  # its Monday (may be before the month)
    weighted_h: Fraction


def iso_weeks(*, start: datetime, end: datetime, site: Site) -> list[tuple[str, date]]:
    """The ISO weeks that hold a local day of [start, end), in order."""
    day = start.astimezone(site.tz).date()
    last = (end.astimezone(site.tz) - timedelta(microseconds=1)).date()
    out: list[tuple[str, date]] = []
    while day <= last:
        y, w, _ = day.isocalendar()
        key = f"{y}-W{w:02d}"
        if not out or out[-1][0] != key:
            out.append((key, day - timedelta(days=day.weekday())))
        day += timedelta(days=1)
    return out


def weekly_weighted_hours(
    *, site: Site, attributed: pd.DataFrame, charges: MonthCharges
) -> tuple[WeekUse, ...]:
    """Every agency's weighted hours per ISO week of the month (zeros included)."""
    scale = {(ln.agency, ln.line): ln.scale for ln in charges.lines}
    share = {a.agency: a.pool_share for a in charges.agencies}
    uses = {u.space: u for u in charges.spaces}
    acc: dict[tuple[str, str], Fraction] = defaultdict(Fraction)

    def week_of(t: datetime) -> str:
        y, w, _ = t.astimezone(site.tz).isocalendar()
        return f"{y}-W{w:02d}"

    if len(attributed):
        ns = (to_ns(attributed["end"]) - to_ns(attributed["start"])).tolist()
        starts = to_ns(attributed["start"]).tolist()
        for t0, space, agency, basis, d in zip(
            starts, attributed["space"], attributed["agency"], attributed["basis"], ns, strict=True
        ):
            use = uses[space]
            hours = Fraction(int(d), NS_PER_HOUR) * use.weight
            week = week_of(datetime.fromtimestamp(t0 // 10**9, UTC))
            if basis == POOL:
                for a, s in share.items():
                    if s and (a, use.space_type) in scale:
                        acc[(a, week)] += hours * s * scale[(a, use.space_type)]
            else:
                acc[(agency, week)] += hours * scale[(agency, use.space_type)]
    for n in charges.no_shows:
        if n.charged_h:
            acc[(n.agency, week_of(n.start))] += n.charged_h * uses[n.space].weight
    weeks = iso_weeks(start=charges.period_start, end=charges.period_end, site=site)
    return tuple(
        WeekUse(agency=a, week=key, first_day=first, weighted_h=acc.get((a, key), Fraction(0)))
        for a in charges.agency_ids
        for key, first in weeks
    )
