"""Opening, unknown, observed and occupied time; coverage, time utilisation,
frequency and intensity; per space or group, per calendar bucket; the
weekday x hour heatmap.

Input is what ``clip_to_opening`` returns, so every second counted here is an
opening second of an open local day. Definitions and worked examples:
docs/metrics.md.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Literal

import numpy as np
import pandas as pd

from core.registry import Site
from metrics.cells import day_cells, hour_cells
from metrics.grouping import dense_codes, distinct_per_key, float_sums, group_keys, int_sums
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
    if by == "space":
        return {s.id: s.id for s in site.spaces}
    if by == "site":
        return {s.id: site.id for s in site.spaces}
    if by == "space_type":
        return {s.id: s.type.value for s in site.spaces}
    zones = {z.id: z for z in site.zones}
    if by == "zone":
        return {s.id: zones[s.zone].id for s in site.spaces}
    if by == "floor":
        return {s.id: zones[s.zone].floor for s in site.spaces}
    return {s.id: zones[s.zone].agency or SHARED for s in site.spaces}


def _check(intervals: pd.DataFrame) -> None:
    require_columns(intervals, CLIPPED_COLUMNS, what="clipped intervals (clip_to_opening)")


_NS = 10**9


def _key_sums(ns: dict[str, np.ndarray], key: np.ndarray, n_keys: int) -> pd.DataFrame:
    """Seconds per integer key 0..n_keys-1 of nanosecond columns, exactly. A
    year of a big site's opening time passes int64 (9.2e18 ns: ~930 spaces of
    11-hour days), so whole seconds and the nanoseconds below them are summed
    apart (neither can overflow) and joined by ns_to_seconds."""
    parts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for c in ("opening_ns", "unknown_ns", "occupied_ns"):
        whole, below = np.divmod(ns[c], _NS)
        parts[c] = (int_sums(whole, key, n_keys), int_sums(below, key, n_keys))
    (ow, ob), (uw, ub), (cw, cb) = parts["opening_ns"], parts["unknown_ns"], parts["occupied_ns"]
    return pd.DataFrame(
        {
            "opening_s": ns_to_seconds(ow, ob),
            "unknown_s": ns_to_seconds(uw, ub),
            "occupied_s": ns_to_seconds(cw, cb),
            "observed_s": ns_to_seconds(ow - uw, ob - ub),
        }
    )


_EXACT_WHOLE = 2**53 // _NS  # below this many seconds, whole x 1e9 + below < 2**53


def ns_to_seconds(whole: np.ndarray, below: np.ndarray) -> np.ndarray:
    """Seconds of ``whole`` x 1e9 + ``below`` nanoseconds (int64 sums of the
    parts), each the nearest float to the exact quotient. Below 2**53 ns the
    integer is a float exactly and one IEEE division rounds once; larger sums
    (a group's year) are divided as Python integers, which also round once."""
    w = np.asarray(whole, dtype=np.int64) + np.asarray(below, dtype=np.int64) // _NS
    r = np.asarray(below, dtype=np.int64) % _NS
    out = np.empty(len(w), dtype=float)
    fits = np.abs(w) < _EXACT_WHOLE
    out[fits] = (w[fits] * _NS + r[fits]).astype(float) / _NS
    big = np.flatnonzero(~fits)
    out[big] = [(int(w[i]) * _NS + int(r[i])) / _NS for i in big]
    return out


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
    day_all = cells["day"].to_numpy(dtype="datetime64[ns]")
    # the canonical order (sort_cells): float sums then add up in one order
    # whichever path (summaries or raw) made the cells
    order = keep[np.lexsort((*hours, day_all[keep], code[keep]))]
    code = code[order]
    labels = np.asarray([groups[sp.id] for sp in site.spaces], dtype=object)
    names = np.unique(labels)
    g = np.searchsorted(names, labels)[code]
    day = day_all[order]
    p = pd.DataFrame({"day": day, **({"hour": cells["hour"].to_numpy()[order]} if hours else {})})
    b = bucket_of(p, bucket)
    key, group_at, bucket_at = group_keys(g, None if b is None else b.to_numpy())
    n_keys = len(group_at)

    def col(name: str, dtype: Any) -> np.ndarray:
        return np.asarray(cells[name].to_numpy(dtype=dtype)[order])

    ns = {c: col(c, np.int64) for c in ("opening_ns", "unknown_ns", "occupied_ns")}
    out = _key_sums(ns, key, n_keys)
    n_spaces = len(site.spaces)
    day_code, day_uniq = dense_codes(day)
    out["spaces"] = distinct_per_key(key, code, n_spaces, n_keys)
    out["open_days"] = distinct_per_key(key, day_code, max(1, len(day_uniq)), n_keys)

    # Frequency: a space-day counts when its occupied seconds reach the minimum.
    if bucket == "hour":
        out["frequency"] = np.nan
    else:
        out["frequency"] = _frequency(
            key, code, day_code, ns["occupied_ns"], n_keys=n_keys,
            n_spaces=n_spaces, min_ns=round(frequency_min_s * 1e9),
        )  # fmt: skip

    # Intensity: time-weighted people count while occupied, against capacity.
    capacity = np.asarray([float(sp.capacity or 0) for sp in site.spaces])
    seats = capacity[code] * col("counted_ns", np.int64) / 1e9
    # (added in the canonical row order, as metrics.portfolio adds them: the same bits)
    people = float_sums(col("people_s", float), key, n_keys)
    seat_s = float_sums(seats, key, n_keys)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["intensity"] = np.where(seat_s > 0, people / seat_s, np.nan)

    out = _ratios(out).reset_index(drop=True)
    out.insert(0, by, names[group_at])
    cols: list[str] = [by]
    if bucket_at is not None:
        out.insert(1, "bucket", bucket_at)
        cols.append("bucket")
    cols += [
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


def _frequency(
    key: np.ndarray,
    code: np.ndarray,
    day_code: np.ndarray,
    occupied_ns: np.ndarray,
    *,
    n_keys: int,
    n_spaces: int,
    min_ns: int,
) -> np.ndarray:
    """Per key, the share of its space-days occupied at least ``min_ns``."""
    n_days = max(1, int(day_code.max(initial=0)) + 1)
    cell = (key.astype(np.int64) * n_spaces + code) * n_days + day_code
    cell_id, cell_uniq = pd.factorize(cell)
    # a space-day's nanoseconds are below 2**53, so float sums of them are exact
    per_day = np.bincount(cell_id, weights=occupied_ns.astype(float))
    cell_key = np.asarray(cell_uniq, dtype=np.int64) // (n_spaces * n_days)
    used = np.bincount(cell_key, weights=(per_day >= min_ns).astype(float), minlength=n_keys)
    return used / np.bincount(cell_key, minlength=n_keys)


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
    # naive local wall clock: 1970-01-01 was a Thursday (Monday = 0)
    slot = ((day + 3) % 7) * 24 + within // (3_600 * 10**9)
    key, slots = dense_codes(slot.astype(np.int64))
    ns = {c: cells[c].to_numpy(dtype=np.int64) for c in ("opening_ns", "unknown_ns", "occupied_ns")}
    out = _ratios(_key_sums(ns, key, len(slots)))
    out.insert(0, "hour", (slots % 24).astype(np.int64))
    out.insert(0, "weekday", (slots // 24).astype(np.int64))
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
    "ns_to_seconds",
    "utilisation_from_cells",
    "utilisation_table",
]
