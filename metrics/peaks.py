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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.registry import Site
from metrics.intervals import CLIPPED_COLUMNS, OCCUPIED, column_ns, require_columns, space_codes
from metrics.utilisation import Grouping, group_of

#: Daily peaks are summarised by this percentile (numpy's "linear" method).
PEAK_PERCENTILE = 90.0


@dataclass(frozen=True, slots=True)
class PeakInput:
    """Clipped intervals as arrays, prepared once for many ``peaks_of`` calls
    (the summariser asks a hundred group levels, type filters and views of
    the same intervals)."""

    space: np.ndarray  # index into site.spaces per row (-1: not in the site)
    day: np.ndarray  # index into ``days`` per row
    days: np.ndarray  # the distinct local days (datetime64[ns]), sorted
    # the occupied rows' +1/-1 events, sorted once by (day, time, delta): ends
    # before starts at the same instant, as intervals are half-open
    ev_space: np.ndarray
    ev_day: np.ndarray
    ev_t: np.ndarray
    ev_delta: np.ndarray
    # group labels per grouping, filled on first use: (sorted names, code per space)
    labels: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def label_codes(self, site: Site, by: Grouping) -> tuple[np.ndarray, np.ndarray]:
        if by not in self.labels:
            groups = group_of(site=site, by=by)
            labels = np.array([groups[sp.id] for sp in site.spaces], dtype=object)
            names, codes = np.unique(labels, return_inverse=True)
            self.labels[by] = (names, codes.astype(np.int64))
        return self.labels[by]


def prepare_peaks(*, intervals: pd.DataFrame, site: Site) -> PeakInput:
    require_columns(intervals, CLIPPED_COLUMNS, what="clipped intervals (clip_to_opening)")
    space = space_codes(site, intervals["space"])
    days, day = np.unique(intervals["day"].to_numpy(dtype="datetime64[ns]"), return_inverse=True)
    day = day.astype(np.int64)
    occ = (intervals["state"] == OCCUPIED).to_numpy() & (space >= 0)
    n = int(occ.sum())
    start = column_ns(intervals, "start", what="intervals")[occ]
    end = column_ns(intervals, "end", what="intervals")[occ]
    ev_t = np.column_stack([start, end]).ravel()
    ev_delta = np.tile(np.array([1, -1], dtype=np.int64), n)
    ev_day = np.repeat(day[occ], 2)
    order = np.lexsort((ev_delta, ev_t, ev_day))
    return PeakInput(
        space=space,
        day=day,
        days=days,
        ev_space=np.repeat(space[occ], 2)[order],
        ev_day=ev_day[order],
        ev_t=ev_t[order],
        ev_delta=ev_delta[order],
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
    cols = peak_columns(prep, site=site, by=by, space_types=space_types, spaces=spaces)
    cols[by] = cols.pop("group")
    return pd.DataFrame({c: cols[c] for c in (by, "day", "spaces", "peak", "peak_at")})


def peak_columns(
    prep: PeakInput,
    *,
    site: Site,
    by: Grouping,
    space_types: Collection[str] | None = None,
    spaces: Collection[str] | None = None,
) -> dict[str, Any]:
    """The columns of ``peaks_of`` (the group under "group") as arrays: the
    summariser joins a hundred of them into one table."""
    names, code = prep.label_codes(site, by)
    wanted = {str(t) for t in space_types} if space_types is not None else None
    subset = set(spaces) if spaces is not None else None
    include = np.array(
        [
            (wanted is None or sp.type.value in wanted) and (subset is None or sp.id in subset)
            for sp in site.spaces
        ],
        dtype=bool,
    )
    sizes = np.bincount(code[include], minlength=len(names))
    # the groups and days that have intervals of included spaces
    rows = np.flatnonzero((prep.space >= 0) & include[np.maximum(prep.space, 0)])
    present = np.zeros(len(names), dtype=bool)
    present[code[prep.space[rows]]] = True
    day_present = np.zeros(len(prep.days), dtype=bool)
    day_present[prep.day[rows]] = True
    n_days = len(prep.days)
    peak = np.zeros((len(names), n_days), dtype=np.int64)
    first = np.full((len(names), n_days), np.iinfo(np.int64).min, dtype=np.int64)

    ev = np.flatnonzero(include[prep.ev_space])
    if len(ev):
        # a stable sort by group keeps each group's events in (day, time, delta)
        # order; a piece lies within one day, so each (group, day) block sums
        # to zero and one running sum over all blocks needs no reset
        g = code[prep.ev_space[ev]]
        o = ev[np.argsort(g.astype(np.int16 if len(names) < 2**15 else np.int64), kind="stable")]
        block = code[prep.ev_space[o]] * n_days + prep.ev_day[o]
        t, level = prep.ev_t[o], np.cumsum(prep.ev_delta[o])
        starts = np.flatnonzero(np.r_[True, block[1:] != block[:-1]])
        best = np.maximum.reduceat(level, starts)
        at_best = level == np.repeat(best, np.diff(np.r_[starts, len(level)]))
        when = np.minimum.reduceat(np.where(at_best, t, np.iinfo(np.int64).max), starts)
        peak.ravel()[block[starts]] = best
        first.ravel()[block[starts]] = when
    keep_g, keep_d = np.flatnonzero(present), np.flatnonzero(day_present)
    grid = np.ix_(keep_g, keep_d)
    return {
        "group": np.repeat(names[keep_g], len(keep_d)).astype(object),
        "day": np.tile(prep.days[keep_d], len(keep_g)),
        "spaces": np.repeat(sizes[keep_g], len(keep_d)).astype(np.int64),
        "peak": peak[grid].ravel(),
        "peak_at": pd.to_datetime(first[grid].ravel(), utc=True).as_unit("ns"),
    }


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
    if pd.api.types.is_integer_dtype(daily["peak"]) and (
        pd.api.types.is_object_dtype(daily[by]) or pd.api.types.is_string_dtype(daily[by])
    ):
        return _int_peak_summary(daily, by)
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


def _int_peak_summary(daily: pd.DataFrame, by: str) -> pd.DataFrame:
    """``peak_summary`` of integer peaks without a sort of the frame (efficiency
    over a portfolio asks it twice per site): the same frame. Integer peaks add
    up exactly in any order, so the means are the same floats."""
    code, labels = pd.factorize(daily[by], sort=True)
    peak = daily["peak"].to_numpy(dtype=np.int64)
    day = daily["day"].to_numpy()
    # per group: highest peak first, then the earliest day (the sort above)
    order = np.lexsort((day, -peak, code))
    heads = np.flatnonzero(np.r_[True, code[order][1:] != code[order][:-1]])
    first = order[heads]
    ends = np.r_[heads[1:], len(order)]
    sizes = ends - heads
    sorted_peak = peak[order]
    index = pd.Index(labels, name=by)
    out = pd.DataFrame(
        {
            "days": pd.Series(sizes.astype(np.int64), index=index),
            "max_peak": pd.Series(peak[first].astype(int), index=index),
            "max_day": pd.Series(day[first], index=index),
            "p90_peak": pd.Series(
                [p90(sorted_peak[a:b]) for a, b in zip(heads, ends, strict=True)], index=index
            ),
            "mean_peak": pd.Series(
                np.add.reduceat(sorted_peak, heads).astype(float) / sizes, index=index
            ),
        }
    )
    return out.reset_index()


__all__ = [
    "PEAK_PERCENTILE",
    "PeakInput",
    "daily_peaks",
    "p90",
    "peak_columns",
    "peak_summary",
    "peaks_of",
    "prepare_peaks",
]
