"""Consolidation what-if: the daily peak of presence series summed in time.

Every source of presence (an agency's dedicated desks at a site, a share of a
site's shared desks, ...) is a weighted step function: each occupied clipped
interval raises the level by its weight at its start and lowers it at its end.
Moving staff from one site to another adds their step function to the
target's; the combined daily peak is the maximum of the *sum* of the steps,
aligned in UTC time, not the sum of each source's peak: two agencies whose
busiest hours differ need fewer desks together than their peaks added up
(docs/metrics.md, "Consolidation what-if").

A change counts in the local day (in the target's time zone) on which its
interval starts, so each interval's rise and fall fall in the same day and
an interval is never split between two days.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from core.registry import WEEKDAYS
from metrics.intervals import OCCUPIED, column_ns
from metrics.peaks import p90

#: The day-type label of the row over every day of the period.
ALL_DAYS = "all"


@dataclass(frozen=True, slots=True)
class Steps:
    """A weighted step function: at ``t[i]`` (UTC ns) the level changes by
    ``delta[i]``, counted in local day ``day[i]`` (datetime64[D])."""

    t: np.ndarray
    delta: np.ndarray
    day: np.ndarray

    @staticmethod
    def empty() -> Steps:
        return Steps(
            np.empty(0, dtype=np.int64),
            np.empty(0, dtype=float),
            np.empty(0, dtype="datetime64[D]"),
        )


def local_days(ns: np.ndarray, tz: ZoneInfo) -> np.ndarray:
    """The local dates (datetime64[D]) of UTC nanosecond instants in ``tz``."""
    stamps = pd.to_datetime(ns, utc=True).tz_convert(tz)
    return stamps.tz_localize(None).to_numpy().astype("datetime64[D]")


def occupied_steps(
    *, intervals: pd.DataFrame, spaces: Collection[str], tz: ZoneInfo, weight: float = 1.0
) -> Steps:
    """The step function of the occupied clipped intervals of ``spaces``,
    each counting ``weight`` (1 for a whole desk, a share for attributed use)."""
    if weight == 0 or intervals.empty or not spaces:
        return Steps.empty()
    chosen = (
        intervals["space"].isin(list(spaces)).to_numpy()
        & (intervals["state"] == OCCUPIED).to_numpy()
    )
    start = column_ns(intervals, "start", what="intervals")[chosen]
    end = column_ns(intervals, "end", what="intervals")[chosen]
    day = local_days(start, tz)
    n = len(start)
    return Steps(
        t=np.column_stack([start, end]).ravel(),
        delta=np.tile(np.array([weight, -weight], dtype=float), n),
        day=np.repeat(day, 2),
    )


def days_of(*, intervals: pd.DataFrame, tz: ZoneInfo) -> np.ndarray:
    """The local days (in ``tz``) on which the clipped intervals lie: the open
    days of their site, whatever their state."""
    if intervals.empty:
        return np.empty(0, dtype="datetime64[D]")
    return np.unique(local_days(column_ns(intervals, "start", what="intervals"), tz))


def summed_daily_peaks(*, sources: Sequence[Steps], days: np.ndarray) -> pd.DataFrame:
    """The daily peak of the sum of ``sources``: columns day (datetime64[D]),
    peak (float) and peak_at (UTC, the first moment it was reached; NaT when
    0). ``days`` are the days to report (zero when nothing happened)."""
    days = np.unique(np.asarray(days, dtype="datetime64[D]"))
    peak = np.zeros(len(days), dtype=float)
    first = np.full(len(days), np.iinfo(np.int64).min, dtype=np.int64)
    if sources:
        t = np.concatenate([s.t for s in sources])
        delta = np.concatenate([s.delta for s in sources])
        day = np.concatenate([s.day for s in sources])
        keep = np.isin(day, days)
        t, delta, day = t[keep], delta[keep], day[keep]
    if sources and len(t):
        # falls before rises at the same instant: intervals are half-open
        order = np.lexsort((delta, t, day))
        t, delta, day = t[order], delta[order], day[order]
        starts = np.flatnonzero(np.r_[True, day[1:] != day[:-1]])
        total = np.cumsum(delta)
        # each day's changes add up to zero; subtracting the level before the
        # day keeps float weights from drifting from one day to the next
        before = np.r_[0.0, total][starts]
        level = np.round(total - np.repeat(before, np.diff(np.r_[starts, len(t)])), 9)
        best = np.maximum.reduceat(level, starts)
        at_best = level == np.repeat(best, np.diff(np.r_[starts, len(t)]))
        when = np.minimum.reduceat(np.where(at_best, t, np.iinfo(np.int64).max), starts)
        slot = np.searchsorted(days, day[starts])
        peak[slot] = np.maximum(best, 0.0)
        first[slot] = np.where(best > 0, when, np.iinfo(np.int64).min)
    return pd.DataFrame(
        {
            "day": days,
            "peak": peak,
            "peak_at": pd.to_datetime(first, utc=True).as_unit("ns"),
        }
    )


def sum_of_daily_peaks(*, sources: Sequence[Steps], days: np.ndarray) -> pd.DataFrame:
    """The shortcut the what-if avoids: each source's own daily peak, added
    up per day (columns day, peak). Never below the aligned peak."""
    out = summed_daily_peaks(sources=[], days=days)[["day"]].copy()
    out["peak"] = 0.0
    for s in sources:
        out["peak"] += summed_daily_peaks(sources=[s], days=days)["peak"].to_numpy()
    return out


def fit_by_day_type(*, peaks: pd.DataFrame, capacity: float, margin: float) -> pd.DataFrame:
    """Does the demand fit? One row per weekday that has days, and one over
    all days (``ALL_DAYS``): days, max_peak, p90_peak, mean_peak, capacity,
    usable = capacity x (1 - margin), headroom = usable - max_peak (negative:
    it does not fit), days_over (days whose peak exceeds usable), fits
    (days_over == 0)."""
    if not 0 <= margin < 1:
        raise ValueError("margin must lie in [0, 1)")
    usable = capacity * (1 - margin)
    weekday = pd.to_datetime(peaks["day"]).dt.day_of_week
    groups = [(WEEKDAYS[w], peaks[weekday == w]) for w in sorted(set(weekday))]
    rows = []
    for label, part in [*groups, (ALL_DAYS, peaks)]:
        values = part["peak"].to_numpy(dtype=float)
        top = float(values.max()) if len(values) else 0.0
        over = int((values > usable + 1e-9).sum())
        rows.append(
            {
                "day_type": label,
                "days": len(values),
                "max_peak": top,
                "p90_peak": p90(values) if len(values) else math.nan,
                "mean_peak": float(values.mean()) if len(values) else math.nan,
                "capacity": capacity,
                "usable": usable,
                "headroom": usable - top,
                "days_over": over,
                "fits": over == 0,
            }
        )
    return pd.DataFrame(rows)


__all__ = [
    "ALL_DAYS",
    "Steps",
    "days_of",
    "fit_by_day_type",
    "local_days",
    "occupied_steps",
    "sum_of_daily_peaks",
    "summed_daily_peaks",
]
