"""Per-group daily sums: a few rows per site and local day that a portfolio's
efficiency report reads instead of the day cells of every space (pure).

A row is (level, view, group, day): over the spaces of ``group`` that
``view`` may draw on (``summaries.compute.view_spaces``; ``ALL``: every
space), the day's sums of the day cells' integer nanoseconds, the number of
cells, and the day's peak of concurrent desks in use from the stored peak
table of (level, ``desk``, view) (-1: the group has no desk in the view).
Every figure is an integer taken from the cells and peaks the other
summaries hold, so whichever path builds the rows (the summariser from raw
points, a reader from stored or raw cells) gets the same integers, and sums
of them over days equal the sums over the cells exactly.

Stored levels (``GROUP_COMBINATIONS``): ``agency`` in view ``ALL`` (an
agency's groups never mix its spaces with another's, so a view of them is
the ``ALL`` rows of the groups it may see, as for peaks) and ``site`` in
view ``ALL`` and in every agency's view.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from core.registry import Site
from metrics.intervals import space_codes
from metrics.utilisation import group_of
from summaries.compute import ALL, view_spaces

#: the integer sums of a group's day cells a row holds
GROUP_SUMS = ("opening_ns", "unknown_ns", "occupied_ns")
GROUP_FIELDS = (*GROUP_SUMS, "space_days", "desk_peak")
GROUP_COLUMNS = ("level", "view", "group", "day", *GROUP_FIELDS)
#: the space type whose daily peak a row carries (efficiency's use rate)
DESK = "desk"


def group_combinations(site: Site) -> list[tuple[str, str]]:
    """(level, view) of every stored group table of a site."""
    return [("agency", ALL), ("site", ALL), *(("site", a.id) for a in site.agencies)]


def stored_view(level: str, view: str) -> str:
    """The stored view a (level, view) is read from: agency groups in ``ALL``."""
    return ALL if level == "agency" else view


_VISIBLE: dict[tuple[int, str, str], tuple[Site, frozenset[str]]] = {}


def visible_groups(site: Site, *, level: str, view: str) -> frozenset[str]:
    """The groups of ``level`` with at least one space ``view`` may draw on."""
    key = (id(site), level, view)
    hit = _VISIBLE.get(key)
    if hit is not None and hit[0] is site:  # the site object itself, not a reused id
        return hit[1]
    spaces = None if view == ALL else view_spaces(site, view)
    groups = group_of(site=site, by=level)  # type: ignore[arg-type]
    out = frozenset(g for s, g in groups.items() if spaces is None or s in spaces)
    if len(_VISIBLE) > 10_000:
        _VISIBLE.clear()
    _VISIBLE[key] = (site, out)
    return out


def group_table(
    *, cells: pd.DataFrame, desk_peaks: pd.DataFrame, site: Site, level: str, view: str
) -> pd.DataFrame:
    """The rows of one (level, view) (``GROUP_COLUMNS``), sorted by group and day.

    ``cells``: day cells (``metrics.cells.day_cells``; spaces outside the view
    are left out here); ``desk_peaks``: the daily peaks of desks of that
    level and view, columns group, day, peak (a ``summary_peaks`` table's or
    ``PeriodData.daily_peaks``'s, its level column named ``group``). A group
    has a row on a day it has cells or a desk peak."""
    if cells.empty and desk_peaks.empty:
        return empty_groups()
    groups = group_of(site=site, by=level)  # type: ignore[arg-type]
    allowed = None if view == ALL else view_spaces(site, view)
    labels = np.asarray([groups[s.id] for s in site.spaces], dtype=object)
    inside = np.asarray([allowed is None or s.id in allowed for s in site.spaces], dtype=bool)
    code = space_codes(site, cells["space"])
    keep = code >= 0
    keep[keep] = inside[code[keep]]
    sums = pd.DataFrame(
        {
            "group": labels[code[keep]],
            "day": cells["day"].to_numpy(dtype="datetime64[ns]")[keep],
            **{c: cells[c].to_numpy(dtype=np.int64)[keep] for c in GROUP_SUMS},
        }
    )
    g = sums.groupby(["group", "day"], sort=True)
    out = g[list(GROUP_SUMS)].sum()
    out["space_days"] = g.size()
    peaks = desk_peaks[["group", "day", "peak"]].copy()
    peaks["day"] = peaks["day"].to_numpy(dtype="datetime64[ns]")
    peaks["group"] = peaks["group"].astype(object)
    wanted = visible_groups(site, level=level, view=view)
    desk_peak = peaks[peaks["group"].isin(wanted)].set_index(["group", "day"])["peak"]
    joined = out.join(desk_peak.rename("desk_peak"), how="outer").sort_index()
    frame = joined.reset_index()
    return pd.DataFrame(
        {
            "level": np.full(len(frame), level, dtype=object),
            "view": np.full(len(frame), view, dtype=object),
            "group": frame["group"].to_numpy(dtype=object),
            "day": frame["day"].to_numpy(dtype="datetime64[ns]"),
            **{c: frame[c].fillna(0).to_numpy(dtype=np.int64) for c in GROUP_SUMS},
            "space_days": frame["space_days"].fillna(0).to_numpy(dtype=np.int64),
            "desk_peak": frame["desk_peak"].fillna(-1).to_numpy(dtype=np.int64),
        }
    )


def group_tables(
    *,
    cells: pd.DataFrame,
    peaks: pd.DataFrame,
    site: Site,
    combinations: Sequence[tuple[str, str]],
) -> pd.DataFrame:
    """``group_table`` of several (level, view), one after the other; ``peaks``:
    the summariser's peak table (``summaries.compute.peak_tables`` columns)."""
    parts = []
    for level, view in combinations:
        mine = peaks[(peaks["level"] == level) & (peaks["types"] == DESK) & (peaks["view"] == view)]
        parts.append(group_table(cells=cells, desk_peaks=mine, site=site, level=level, view=view))
    if not parts:
        return empty_groups()
    return pd.concat(parts, ignore_index=True)


def empty_groups() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "level": pd.Series([], dtype=object),
            "view": pd.Series([], dtype=object),
            "group": pd.Series([], dtype=object),
            "day": pd.Series([], dtype="datetime64[ns]"),
            **{c: pd.Series([], dtype=np.int64) for c in GROUP_FIELDS},
        }
    )


__all__ = [
    "DESK",
    "GROUP_COLUMNS",
    "GROUP_FIELDS",
    "GROUP_SUMS",
    "empty_groups",
    "group_combinations",
    "group_table",
    "group_tables",
    "stored_view",
    "visible_groups",
]
