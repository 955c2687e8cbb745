"""The efficiency rows of many sites in one pass (a portfolio, docs/metrics.md
"Portfolio"): ``metrics.efficiency.efficiency_of`` of every site, from frames
that hold all the sites' inputs with a ``site`` column, so the per-site work
is a few dict look-ups instead of a dozen small pandas frames.

The figures are the same floats as ``efficiency_of`` of each site alone:
sums are exact integers, the pool shares the same fractions, a daily
presence peak the same ``a + share x p`` maximum, and the mean, p90 and max
of each agency's daily peaks are taken by the same functions over the same
values in the same (day) order (``efficiency_rows_of`` builds the rows of
both).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from fractions import Fraction

import numpy as np
import pandas as pd

from charging.pricing import use_shares
from core.registry import Site
from metrics.efficiency import (
    EFFICIENCY_COLUMNS,
    PeriodFigures,
    check_margin,
    efficiency_rows_of,
)
from metrics.grouping import positions
from metrics.portfolio import NS_SUMS
from metrics.presence import DEFAULT_MARGIN

#: days since the epoch fit in 20 bits until the year 4840
_DAY_BITS = 20
_NS_PER_DAY = 86_400 * 10**9


def efficiency_of_sites(
    *,
    use: pd.DataFrame,
    total: pd.DataFrame,
    pairs: pd.DataFrame,
    site_desk_peaks: pd.DataFrame,
    sites: Sequence[Site],
    shared_use_s: Mapping[str, Mapping[str, float] | None] | None = None,
    margin: float = DEFAULT_MARGIN,
) -> dict[str, pd.DataFrame]:
    """``efficiency_of`` of every site of ``sites``, by site id (each its own
    frame, typed as ``efficiency_of`` types it).

    ``use``: columns site, agency, occupied_s, utilisation, coverage (a site's
    ``use`` of ``efficiency_of``); ``total``: site, utilisation, coverage (at
    most one row a site); ``pairs``: site and the presence pair columns
    agency, day, a, p, use_ns (``metrics.presence.PAIR_COLUMNS``; at is not
    read); ``site_desk_peaks``: site, day, peak (each site's daily desk
    peaks); ``shared_use_s``: by site id, ``efficiency_of``'s (None or
    missing: by use)."""
    check_margin(margin)
    index = pd.Index([s.id for s in sites])
    use_of = _figures_by_site(use, index, "agency", ("utilisation", "coverage", "occupied_s"))
    total_of = _figures_by_site(total, index, None, ("utilisation", "coverage"))
    presence = _presence_by_site(pairs, sites, index)
    observed = _observed_keys(pairs, index)
    site_peaks = _site_peaks_by_site(site_desk_peaks, index, observed)
    weights = shared_use_s or {}
    out = {}
    for i, site in enumerate(sites):
        u = use_of.get(i, {})
        t = total_of.get(i, {})
        shares, peaks = presence.get(i, ({}, {}))
        shares = shares or _shares(site, {})
        figures = PeriodFigures(
            utilisation=u.get("utilisation", {}),
            coverage=u.get("coverage", {}),
            occupied_s=u.get("occupied_s", {}),
            # a pandas sum of the site's row (0.0 for a NaN), NaN without one
            site_utilisation=_nansum(t.get("utilisation")),
            site_coverage=_nansum(t.get("coverage")),
            shares=shares,
            peaks=peaks,
            site_peaks=site_peaks.get(i, np.empty(0)),
        )
        rows = efficiency_rows_of(
            figures=figures, site=site, shared_use_s=weights.get(site.id), margin=margin
        )
        out[site.id] = pd.DataFrame(rows, columns=list(EFFICIENCY_COLUMNS))
    return out


def _nansum(values: Mapping[str, float] | None) -> float:
    if not values:
        return float("nan")
    return float(np.nansum(np.array(list(values.values()), dtype=float)))


def _figures_by_site(
    frame: pd.DataFrame, index: pd.Index, by: str | None, columns: Sequence[str]
) -> dict[int, dict[str, dict[str, float]]]:
    """Per site (its position in ``index``) and column, {group: float}."""
    out: dict[int, dict[str, dict[str, float]]] = {}
    if not len(frame):
        return out
    code = positions(frame["site"], index).tolist()
    keys = frame[by].astype(str).tolist() if by is not None else [""] * len(frame)
    for c in columns:
        for i, k, v in zip(code, keys, frame[c].to_numpy(dtype=float).tolist(), strict=True):
            if i >= 0:
                out.setdefault(i, {}).setdefault(c, {})[k] = float(v)
    return out


def _shares(site: Site, attributed_ns: Mapping[str, int]) -> dict[str, Fraction]:
    """``metrics.presence.pool_shares`` of the agencies' attributed desk-ns."""
    ids = [a.id for a in site.agencies]
    attributed = {a: Fraction(int(attributed_ns.get(a, 0))) for a in ids}
    htv = {a.id: Fraction(str(a.headcount_htv)) for a in site.agencies}
    return use_shares(ids=ids, attributed=attributed, htv=htv)[0]


