"""Raw retention: which days' raw points are gone, refusing what would need
them, and dropping the raw points of summarised days (docs/storage.md, "Raw
retention").

A day is *gone* when it is beyond the horizon (it ended more than
``raw_retention_days`` before now, in the site's local days) or when its raw
points were dropped (a row in ``summary_pruned``, which outlives a later
change of the setting). A gone day is never computed from raw points again:
its summary, if it has one, is final. Reports take it from the summary; a
raw recompute (``source=raw``, a rebuild, rollups, charges) over it is
refused with ``RawRetentionError``.

Dropping: on SQLite the summariser deletes, each cycle, the raw points of
days beyond the horizon that have a valid, current and complete summary
(``Store.delete_points``, in bounded transactions), then records them in
``summary_pruned``. A day beyond the horizon without one keeps its raw points
and waits (``waiting``, logged): raising ``raw_retention_days`` lets the
summariser summarise it. On InfluxDB the raw points' retention policy expires
them whatever their summaries (``storage.influxrp``); the summariser records
every day that crosses the horizon, so that it stays refused after the
setting changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from core.calendar import local_day_bounds
from core.registry import Site
from core.timeutil import utcnow
from storage import RAW_MEASUREMENTS, Store
from summaries.counts import COUNTS
from summaries.presence import PRESENCE
from summaries.schema import (
    EPOCH,
    HOURS,
    PEAKS,
    SPACE_DAYS,
    Commit,
    local_day,
    read_commits,
    read_marks,
)

# tags site; time = local midnight; field gen: the summary's generation then (0: none)
PRUNED = "summary_pruned"
#: days of raw points dropped in one summariser cycle (bounds a cycle's work)
PRUNE_DAYS_PER_CYCLE = 31
SETTING = "raw_retention_days"


class RawRetentionError(ValueError):
    """A raw recompute was asked for days whose raw points are no longer kept."""

    def __init__(self, message: str, days: list[date]) -> None:
        super().__init__(message)
        self.days = days


def horizon(site: Site, *, raw_retention_days: int | None, now: datetime | None = None) -> date:
    """The first local day whose raw points are kept (``date.min``: all are)."""
    if raw_retention_days is None:
        return date.min
    cutoff = (now or utcnow()) - timedelta(days=raw_retention_days)
    # the day before the cutoff's ends at or before it: beyond; the cutoff's own does not
    return cutoff.astimezone(site.tz).date()


def read_pruned(store: Store, site: Site, start: datetime, end: datetime) -> dict[date, int]:
    """The days of [start, end) whose raw points were dropped, with the
    generation of the summary they were dropped under."""
    frame = store.read(PRUNED, start=start, end=end, where={"site": site.id})
    if frame.empty:
        return {}
    days = pd.DatetimeIndex(local_day(site, frame["time"])).date
    return {d: int(g) for d, g in zip(days, frame["gen"], strict=True)}


def read_pruned_of_sites(
    store: Store, sites: Sequence[Site], start: datetime, end: datetime
) -> dict[str, dict[date, int]]:
    """``read_pruned`` of many sites in one read (a portfolio)."""
    frame = store.read(PRUNED, start=start, end=end, where={"site": [s.id for s in sites]})
    of = {k: g for k, g in frame.groupby("site", sort=False)} if len(frame) else {}
    out: dict[str, dict[date, int]] = {}
    for s in sites:
        rows = of.get(s.id)
        if rows is None:
            out[s.id] = {}
            continue
        days = pd.DatetimeIndex(local_day(s, rows["time"])).date
        out[s.id] = {d: int(g) for d, g in zip(days, rows["gen"], strict=True)}
    return out


def gone_days(
    store: Store,
    site: Site,
    first: date,
    last: date,
    *,
    raw_retention_days: int | None,
    now: datetime | None = None,
    pruned: Mapping[date, int] | None = None,
) -> list[date]:
    """The days of first..last (inclusive) whose raw points are no longer all
    kept; ``pruned``: the site's ``read_pruned`` when the caller read it (for
    many sites at once, ``read_pruned_of_sites``), a span covering these days."""
    if last < first:
        return []
    edge = horizon(site, raw_retention_days=raw_retention_days, now=now)
    if pruned is None:
        start, end = local_day_bounds(site, first)[0], local_day_bounds(site, last)[1]
        pruned = read_pruned(store, site, start, end)
    return [d for d in _dates(first, last) if d < edge or d in pruned]


def refusal(what: str, days: list[date], *, raw_retention_days: int | None) -> str:
    """The message of a refused raw recompute, naming the setting."""
    span = days[0].isoformat() + (f"..{days[-1].isoformat()}" if len(days) > 1 else "")
    setting = (
        f"the store setting {SETTING} = {raw_retention_days}"
        if raw_retention_days is not None
        else f"the store setting {SETTING}, when it was set"
    )
    return (
        f"{what}: the raw points of {len(days)} day(s) ({span}) are not kept "
        f"({setting}); their daily summaries are, and reports with the default source "
        "answer from those"
    )


def require_raw(
    store: Store,
    site: Site,
    start: datetime,
    end: datetime,
    *,
    raw_retention_days: int | None,
    what: str,
    now: datetime | None = None,
) -> None:
    """Raise ``RawRetentionError`` unless every local day touching [start, end)
    still has its raw points."""
    first = start.astimezone(site.tz).date()
    last = (end - timedelta(microseconds=1)).astimezone(site.tz).date()
    days = gone_days(store, site, first, last, raw_retention_days=raw_retention_days, now=now)
    if days:
        raise RawRetentionError(refusal(what, days, raw_retention_days=raw_retention_days), days)


@dataclass
class Pruning:
    """What one retention pass did for a site."""

    pruned: list[date] = field(default_factory=list)  # recorded as dropped this pass
    waiting: list[date] = field(default_factory=list)  # beyond the horizon, raw kept
    points: int = 0  # raw points deleted


def apply_retention(
    store: Store,
    site: Site,
    *,
    digest: str,
    raw_retention_days: int | None,
    now: datetime | None = None,
    batch_rows: int = 20_000,
) -> Pruning:
    """Drop the raw points of the days beyond the horizon that are summarised
    (``digest``: the current summary parameters), at most
    ``PRUNE_DAYS_PER_CYCLE`` days a pass."""
    out = Pruning()
    edge = horizon(site, raw_retention_days=raw_retention_days, now=now)
    if edge == date.min:
        return out
    end = local_day_bounds(site, edge)[0]
    commits = read_commits(store, site, EPOCH, end)
    marks = read_marks(store, site, EPOCH, end)
    pruned = read_pruned(store, site, EPOCH, end)
    known = set(commits) | set(marks)
    if not known:
        return out
    clean = {
        d
        for d, c in commits.items()
        # a commit without presence pairs or entrance counts is to be summarised again
        if c.params == digest
        and (d not in marks or marks[d] == c.mark)
        and c.presence >= 0
        and c.counts >= 0
    }
    todo = [d for d in _dates(min(known), edge - timedelta(days=1)) if d not in pruned]
    if store.expires_raw:
        # the retention policy expires these whatever their summaries: record them
        out.pruned = todo[:PRUNE_DAYS_PER_CYCLE]
        out.waiting = [d for d in todo if d not in clean]
        _record(store, site, {d: commits[d].gen if d in clean else 0 for d in out.pruned})
        return out
    checked = [d for d in todo if d in clean][:PRUNE_DAYS_PER_CYCLE]
    ready = complete_days(store, site, {d: commits[d] for d in checked})
    out.waiting = [d for d in todo if d not in clean or (d in checked and d not in ready)]
    for a, b in _spans(sorted(ready), set(pruned) & clean):
        start, stop = local_day_bounds(site, a)[0], local_day_bounds(site, b)[1]
        out.points += sum(
            store.delete_points(
                m, start=start, end=stop, where={"site": site.id}, batch_rows=batch_rows
            )
            for m in RAW_MEASUREMENTS
        )
        days = [d for d in _dates(a, b) if d in ready]
        out.pruned += days
        # recorded after the points are gone: a crash in between deletes again
        _record(store, site, {d: commits[d].gen for d in days})
    return out


def complete_days(store: Store, site: Site, commits: dict[date, Commit]) -> set[date]:
    """The days whose summary rows are all there in their commit's generation
    (not torn by a crash or a racing writer): only those may lose their raw points."""
    from summaries.summariser import MAX_RUN_DAYS, runs

    ok: set[date] = set()
    for a, b in runs(sorted(commits), max_len=MAX_RUN_DAYS):
        start, end = local_day_bounds(site, a)[0], local_day_bounds(site, b)[1]
        counts: dict[str, dict[date, int]] = {}
        for measurement, kind in (
            (HOURS, "hours"),
            (SPACE_DAYS, "space_days"),
            (PEAKS, "peaks"),
            (PRESENCE, "presence"),
            (COUNTS, "counts"),
        ):
            frame = store.read(
                measurement, start=start, end=end, where={"site": site.id}, fields=["gen"]
            )
            per_day: dict[date, int] = {}
            if len(frame):
                uniq, inverse = np.unique(
                    local_day(site, frame["time"]).astype("datetime64[ns]"), return_inverse=True
                )
                udays = pd.DatetimeIndex(uniq).date
                want = np.array([commits[d].gen if d in commits else -1 for d in udays])
                match = frame["gen"].to_numpy(dtype=np.int64) == want[inverse]
                per_day = dict(
                    zip(
                        udays,
                        np.bincount(inverse[match], minlength=len(uniq)).tolist(),
                        strict=True,
                    )
                )
            counts[kind] = per_day
        for d in _dates(a, b):
            c = commits.get(d)
            if c is not None and all(
                counts[k].get(d, 0) == getattr(c, k)
                for k in ("hours", "space_days", "peaks", "presence", "counts")
            ):
                ok.add(d)
    return ok


def _spans(days: list[date], pruned_clean: set[date]) -> list[tuple[date, date]]:
    """Runs of consecutive ``days``, each reaching back over the clean days
    dropped before it, so that one latest point per series is all a run of
    dropped days keeps (``Store.delete_points``)."""
    from summaries.summariser import runs

    out = []
    for a, b in runs(days, max_len=10_000):
        while a - timedelta(days=1) in pruned_clean:
            a -= timedelta(days=1)
        out.append((a, b))
    return out


def _record(store: Store, site: Site, gens: dict[date, int]) -> None:
    if not gens:
        return
    days = sorted(gens)
    store.write_columns(
        PRUNED,
        time_ns=[int(pd.Timestamp(local_day_bounds(site, d)[0]).value) for d in days],
        tags={"site": site.id},
        fields={"gen": [gens[d] for d in days]},
    )


def _dates(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


__all__ = [
    "PRUNED",
    "PRUNE_DAYS_PER_CYCLE",
    "Pruning",
    "RawRetentionError",
    "apply_retention",
    "complete_days",
    "gone_days",
    "horizon",
    "read_pruned",
    "read_pruned_of_sites",
    "refusal",
    "require_raw",
]
