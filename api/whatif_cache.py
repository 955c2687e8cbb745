"""The what-if's clipped intervals, kept per site and local day while the
day's daily summary says its raw points have not changed (docs/api.md,
"Consolidation what-if").

Reading a year of raw points into clipped intervals is nearly all of a
what-if's time, and a planner tries several plans over the same sites and
period. A day's intervals are kept under the *generation* of its summary
commit (``summaries.schema.Commit.gen``, new at every rewrite) and reused
only while that commit is current, by the summariser's own test: the
day has a commit with the current parameters, its dirty mark is the one the
commit saw, no day before it is dirty (a late point there can change the
state carried into it; the summariser's cascade then rewrites it, with a new
generation) and its raw points are still there (a pruned day reads as
nothing from raw points, and so it reads from here). Any other day, today
included, is read from raw points as before. Both give the same rows, so
the answer is the same with or without the cache (tests/api/test_whatif_cache.py).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from api.reports import Period
from core.registry import Site
from metrics import whatif as wi
from metrics.intervals import column_ns
from storage import Store
from summaries.retention import gone_days
from summaries.schema import read_commits
from summaries.summariser import SummaryParams, runs, site_status

#: the most interval rows kept (all sites): a site-year of the example site
#: (280 spaces) is ~0.56 M rows at ~47 bytes a row (~26 MB), so ~7 site-years
MAX_ROWS = 4_000_000

#: reads the clipped intervals of local days first..last (inclusive) from raw points
Reader = Callable[[date, date], pd.DataFrame]


def current_days(
    store: Store, site: Site, period: Period, params: SummaryParams, *, now: datetime | None = None
) -> dict[date, int]:
    """The days of ``period`` whose summary commit is current, with its
    generation (see the module docstring for the test)."""
    status = site_status(store, site, params, now=now)
    first_dirty = min(status.dirty, default=None)
    commits = read_commits(store, site, period.start, period.end)
    digest = params.digest(site)
    last = period.last_day if first_dirty is None else min(period.last_day, first_dirty - _ONE)
    if last < period.first_day:
        return {}
    gone = set(gone_days(store, site, period.first_day, last, raw_retention_days=None, now=now))
    out = {}
    for d, c in commits.items():
        if period.first_day <= d <= last and c.params == digest and d not in gone:
            out[d] = c.gen
    return out


_ONE = timedelta(days=1)


def by_day(
    intervals: pd.DataFrame, site: Site, first: date, last: date
) -> dict[date, pd.DataFrame]:
    """The intervals of each local day first..last (by the day their start
    falls on; clipped intervals never cross a day), empty frames included."""
    groups: dict[date, pd.DataFrame] = {}
    if not intervals.empty:
        start = column_ns(intervals, "start", what="intervals")
        days = wi.local_days(start, site.tz)
        for d in np.unique(days):
            groups[d.astype(date)] = intervals[days == d].reset_index(drop=True)
    out: dict[date, pd.DataFrame] = {}
    d = first
    while d <= last:
        part = groups.get(d)
        out[d] = part if part is not None else intervals.iloc[0:0].reset_index(drop=True)
        d += _ONE
    return out


class IntervalCache:
    """Clipped intervals per (store, site, local day), under the generation
    and parameters of the day's summary; the least recently used days go
    first once ``max_rows`` rows are kept. Thread-safe."""

    def __init__(self, max_rows: int = MAX_ROWS):
        self.max_rows = max_rows
        self._days: OrderedDict[tuple[int, str, date], tuple[int, str, pd.DataFrame]] = (
            OrderedDict()
        )
        self._rows = 0
        self._lock = threading.Lock()
        #: site-days answered from the cache / read from raw points (for benchmarks and tests)
        self.hits = 0
        self.misses = 0

    def intervals(
        self,
        *,
        store: Store,
        site: Site,
        period: Period,
        params: SummaryParams,
        read: Reader,
        now: datetime | None = None,
    ) -> pd.DataFrame:
        """The period's clipped intervals: current days from the cache, the
        others through ``read`` (in runs of consecutive days), keeping those
        that are current."""
        valid = current_days(store, site, period, params, now=now)
        digest = params.digest(site)
        frames: dict[date, pd.DataFrame] = {}
        with self._lock:
            for d, gen in valid.items():
                key = (id(store), site.id, d)
                entry = self._days.get(key)
                if entry is not None and entry[0] == gen and entry[1] == digest:
                    frames[d] = entry[2]
                    self._days.move_to_end(key)
        wanted = []
        d = period.first_day
        while d <= period.last_day:
            if d not in frames:
                wanted.append(d)
            d += _ONE
        for first, last in runs(wanted, max_len=len(wanted) or 1):
            for d, part in by_day(read(first, last), site, first, last).items():
                frames[d] = part
                if d in valid:
                    self._put((id(store), site.id, d), (valid[d], digest, part))
        with self._lock:
            self.hits += len(frames) - len(wanted)
            self.misses += len(wanted)
        parts = [frames[d] for d in sorted(frames)]
        nonempty = [p for p in parts if len(p)]
        if not nonempty:
            return parts[0] if parts else pd.DataFrame()
        return pd.concat(nonempty, ignore_index=True)

    def _put(self, key: tuple[int, str, date], entry: tuple[int, str, pd.DataFrame]) -> None:
        with self._lock:
            old = self._days.pop(key, None)
            if old is not None:
                self._rows -= len(old[2])
            self._days[key] = entry
            self._rows += len(entry[2])
            while self._rows > self.max_rows and self._days:
                _, dropped = self._days.popitem(last=False)
                self._rows -= len(dropped[2])

    @property
    def rows(self) -> int:
        return self._rows
