"""Opening, unknown, observed and occupied time; coverage, time utilisation,
frequency and intensity; per space or group, per calendar bucket; the
weekday x hour heatmap.

Input is what ``clip_to_opening`` returns, so every second counted here is an
opening second of an open local day. Definitions and worked examples:
docs/metrics.md.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

import numpy as np
import pandas as pd

from core.registry import Site
from metrics.cells import NS_COLUMNS, day_cells, hour_cells
from metrics.intervals import CLIPPED_COLUMNS, require_columns, space_codes

Grouping = Literal["space", "zone", "floor", "site", "agency", "space_type"]
Bucket = Literal["hour", "day", "week", "month"]
GROUPINGS: tuple[Grouping, ...] = ("space", "zone", "floor", "site", "agency", "space_type")
BUCKETS: tuple[Bucket, ...] = ("hour", "day", "week", "month")
#: The agency "group" of spaces in zones not dedicated to any agency.
SHARED = "_shared"
#: A day counts towards frequency when the space was occupied at least this long.
FREQUENCY_MIN_S = 15 * 60

SUM_COLUMNS = ("opening_s", "unknown_s", "observed_s", "occupied_s")


def group_of(*, site: Site, by: Grouping) -> dict[str, str]:
    """Which group of kind ``by`` each space of the site belongs to (space id -> group).

    ``agency``: a space belongs to the agency its zone is dedicated to; spaces
    of shared zones form the group ``_shared`` (their use is attributed to
    agencies only by the charging rules, from bookings)."""
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}; got {by!r}")
    out = {}
    for space in site.spaces:
        zone = site.zone(space.zone)
        out[space.id] = {
            "space": space.id,
            "zone": zone.id,
            "floor": zone.floor,
            "site": site.id,
            "agency": zone.agency or SHARED,
            "space_type": space.type.value,
        }[by]
    return out


def _check(intervals: pd.DataFrame) -> None:
    require_columns(intervals, CLIPPED_COLUMNS, what="clipped intervals (clip_to_opening)")


_NS = 10**9


def _sums(p: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    # Integer nanoseconds are added exactly, then turned into seconds once. A
    # year of a big site's opening time passes int64 (9.2e18 ns: ~930 spaces
    # of 11-hour days), so whole seconds and the nanoseconds below them are
    # summed apart (neither can overflow) and joined as Python integers.
    cols = ["opening_ns", "unknown_ns", "occupied_ns"]
    parts = {}
    for c in cols:
        whole, below = np.divmod(p[c].to_numpy(dtype=np.int64), _NS)
        parts[c + "_whole"], parts[c + "_below"] = whole, below
    g = pd.DataFrame(parts, index=p.index).groupby(
        [p[k] for k in keys], sort=True, observed=True, dropna=False
    )
    summed = g.sum()
    total = {
        c: summed[c + "_whole"].astype(object) * _NS + summed[c + "_below"].astype(object)
        for c in cols
    }

    def seconds(ns: pd.Series) -> pd.Series:
        return pd.Series([v / _NS for v in ns], index=ns.index, dtype=float)

    return pd.DataFrame(
        {
            "opening_s": seconds(total["opening_ns"]),
            "unknown_s": seconds(total["unknown_ns"]),
            "occupied_s": seconds(total["occupied_ns"]),
            "observed_s": seconds(total["opening_ns"] - total["unknown_ns"]),
        }
    )


def _ratios(out: pd.DataFrame) -> pd.DataFrame:
    opening = out["opening_s"].to_numpy(dtype=float)
    observed = out["observed_s"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["coverage"] = np.where(opening > 0, observed / opening, np.nan)
        out["utilisation"] = np.where(observed > 0, out["occupied_s"] / observed, np.nan)
    return out


def bucket_of(p: pd.DataFrame, bucket: Bucket | None) -> pd.Series | None:
    """The bucket label of each cell of ``p`` (naive local start; None: no buckets)."""
    if bucket is None:
        return None
    day = pd.to_datetime(p["day"])
    if bucket == "hour":
        return p["hour"]
    if bucket == "day":
        return day
    if bucket == "week":  # ISO weeks start on Monday
        return day - pd.to_timedelta(day.dt.day_of_week, unit="D")
    if bucket == "month":
        return day - pd.to_timedelta(day.dt.day - 1, unit="D")
    raise ValueError(f"bucket must be one of {', '.join(BUCKETS)} or None; got {bucket!r}")


def utilisation_table(
    *,
    intervals: pd.DataFrame,
    site: Site,
    by: Grouping = "space",
    bucket: Bucket | None = None,
    frequency_min_s: float = FREQUENCY_MIN_S,
) -> pd.DataFrame:
    """Time figures per group (and per bucket of local time) of clipped
    intervals (``clip_to_opening``, all spaces, whole period): the hour cells
    of ``intervals`` through ``utilisation_from_cells``."""
    _check(intervals)
    cells = hour_cells(intervals=intervals, site=site)
    if bucket != "hour":
        cells = day_cells(cells=cells, site=site)
    return utilisation_from_cells(
        cells=cells, site=site, by=by, bucket=bucket, frequency_min_s=frequency_min_s
    )


def utilisation_from_cells(
    *,
    cells: pd.DataFrame,
    site: Site,
    by: Grouping = "space",
    bucket: Bucket | None = None,
    frequency_min_s: float = FREQUENCY_MIN_S,
) -> pd.DataFrame:
    """Time figures per group (and per bucket of local time) from cells
    (``metrics.cells``: hour cells, or day cells unless ``bucket`` is "hour").

    Columns: ``by``, [``bucket`` (naive local start of the hour/day/ISO week/
    month)], spaces, open_days, opening_s, unknown_s, observed_s, occupied_s,
    coverage (observed/opening), utilisation (occupied/observed: for a group, sum
    over sum), frequency (share of the group's space-days with at least
    ``frequency_min_s`` occupied; NaN for hour buckets), intensity (people-seconds
    while occupied / capacity-seconds, over spaces that count people; NaN when
    none). Groups without opening time in the period have no row.
    """
    if bucket is not None and bucket not in BUCKETS:
        raise ValueError(f"bucket must be one of {', '.join(BUCKETS)} or None; got {bucket!r}")
    if bucket == "hour" and "hour" not in cells.columns:
        raise ValueError("hour buckets need hour cells")
    groups = group_of(site=site, by=by)
    # Integer keys throughout (a year of hour cells is a million rows): the
    # space's registry index, and its group's rank among the sorted group names.
    code = space_codes(site, cells["space"])
    keep = np.flatnonzero(code >= 0)
    hours = [cells["hour"].to_numpy()[keep]] if "hour" in cells.columns else []
    order = keep[np.lexsort((*hours, cells["day"].to_numpy()[keep], code[keep]))]
    p = cells.iloc[order].reset_index(drop=True)  # canonical order (sort_cells)
    code = code[order]
    labels = np.asarray([groups[sp.id] for sp in site.spaces], dtype=object)
    names = np.unique(labels)
    p["g"] = np.searchsorted(names, labels)[code]
    p["code"] = code
    keys: list[str] = ["g"]
    b = bucket_of(p, bucket)
    if b is not None:
        p["bucket"] = b.to_numpy()
        keys.append("bucket")
    out = _sums(p, keys)
    grouped = p.groupby(keys, sort=True)
    out["spaces"] = grouped["code"].nunique()
    out["open_days"] = grouped["day"].nunique()

    # Frequency: a space-day counts when its occupied seconds reach the minimum.
    if bucket == "hour":
        out["frequency"] = np.nan
    else:
        per_day = p.groupby([*keys, "code", "day"], sort=True)["occupied_ns"].sum()
        used = (per_day >= round(frequency_min_s * 1e9)).astype(float)
        out["frequency"] = used.groupby(level=list(range(len(keys)))).mean()

    # Intensity: time-weighted people count while occupied, against capacity.
    capacity = np.asarray([float(sp.capacity or 0) for sp in site.spaces])
    seats = capacity[code] * p["counted_ns"].to_numpy() / 1e9
    ints = p.assign(seats=seats).groupby(keys, sort=True)[["people_s", "seats"]].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["intensity"] = np.where(ints["seats"] > 0, ints["people_s"] / ints["seats"], np.nan)

    out = _ratios(out).reset_index()
    out.insert(0, by, names[out.pop("g").to_numpy()])
    keys[0] = by
    cols = [
        *keys,
        "spaces",
        "open_days",
        *SUM_COLUMNS,
        "coverage",
        "utilisation",
        "frequency",
        "intensity",
    ]
    out["spaces"] = out["spaces"].astype(int)
    out["open_days"] = out["open_days"].astype(int)
    return out[cols]


def heatmap(
    *, intervals: pd.DataFrame, site: Site, spaces: Collection[str] | None = None
) -> pd.DataFrame:
    """The weekday x hour heatmap of clipped intervals (``heatmap_from_cells``)."""
    _check(intervals)
    return heatmap_from_cells(
        cells=hour_cells(intervals=intervals, site=site), site=site, spaces=spaces
    )


def heatmap_from_cells(
    *, cells: pd.DataFrame, site: Site, spaces: Collection[str] | None = None
) -> pd.DataFrame:
    """Weekday x local hour: columns weekday (0 = Monday), hour (0-23), opening_s,
    unknown_s, observed_s, occupied_s, coverage, utilisation; only cells with
    opening time. ``spaces`` restricts it to a group (None: the whole site).
    On the autumn DST day the local hour 03 happens twice; both count in it."""
    if spaces is not None:
        cells = cells[cells["space"].isin(list(spaces))]
    # Only integer nanoseconds are summed here, so the order of the cells does
    # not matter (no canonical sort of a year's million hour cells).
    hour_ns = cells["hour"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    day, within = np.divmod(hour_ns, 86_400 * 10**9)
    p = pd.DataFrame(
        {
            # naive local wall clock: 1970-01-01 was a Thursday (Monday = 0)
            "weekday": ((day + 3) % 7).astype(int),
            "hour": (within // (3_600 * 10**9)).astype(int),
            **{c: cells[c].to_numpy(dtype=np.int64) for c in NS_COLUMNS[:3]},
        }
    )
    out = _ratios(_sums(p, ["weekday", "hour"])).reset_index()
    return out[["weekday", "hour", *SUM_COLUMNS, "coverage", "utilisation"]]


__all__ = [
    "BUCKETS",
    "FREQUENCY_MIN_S",
    "GROUPINGS",
    "SHARED",
    "Bucket",
    "Grouping",
    "bucket_of",
    "group_of",
    "heatmap",
    "heatmap_from_cells",
    "utilisation_from_cells",
    "utilisation_table",
]
