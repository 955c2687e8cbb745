"""Exact peak concurrent occupancy of a group, from an event sweep.

The peak of a group is the highest number of its spaces occupied at the same
moment: every occupied interval adds one at its start and removes one at its
end; sorted in time (ends before starts at the same instant, as intervals are
half-open), the running sum is the number occupied, and its maximum per local
day is the daily peak. This is not the sum of per-space peaks: two desks used
one after the other have a peak of one between them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.registry import Site
from metrics.intervals import CLIPPED_COLUMNS, OCCUPIED, column_ns, require_columns, space_codes
from metrics.utilisation import Grouping, group_of

#: Daily peaks are summarised by this percentile (numpy's "linear" method).
PEAK_PERCENTILE = 90.0


@dataclass(frozen=True, slots=True)
class PeakInput:
    """Clipped intervals as arrays, prepared once for many ``peaks_of`` calls."""

    space: np.ndarray  # index into site.spaces per row (-1: not in the site)
    day: np.ndarray  # datetime64[ns] per row
    occupied: np.ndarray  # bool per row
    start: np.ndarray  # int64 ns per row
    end: np.ndarray


def prepare_peaks(*, intervals: pd.DataFrame, site: Site) -> PeakInput:
    require_columns(intervals, CLIPPED_COLUMNS, what="clipped intervals (clip_to_opening)")
    return PeakInput(
        space=space_codes(site, intervals["space"]),
        day=intervals["day"].to_numpy(dtype="datetime64[ns]"),
        occupied=(intervals["state"] == OCCUPIED).to_numpy(),
        start=column_ns(intervals, "start", what="intervals"),
        end=column_ns(intervals, "end", what="intervals"),
    )


def daily_peaks(
    *,
    intervals: pd.DataFrame,
    site: Site,
    by: Grouping = "site",
    space_types: Collection[str] | None = None,
) -> pd.DataFrame:
    """Peak concurrent occupied spaces per group and open local day.

    ``intervals``: output of ``clip_to_opening``. ``space_types`` restricts the
    count to spaces of those types (e.g. ``{"desk"}`` for desks in use).
    Columns: ``by``, day, spaces (in the group), peak (int), peak_at (UTC start
    of the first moment the peak was reached; NaT when the peak is 0). Every
    open day of the period has a row for every group, zero when nobody came.
    Unknown time is not occupied: check coverage beside it.
    """
    prep = prepare_peaks(intervals=intervals, site=site)
    return peaks_of(prep, site=site, by=by, space_types=space_types)


def peaks_of(
    prep: PeakInput,
    *,
    site: Site,
    by: Grouping = "site",
    space_types: Collection[str] | None = None,
    spaces: Collection[str] | None = None,
) -> pd.DataFrame:
    """``daily_peaks`` of prepared intervals; ``spaces`` further restricts the
    spaces counted (and the group sizes) to a subset, such as an agency's view."""
    groups = group_of(site=site, by=by)
    wanted = {str(t) for t in space_types} if space_types is not None else None
    subset = set(spaces) if spaces is not None else None
    labels = np.array([groups[sp.id] for sp in site.spaces], dtype=object)
    include = np.array(
        [
            (wanted is None or sp.type.value in wanted) and (subset is None or sp.id in subset)
            for sp in site.spaces
        ],
        dtype=bool,
    )
    sizes = pd.Series(labels[include], dtype=object).value_counts()
    known = prep.space >= 0
    rows = np.zeros(len(prep.space), dtype=bool)
    rows[known] = include[prep.space[known]]
    present = np.zeros(len(site.spaces), dtype=bool)
    present[prep.space[rows]] = True
    names = np.unique(labels[present]) if present.any() else np.array([], dtype=object)
    days = np.unique(prep.day[rows])
    g_of_space = np.full(len(site.spaces), -1, dtype=np.int64)
    g_of_space[present] = np.searchsorted(names, labels[present])
    n_days = len(days)
    peak = np.zeros(len(names) * n_days, dtype=np.int64)
    first = np.full(len(names) * n_days, np.iinfo(np.int64).min, dtype=np.int64)

    occ = rows & prep.occupied
    if occ.any():
        g = np.repeat(g_of_space[prep.space[occ]], 2)
        d = np.repeat(np.searchsorted(days, prep.day[occ]), 2)
        t = np.column_stack([prep.start[occ], prep.end[occ]]).ravel()
        delta = np.tile(np.array([1, -1], dtype=np.int64), int(occ.sum()))
        # Ends before starts at the same instant (intervals are half-open). A
        # piece lies within one day, so each (group, day) block sums to zero
        # and one running sum over all blocks needs no reset.
        o = np.lexsort((delta, t, d, g))
        block = (g * n_days + d)[o]
        t, level = t[o], np.cumsum(delta[o])
        starts = np.flatnonzero(np.r_[True, block[1:] != block[:-1]])
        best = np.maximum.reduceat(level, starts)
        at_best = level == np.repeat(best, np.diff(np.r_[starts, len(level)]))
        when = np.minimum.reduceat(np.where(at_best, t, np.iinfo(np.int64).max), starts)
        peak[block[starts]] = best
        first[block[starts]] = when
    peak_at = pd.to_datetime(first, utc=True).as_unit("ns")
    return pd.DataFrame(
        {
            by: np.repeat(names, n_days).astype(object),
            "day": np.tile(days, len(names)),
            "spaces": pd.Series(np.repeat(names, n_days), dtype=object)
            .map(sizes)
            .fillna(0)
            .to_numpy(dtype=np.int64),
            "peak": peak,
            "peak_at": peak_at,
        }
    )


def p90(values: np.ndarray | pd.Series | Sequence[float]) -> float:
    """90th percentile by linear interpolation between order statistics
    (numpy's default, Hyndman & Fan type 7): rank h = (n - 1) x 0.9 over the
    sorted values x[0..n-1]; p = x[floor h] + (h - floor h)(x[ceil h] - x[floor h])."""
    arr = np.asarray(values, dtype=float)
    if len(arr) == 0:
        return float("nan")
    return float(np.percentile(arr, PEAK_PERCENTILE, method="linear"))


def peak_summary(*, daily: pd.DataFrame, by: Grouping = "site") -> pd.DataFrame:
    """Per group: days, max_peak (the period's maximum), max_day (first day it
    happened), p90_peak (90th percentile of the daily peaks, see ``p90``),
    mean_peak."""
    require_columns(daily, (by, "day", "peak"), what="daily peaks")
    if daily.empty:
        return pd.DataFrame(columns=[by, "days", "max_peak", "max_day", "p90_peak", "mean_peak"])
    ordered = daily.sort_values([by, "peak", "day"], ascending=[True, False, True])
    first_max = ordered.drop_duplicates(by, keep="first").set_index(by)
    g = daily.groupby(by, sort=True)["peak"]
    out = pd.DataFrame(
        {
            "days": g.size(),
            "max_peak": g.max().astype(int),
            "max_day": first_max["day"],
            "p90_peak": g.agg(p90),
            "mean_peak": g.mean(),
        }
    )
    return out.reset_index()


__all__ = [
    "PEAK_PERCENTILE",
    "PeakInput",
    "daily_peaks",
    "p90",
    "peak_summary",
    "peaks_of",
    "prepare_peaks",
]
