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
from metrics.intervals import (
    CLIPPED_COLUMNS,
    OCCUPIED,
    UNKNOWN,
    column_ns,
    ns_to_utc,
    require_columns,
    split_at,
)

Grouping = Literal["space", "zone", "floor", "site", "agency", "space_type"]
Bucket = Literal["hour", "day", "week", "month"]
GROUPINGS: tuple[Grouping, ...] = ("space", "zone", "floor", "site", "agency", "space_type")
BUCKETS: tuple[Bucket, ...] = ("hour", "day", "week", "month")
#: The agency "group" of spaces in zones not dedicated to any agency.
SHARED = "_shared"
#: A day counts towards frequency when the space was occupied at least this long.
FREQUENCY_MIN_S = 15 * 60
_QUARTER_NS = 15 * 60 * 1_000_000_000

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


def _local_hour_edges(site: Site, lo: int, hi: int) -> np.ndarray:
    """UTC instants in [lo, hi] where a local hour begins. Every time zone in use
    today is offset from UTC by a multiple of 15 minutes, so the local hours
    start on UTC quarter hours: test those."""
    grid = np.arange(lo - lo % _QUARTER_NS, hi + _QUARTER_NS, _QUARTER_NS, dtype=np.int64)
    local = ns_to_utc(grid).tz_convert(site.tz)
    return grid[np.asarray(local.minute == 0)]


def _pieces(intervals: pd.DataFrame, site: Site, *, hours: bool) -> pd.DataFrame:
    """Space, state, count, seconds, day; with ``hours`` also cut at local hours
    with column ``hour`` (naive local wall-clock hour start)."""
    s = column_ns(intervals, "start", what="intervals")
    e = column_ns(intervals, "end", what="intervals")
    if hours and len(s):
        src, s, e = split_at(s, e, _local_hour_edges(site, int(s.min()), int(e.max())))
    else:
        src = np.arange(len(s))
    out = pd.DataFrame(
        {
            "space": intervals["space"].to_numpy(dtype=object)[src],
            "state": intervals["state"].to_numpy(dtype=object)[src],
            "count": intervals["count"].to_numpy(dtype=float)[src],
            "seconds": (e - s) / 1e9,
            "day": intervals["day"].to_numpy()[src],
        }
    )
    if hours:
        wall = ns_to_utc(s).tz_convert(site.tz).tz_localize(None)
        out["hour"] = np.asarray(wall.floor("h"), dtype="datetime64[ns]")
    return out


def _bucket_of(p: pd.DataFrame, bucket: Bucket | None) -> pd.Series | None:
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


def _sums(p: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    sec = p["seconds"].to_numpy()
    p = p.assign(
        opening_s=sec,
        unknown_s=np.where(p["state"] == UNKNOWN, sec, 0.0),
        occupied_s=np.where(p["state"] == OCCUPIED, sec, 0.0),
    )
    g = p.groupby(keys, sort=True, observed=True, dropna=False)
    out = g[["opening_s", "unknown_s", "occupied_s"]].sum()
    out["observed_s"] = out["opening_s"] - out["unknown_s"]
    return out


def _ratios(out: pd.DataFrame) -> pd.DataFrame:
    opening = out["opening_s"].to_numpy(dtype=float)
    observed = out["observed_s"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["coverage"] = np.where(opening > 0, observed / opening, np.nan)
        out["utilisation"] = np.where(observed > 0, out["occupied_s"] / observed, np.nan)
    return out


def utilisation_table(
    *,
    intervals: pd.DataFrame,
    site: Site,
    by: Grouping = "space",
    bucket: Bucket | None = None,
    frequency_min_s: float = FREQUENCY_MIN_S,
) -> pd.DataFrame:
    """Time figures per group (and per bucket of local time).

    ``intervals``: output of ``clip_to_opening`` (all spaces, whole period).
    Columns: ``by``, [``bucket`` (naive local start of the hour/day/ISO week/
    month)], spaces, open_days, opening_s, unknown_s, observed_s, occupied_s,
    coverage (observed/opening), utilisation (occupied/observed: for a group, sum
    over sum), frequency (share of the group's space-days with at least
    ``frequency_min_s`` occupied; NaN for hour buckets), intensity (people-seconds
    while occupied / capacity-seconds, over spaces that count people; NaN when
    none). Groups without opening time in the period have no row.
    """
    _check(intervals)
    if bucket is not None and bucket not in BUCKETS:
        raise ValueError(f"bucket must be one of {', '.join(BUCKETS)} or None; got {bucket!r}")
    groups = group_of(site=site, by=by)
    p = _pieces(intervals, site, hours=bucket == "hour")
    if by != "space":
        p[by] = p["space"].map(groups)
    p = p[p[by].isin(set(groups.values()))]
    keys: list[str] = [by]
    b = _bucket_of(p, bucket)
    if b is not None:
        p["bucket"] = b.to_numpy()
        keys.append("bucket")
    out = _sums(p, keys)
    out["spaces"] = p.groupby(keys, sort=True)["space"].nunique()
    out["open_days"] = p.groupby(keys, sort=True)["day"].nunique()

    # Frequency: a space-day counts when its occupied seconds reach the minimum.
    if bucket == "hour":
        out["frequency"] = np.nan
    else:
        occ = np.where(p["state"] == OCCUPIED, p["seconds"], 0.0)
        day_keys = [*keys, "day"] if by == "space" else [*keys, "space", "day"]
        per_day = p.assign(occ=occ).groupby(day_keys, sort=True)["occ"].sum()
        used = (per_day >= frequency_min_s - 1e-9).astype(float)
        out["frequency"] = used.groupby(level=list(range(len(keys)))).mean()

    # Intensity: time-weighted people count while occupied, against capacity.
    capacity = {s.id: s.capacity for s in site.spaces}
    cap = p["space"].map(capacity).to_numpy(dtype=float)
    counted = (p["state"] == OCCUPIED).to_numpy() & ~np.isnan(p["count"].to_numpy()) & (cap > 0)
    people = np.where(counted, p["count"].to_numpy() * p["seconds"].to_numpy(), 0.0)
    seats = np.where(counted, cap * p["seconds"].to_numpy(), 0.0)
    ints = p.assign(people=people, seats=seats).groupby(keys, sort=True)[["people", "seats"]].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["intensity"] = np.where(ints["seats"] > 0, ints["people"] / ints["seats"], np.nan)

    out = _ratios(out).reset_index()
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
    """Weekday x local hour: columns weekday (0 = Monday), hour (0-23), opening_s,
    unknown_s, observed_s, occupied_s, coverage, utilisation; only cells with
    opening time. ``spaces`` restricts it to a group (None: the whole site).
    On the autumn DST day the local hour 03 happens twice; both count in it."""
    _check(intervals)
    if spaces is not None:
        intervals = intervals[intervals["space"].isin(list(spaces))]
    p = _pieces(intervals, site, hours=True)
    hour = pd.DatetimeIndex(p["hour"])
    p["weekday"] = np.asarray(hour.day_of_week, dtype=int)
    p["hour"] = np.asarray(hour.hour, dtype=int)
    out = _ratios(_sums(p, ["weekday", "hour"])).reset_index()
    return out[["weekday", "hour", *SUM_COLUMNS, "coverage", "utilisation"]]


__all__ = [
    "BUCKETS",
    "FREQUENCY_MIN_S",
    "GROUPINGS",
    "SHARED",
    "Bucket",
    "Grouping",
    "group_of",
    "heatmap",
    "utilisation_table",
]