def _presence_by_site(
    pairs: pd.DataFrame, sites: Sequence[Site], index: pd.Index
) -> dict[int, tuple[dict[str, Fraction], dict[str, np.ndarray]]]:
    """Per site: its pool shares and, by agency, its daily presence peaks
    (``pool_shares`` and ``daily_peaks_of`` of the site's pairs)."""
    if not len(pairs):
        return {}
    site = positions(pairs["site"], index)
    agency_code, agency_names = pd.factorize(pairs["agency"].astype(str))
    day = pairs["day"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    a = pairs["a"].to_numpy(dtype=np.int64)
    # (site, agency, day, a descending): the order of each site's sorted pairs
    order = np.lexsort((-a, day, agency_code, site))
    s, g, d = site[order], agency_code[order], day[order]
    new_day = np.ones(len(order), bool)
    new_day[1:] = (s[1:] != s[:-1]) | (g[1:] != g[:-1]) | (d[1:] != d[:-1])
    day_starts = np.flatnonzero(new_day)
    ds, dg = s[day_starts], g[day_starts]
    new_group = np.ones(len(day_starts), bool)
    new_group[1:] = (ds[1:] != ds[:-1]) | (dg[1:] != dg[:-1])
    group_starts = np.flatnonzero(new_group)
    # a day's pairs carry the same use_ns: its first counts, as pool_shares does
    use = np.add.reduceat(pairs["use_ns"].to_numpy(dtype=np.int64)[order][day_starts], group_starts)
    groups = list(zip(ds[group_starts].tolist(), dg[group_starts].tolist(), strict=True))
    attributed: dict[int, dict[str, int]] = {}
    for (i, k), total in zip(groups, use.tolist(), strict=True):
        attributed.setdefault(i, {})[str(agency_names[k])] = int(total)
    shares = {i: _shares(sites[i], of) for i, of in attributed.items() if i >= 0}
    share = np.array([float(shares[i].get(str(agency_names[k]), np.nan)) if i >= 0 else np.nan
                      for i, k in groups])  # fmt: skip
    share_of_row = np.repeat(share, np.diff(np.r_[group_starts, len(day_starts)]))
    share_of_row = np.repeat(share_of_row, np.diff(np.r_[day_starts, len(order)]))
    peak = a[order].astype(float) + share_of_row * pairs["p"].to_numpy(dtype=float)[order]
    top = np.fmax.reduceat(peak, day_starts)  # NaN only when every pair's is (as the sort)
    edges = np.r_[group_starts, len(day_starts)]
    out: dict[int, tuple[dict[str, Fraction], dict[str, np.ndarray]]] = {
        i: (shares[i], {}) for i in shares
    }
    for j, (i, k) in enumerate(groups):
        if i >= 0:
            out[i][1][str(agency_names[k])] = top[edges[j] : edges[j + 1]].copy()
    return out


def _day_keys(site_code: np.ndarray, day: pd.Series) -> np.ndarray:
    days = day.to_numpy(dtype="datetime64[ns]").view(np.int64) // _NS_PER_DAY
    return (site_code.astype(np.int64) << _DAY_BITS) + days


def _observed_keys(pairs: pd.DataFrame, index: pd.Index) -> np.ndarray:
    """(site, day) keys of the days with presence pairs (a desk observed)."""
    if not len(pairs):
        return np.zeros(0, np.int64)
    return np.unique(_day_keys(positions(pairs["site"], index), pairs["day"]))


def _site_peaks_by_site(
    peaks: pd.DataFrame, index: pd.Index, observed: np.ndarray
) -> dict[int, np.ndarray]:
    """Per site, its daily desk peaks (in day order) on its observed days."""
    if not len(peaks):
        return {}
    site = positions(peaks["site"], index)
    keys = _day_keys(site, peaks["day"])
    keep = np.isin(keys, observed) & (site >= 0)
    site, keys = site[keep], keys[keep]
    value = peaks["peak"].to_numpy(dtype=float)[keep]
    order = np.argsort(keys, kind="stable")  # by site, then day
    site, value = site[order], value[order]
    starts = np.flatnonzero(np.r_[True, site[1:] != site[:-1]]) if len(site) else np.zeros(0, int)
    edges = np.r_[starts, len(site)]
    return {int(site[b]): value[b:e].copy() for b, e in itertools.pairwise(edges)}


def group_totals(rows: pd.DataFrame, *, by: str) -> pd.DataFrame:
    """``metrics.portfolio.group_day_totals`` of many sites at once: per site
    and group (columns site, group, ``NS_SUMS``), the exact int64 sums of the
    rows' nanoseconds; sorted by site and group, the group in a column ``by``."""
    if not len(rows):
        return pd.DataFrame({"site": [], by: [], **{c: np.zeros(0, np.int64) for c in NS_SUMS}})
    site_code, sites = pd.factorize(rows["site"].astype(str), sort=True)
    group_code, groups = pd.factorize(rows["group"].astype(str), sort=True)
    key = site_code.astype(np.int64) * len(groups) + group_code
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    first = key[starts]
    return pd.DataFrame(
        {
            "site": np.asarray(sites, dtype=object)[first // len(groups)],
            by: np.asarray(groups, dtype=object)[first % len(groups)],
            **{
                c: np.add.reduceat(rows[c].to_numpy(dtype=np.int64)[order], starts) for c in NS_SUMS
            },
        }
    )


__all__ = ["efficiency_of_sites", "group_totals"]
