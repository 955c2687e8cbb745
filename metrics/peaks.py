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

import numpy as np
import pandas as pd

from core.registry import Site
from metrics.intervals import CLIPPED_COLUMNS, OCCUPIED, column_ns, ns_to_utc, require_columns
from metrics.utilisation import Grouping, group_of

#: Daily peaks are summarised by this percentile (numpy's "linear" method).
PEAK_PERCENTILE = 90.0


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
    require_columns(intervals, CLIPPED_COLUMNS, what="clipped intervals (clip_to_opening)")
    groups = group_of(site=site, by=by)
    if space_types is not None:
        wanted = {str(t) for t in space_types}
        groups = {k: v for k, v in groups.items() if site.space(k).type.value in wanted}
    rows = intervals[intervals["space"].isin(list(groups))]
    label = rows["space"].map(groups)
    sizes = pd.Series(list(groups.values()), dtype=object).value_counts()

    # Every (group, open day) gets a row, even with nobody there.
    days = np.unique(rows["day"].to_numpy())
    names = np.unique(label.to_numpy(dtype=object)) if len(rows) else np.array([], dtype=object)
    grid = pd.MultiIndex.from_product([names, days], names=[by, "day"])

    occ = rows[(rows["state"] == OCCUPIED).to_numpy()]
    g_code, uniques = pd.factorize(occ["space"].map(groups), sort=True)
    d_code, d_uniques = pd.factorize(occ["day"], sort=True)
    s = column_ns(occ, "start", what="intervals")
    e = column_ns(occ, "end", what="intervals")
    g = np.concatenate([g_code, g_code])
    d = np.concatenate([d_code, d_code])
    t = np.concatenate([s, e])
    delta = np.concatenate([np.ones(len(s), np.int64), -np.ones(len(e), np.int64)])
    # A piece lies within one day, so each (group, day) block sums to zero and
    # one running sum over all blocks needs no reset.
    o = np.lexsort((delta, t, d, g))
    g, d, t, delta = g[o], d[o], t[o], delta[o]
    level = np.cumsum(delta)
    sweep = pd.DataFrame({"g": g, "d": d, "t": t, "level": level})
    best = sweep.sort_values(["g", "d", "level", "t"], ascending=[True, True, False, True])
    best = best.drop_duplicates(["g", "d"], keep="first")
    found = pd.DataFrame(
        {
            by: np.asarray(uniques, dtype=object)[best["g"].to_numpy()],
            "day": np.asarray(d_uniques)[best["d"].to_numpy()],
            "peak": best["level"].to_numpy(),
            "peak_at": ns_to_utc(best["t"].to_numpy()),
        }
    ).set_index([by, "day"])
    out = found.reindex(grid)
    out["peak"] = out["peak"].fillna(0).astype(int)
    out = out.reset_index()
    out.insert(2, "spaces", out[by].map(sizes).fillna(0).astype(int))
    return out[[by, "day", "spaces", "peak", "peak_at"]]


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


__all__ = ["PEAK_PERCENTILE", "daily_peaks", "p90", "peak_summary"]
