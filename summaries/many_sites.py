"""The summary rows of many sites' periods in one read each and checked
against every site's commits at once (a portfolio, docs/storage.md "Daily
summaries").

``PeriodData`` checks a site's rows against its commits (a row counts when
its ``gen`` is its day's commit's; a day counts when its commit's count of
rows is all there); a portfolio of 100 sites spent more in 100 such checks,
each with its own frame, than in the read. Here the rows of all the sites
come in one frame with a ``site`` column, checked in one pass over a table
of (site, day), with the same rule. What is returned is only the sites all
of whose summarised days are whole; the others are left to their own
``PeriodData`` reads (a torn or older day is read from raw points there).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from core.calendar import local_day_bounds
from core.registry import Site
from metrics.grouping import positions
from summaries.groups import visible_groups
from summaries.reader import PeriodData
from summaries.schema import Commit, local_day

_EPOCH = date(1970, 1, 1).toordinal()
_NS_PER_DAY = 86_400 * 10**9

#: how many rows each day's commit (of a period's) says a measurement (and
#: filter) holds
Expected = Callable[[PeriodData, Sequence[Commit]], list[int]]


@dataclass(frozen=True)
class Checked:
    """The rows of the whole sites (``whole[i]``: every summarised day of
    ``datas[i]`` has all its rows), with a column ``index``: the row's
    position in ``datas``."""

    rows: pd.DataFrame
    whole: np.ndarray


def group_rows_expected(level: str, view: str) -> Expected:
    """``summary_groups`` rows of a (level, stored view) a day's commit holds:
    a row per visible group on a day with cells; -1 (never whole) from a
    commit written before the group rows."""

    def expected(data: PeriodData, commits: Sequence[Commit]) -> list[int]:
        n = len(visible_groups(data.site, level=level, view=view))
        return [-1 if c.groups < 0 else (n if c.space_days else 0) for c in commits]

    return expected


def presence_rows_expected(data: PeriodData, commits: Sequence[Commit]) -> list[int]:
    return [c.presence for c in commits]


def checked_rows(
    datas: Sequence[PeriodData],
    measurement: str,
    *,
    where: dict[str, str] | None,
    expected: Expected,
    fields: Sequence[str] | None = None,
) -> Checked:
    """The rows of ``measurement`` (and ``where``; ``fields``: only those, and
    ``gen``) of the summarised days of every period of ``datas`` (one site
    each, one store), in one store read, with a ``day`` column (naive local
    midnight) and ``index``."""
    commits = [data.summarised_commits() for data in datas]
    ids = [data.site.id for data in datas]
    if len(set(ids)) != len(ids):
        raise ValueError("one period per site")
    used = [i for i, c in enumerate(commits) if c]
    if not used:
        return Checked(pd.DataFrame({"index": []}), np.zeros(len(datas), bool))
    first = min(min(commits[i]) for i in used)
    width = (max(max(commits[i]) for i in used) - first).days + 1
    # per (period, day of the span): its commit's gen and row count, -1: none
    gen = np.full((len(datas), width), -1, np.int64)
    count = np.full((len(datas), width), -1, np.int64)
    for i in used:
        days = [(d - first).days for d in commits[i]]
        gen[i, days] = [c.gen for c in commits[i].values()]
        count[i, days] = expected(datas[i], list(commits[i].values()))
    is_day = gen >= 0
    lo = min(local_day_bounds(datas[i].site, min(commits[i]))[0] for i in used)
    hi = max(local_day_bounds(datas[i].site, max(commits[i]))[1] for i in used)
    store = datas[used[0]].store
    if any(datas[i].store is not store for i in used):
        raise ValueError("the periods must read one store")
    frame = store.read(
        measurement,
        start=lo,
        end=hi,
        where={"site": [ids[i] for i in used], **(where or {})},
        fields=None if fields is None else [*fields, "gen"],
    )
    if not len(frame):
        return Checked(frame.assign(index=[]), np.asarray(~is_day.any(axis=1)))
    index = positions(frame["site"], pd.Index(ids))
    day = _local_day_numbers(frame, index, [d.site for d in datas])
    frame["day"] = (day * _NS_PER_DAY).astype("datetime64[ns]")
    day = day - (first.toordinal() - _EPOCH)
    inside = (day >= 0) & (day < width) & (index >= 0)
    flat = np.where(inside, index * width + day, 0)
    keep = inside & is_day.ravel()[flat]
    keep &= frame["gen"].to_numpy(dtype=np.int64) == gen.ravel()[flat]
    found = np.bincount(flat[keep], minlength=gen.size).reshape(gen.shape)
    whole = ((found == count) | ~is_day).all(axis=1)
    keep &= whole[np.where(inside, index, 0)]
    rows = frame if keep.all() else frame[keep].reset_index(drop=True)
    rows["index"] = index[keep]
    return Checked(rows, whole)


def _local_day_numbers(frame: pd.DataFrame, index: np.ndarray, sites: Sequence[Site]) -> np.ndarray:
    """The local day (days since 1970-01-01) of each row (``time``, UTC), in
    the time zone of its site (``sites[index]``): each distinct time of a
    zone converted once (a year of days, not 300,000 rows)."""
    time = frame["time"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    zones = pd.Index([s.timezone for s in sites])
    zone_code, zone_names = pd.factorize(zones)
    row_zone = np.where(index >= 0, zone_code[np.maximum(index, 0)], -1)
    out = np.zeros(len(frame), np.int64)
    for z, _ in enumerate(zone_names):
        mask = row_zone == z
        if not mask.any():
            continue
        codes, uniques = pd.factorize(time[mask])
        some = sites[int(np.flatnonzero(zone_code == z)[0])]
        local = local_day(some, pd.Series(pd.to_datetime(uniques, utc=True)))
        out[mask] = local.view(np.int64)[codes] // _NS_PER_DAY
    return out


def whole_sites(datas: Sequence[PeriodData], reads: Sequence[tuple[Checked, str]]) -> list[int]:
    """The positions of the periods whose every day comes from summaries and
    whose rows of every read are whole; each of those records the reads
    (``kind``: the name its own read would record them under)."""
    out = []
    for i, data in enumerate(datas):
        if data.summary_key() is None or not all(c.whole[i] for c, _ in reads):
            continue
        for _, kind in reads:
            data.read_elsewhere(kind)
        out.append(i)
    return out


__all__ = [
    "Checked",
    "Expected",
    "checked_rows",
    "group_rows_expected",
    "presence_rows_expected",
    "whole_sites",
]
