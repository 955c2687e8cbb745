"""Hour cells: the seconds of every space per local hour, the unit that every
time figure (utilisation, coverage, frequency, intensity, heatmap) adds up.

A cell is (space, local day, local wall-clock hour) with integer nanoseconds
of opening, unknown, occupied and counted time (occupied with a people count,
in a space with a capacity) and the people-seconds while counted. Reports add
cells up; the daily summaries store them. Because both the raw path and the
summaries build cells with these functions and every report sums them in one
canonical order (``sort_cells``), the two paths give identical figures, to
the last bit of a float.

On the autumn DST day the local hour 03 happens twice; both count in the one
cell of wall-clock hour 03, as the hour buckets and the heatmap show it.
"""

from __future__ import annotations

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
    space_codes,
    split_at,
)

NS_COLUMNS = ("opening_ns", "unknown_ns", "occupied_ns", "counted_ns")
#: hour cells; day cells are the same without ``hour``
CELL_COLUMNS = ("space", "day", "hour", *NS_COLUMNS, "people_s")
DAY_COLUMNS = ("space", "day", *NS_COLUMNS, "people_s")
_QUARTER_NS = 15 * 60 * 1_000_000_000


def local_hour_edges(site: Site, lo: int, hi: int) -> np.ndarray:
    """UTC instants in [lo, hi] where a local hour begins. Every time zone in use
    today is offset from UTC by a multiple of 15 minutes, so the local hours
    start on UTC quarter hours: test those."""
    grid = np.arange(lo - lo % _QUARTER_NS, hi + _QUARTER_NS, _QUARTER_NS, dtype=np.int64)
    local = ns_to_utc(grid).tz_convert(site.tz)
    return grid[np.asarray(local.minute == 0)]


def empty_cells(*, hours: bool = True) -> pd.DataFrame:
    cols: dict[str, pd.Series] = {
        "space": pd.Series([], dtype=object),
        "day": pd.Series([], dtype="datetime64[ns]"),
    }
    if hours:
        cols["hour"] = pd.Series([], dtype="datetime64[ns]")
    cols.update({c: pd.Series([], dtype=np.int64) for c in NS_COLUMNS})
    cols["people_s"] = pd.Series([], dtype=float)
    return pd.DataFrame(cols)


def hour_cells(*, intervals: pd.DataFrame, site: Site) -> pd.DataFrame:
    """Cells (``CELL_COLUMNS``) of clipped intervals (``clip_to_opening``), in
    canonical order. Only hours with opening time have a cell; every space has
    one for every opening hour, since the intervals cover every space."""
    require_columns(intervals, CLIPPED_COLUMNS, what="clipped intervals (clip_to_opening)")
    if intervals.empty:
        return empty_cells()
    s = column_ns(intervals, "start", what="intervals")
    e = column_ns(intervals, "end", what="intervals")
    src, s, e = split_at(s, e, local_hour_edges(site, int(s.min()), int(e.max())))
    ns = e - s
    state = intervals["state"].to_numpy(dtype=object)[src]
    count = intervals["count"].to_numpy(dtype=float)[src]
    code = space_codes(site, intervals["space"])[src]
    capacity = np.array([sp.capacity or 0 for sp in site.spaces], dtype=float)
    occupied = state == OCCUPIED
    counted = occupied & ~np.isnan(count) & (capacity[np.maximum(code, 0)] > 0) & (code >= 0)
    wall = ns_to_utc(s).tz_convert(site.tz).tz_localize(None).floor("h")
    frame = pd.DataFrame(
        {
            "code": code,
            "hour": np.asarray(wall, dtype="datetime64[ns]"),
            "day": intervals["day"].to_numpy()[src],
            "opening_ns": ns,
            "unknown_ns": np.where(state == UNKNOWN, ns, 0),
            "occupied_ns": np.where(occupied, ns, 0),
            "counted_ns": np.where(counted, ns, 0),
            "people_ns": np.where(counted, np.nan_to_num(count) * ns, 0.0),
        }
    )
    frame = frame[frame["code"] >= 0]
    g = frame.groupby(["code", "hour"], sort=True)
    out = g[[*NS_COLUMNS, "people_ns"]].sum()
    out["day"] = g["day"].first()
    out = out.reset_index()
    names = np.asarray([sp.id for sp in site.spaces], dtype=object)
    return pd.DataFrame(
        {
            "space": names[out["code"].to_numpy()],
            "day": out["day"].to_numpy(dtype="datetime64[ns]"),
            "hour": out["hour"].to_numpy(dtype="datetime64[ns]"),
            **{c: out[c].to_numpy(dtype=np.int64) for c in NS_COLUMNS},
            "people_s": out["people_ns"].to_numpy(dtype=float) / 1e9,
        }
    )


def sort_cells(cells: pd.DataFrame, site: Site) -> pd.DataFrame:
    """Cells in canonical order: registry order of spaces, then day (and hour).
    Every sum over cells runs in this order, whichever path built them."""
    code = space_codes(site, cells["space"])
    keys = [cells["hour"].to_numpy()] if "hour" in cells.columns else []
    order = np.lexsort((*keys, cells["day"].to_numpy(), code))
    return cells.iloc[order].reset_index(drop=True)


def day_cells(*, cells: pd.DataFrame, site: Site) -> pd.DataFrame:
    """Hour cells added up per space and local day (``DAY_COLUMNS``), canonical order."""
    if cells.empty:
        return empty_cells(hours=False)
    cells = sort_cells(cells, site)
    code = space_codes(site, cells["space"])
    g = cells.assign(code=code).groupby(["code", "day"], sort=True)
    out = g[[*NS_COLUMNS, "people_s"]].sum().reset_index()
    names = np.asarray([sp.id for sp in site.spaces], dtype=object)
    return pd.DataFrame(
        {
            "space": names[out["code"].to_numpy()],
            "day": out["day"].to_numpy(dtype="datetime64[ns]"),
            **{c: out[c].to_numpy(dtype=np.int64) for c in NS_COLUMNS},
            "people_s": out["people_s"].to_numpy(dtype=float),
        }
    )


__all__ = [
    "CELL_COLUMNS",
    "DAY_COLUMNS",
    "NS_COLUMNS",
    "day_cells",
    "empty_cells",
    "hour_cells",
    "local_hour_edges",
    "sort_cells",
]
