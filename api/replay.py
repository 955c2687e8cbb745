"""A past local day of a site, space by space, for replaying it on the plan.

The states are the report engine's own (``summaries.raw.read_intervals``, the
state intervals every figure is computed from), over the same period the
reports resolve for that day, so a replay and ``/utilisation`` of the day
agree: the occupied time of the replay's intervals within the opening hours
is the report's occupied time.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from api import reports
from core.registry import Site
from metrics.intervals import column_ns, opening_windows, to_ns
from storage import Store
from summaries.raw import read_intervals

_NS = 1_000_000_000


def _offsets(values: np.ndarray, t0: int) -> list[float]:
    # seconds from the day's start, to the millisecond: small to send, exact to sum
    return [round(float(v), 3) for v in (values - t0) / _NS]


def replay_day(
    store: Store,
    site: Site,
    day: date,
    *,
    spaces: frozenset[str] | None,
    silence_factor: float,
    merge_gap_s: float,
) -> dict[str, Any]:
    """State intervals of ``day`` (local), per space of ``spaces`` (None: all).

    Times are seconds from ``start_utc``; a space's intervals cover the day
    (until now, for today) without gaps. Raises ``reports.PeriodError`` for a
    day outside the calendar the reports accept or in the future."""
    if not reports.FIRST_DAY <= day < reports.LAST_DAY:
        last = reports.LAST_DAY - timedelta(days=1)
        raise reports.PeriodError("date", f"date must lie between {reports.FIRST_DAY} and {last}")
    period = reports.resolve_period(site, from_=day, to=day + timedelta(days=1), month=None)
    if period.start >= _now_floor(period.end):
        raise reports.PeriodError("date", f"date {day} has not started yet")
    iv = read_intervals(
        store=store,
        site=site,
        start=period.start,
        end=period.end,
        silence_factor=silence_factor,
        merge_gap_s=merge_gap_s,
    )
    if spaces is not None:
        iv = iv[iv["space"].isin(spaces)]
    t0 = to_ns(period.start, name="start")
    s = _offsets(column_ns(iv, "start", what="intervals"), t0)
    e = _offsets(column_ns(iv, "end", what="intervals"), t0)
    counts = [None if np.isnan(c) else int(c) for c in iv["count"].to_numpy(dtype=float)]
    out: dict[str, list[list[Any]]] = {}
    for space, a, b, state, n in zip(iv["space"], s, e, iv["state"], counts, strict=True):
        out.setdefault(space, []).append([a, b, state, n])
    windows = opening_windows(site=site, start=period.start, end=period.end)
    opening = list(
        zip(
            _offsets(column_ns(windows, "start", what="opening"), t0),
            _offsets(column_ns(windows, "end", what="opening"), t0),
            strict=True,
        )
    )
    return {
        "site": site.id,
        "date": day.isoformat(),
        "timezone": site.timezone,
        "start_utc": period.start.isoformat(),
        "end_utc": period.end.isoformat(),
        "duration_s": round((period.end - period.start).total_seconds(), 3),
        "opening": [list(w) for w in opening],
        "spaces": out,
    }


def _now_floor(end: datetime) -> datetime:
    # resolve_period keeps at least one second in a period that lies in the future
    return end - timedelta(seconds=1)
