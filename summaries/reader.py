"""The inputs of every report over a period: from the daily summaries for the
closed days that have a valid, current summary, from raw points for the rest
(today so far, dirty days, days never summarised), or all from raw points
(``source="raw"``, for audits). Both paths build the same cells and peak rows
with the same functions, so the reports agree exactly.

A day whose raw points are gone (``summaries.retention``) comes from its
summary even when that is dirty or was computed with other parameters (a
*held* day: it is all there is); ``source="raw"`` over such a day raises
``RawRetentionError``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd

from charging.bookings import Booking
from core.calendar import local_day_bounds, opening_intervals_on
from core.registry import Site
from metrics.cells import CELL_COLUMNS, DAY_COLUMNS, day_cells, empty_cells, hour_cells
from metrics.intervals import clip_to_opening, state_intervals
from metrics.peaks import PeakInput, prepare_peaks
from metrics.presence import presence_pairs
from metrics.utilisation import group_of
from storage import Store
from summaries.compute import ALL, peak_table, view_spaces
from summaries.counts import COUNTS, counts_of_rows, empty_counts, read_raw_counts
from summaries.groups import DESK, GROUP_COLUMNS, group_table, stored_view, visible_groups
from summaries.presence import PRESENCE, pairs_of_rows, sort_pairs
from summaries.raw import read_inputs
from summaries.retention import RawRetentionError, gone_days, refusal
from summaries.schema import (
    GROUPS,
    HOURS,
    PEAKS,
    SPACE_DAYS,
    Commit,
    local_day,
    read_commits,
    read_marks,
    read_rows,
)
from summaries.summariser import SummaryParams, runs, today_of

Source = Literal["summaries", "raw"]


class _RowCache:
    """Summary rows already read and checked, by (store, site, measurement,
    filter, the commits' generations): a day rewritten has a new generation,
    so a hit is always the current committed version. Bounded in rows."""

    def __init__(self, max_rows: int = 4_000_000) -> None:
        self.max_rows = max_rows
        self.rows = 0
        self.entries: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self.lock:
            hit = self.entries.get(key)
            if hit is None:
                return None
            self.entries.move_to_end(key)
            return hit[0]

    def put(self, key: Any, value: Any, rows: int) -> None:
        with self.lock:
            if key in self.entries or rows > self.max_rows:
                return
            self.entries[key] = (value, rows)
            self.rows += rows
            while self.rows > self.max_rows:
                _, (_, n) = self.entries.popitem(last=False)
                self.rows -= n


_CACHE = _RowCache()
#: report tables made wholly of current summaries (``PeriodData.memo``)
_TABLES = _RowCache(max_rows=1_000_000)


def clear_cache() -> None:
    """Forget the rows read so far (what a freshly started process knows)."""
    for cache in (_CACHE, _TABLES):
        with cache.lock:
            cache.entries.clear()
            cache.rows = 0


def clear_report_tables() -> None:
    """Forget the kept report tables only (``PeriodData.memo``): the next ask
    computes from the summary rows again."""
    with _TABLES.lock:
        _TABLES.entries.clear()
        _TABLES.rows = 0


PEAK_COLUMNS = ("day", "spaces", "peak", "peak_at")


def stored_combination(level: str, types: str | None, view: str) -> tuple[str, str, str]:
    """The stored (level, types, view) a peak request is read from (see
    ``summaries.compute.peak_combinations``); the caller narrows the groups
    with ``narrow_peaks``."""
    if level == "space":
        return ("space", ALL, ALL)
    if level == "space_type":
        return ("space_type", ALL, view)
    return (level, types or ALL, view if level in ("floor", "site") else ALL)


def narrow_peaks(frame: pd.DataFrame, site: Site, *, level: str, types: str | None) -> pd.DataFrame:
    if types is None:
        return frame
    if level == "space":
        wanted = {s.id for s in site.spaces if s.type.value == types}
        return frame[frame["space"].isin(wanted)]
    if level == "space_type":
        return frame[frame["space_type"] == types]
    return frame


@dataclass
class PeriodData:
    """Report inputs of [start, end) (local midnights, or now for today)."""

    store: Store
    site: Site
    start: datetime
    end: datetime
    params: SummaryParams
    source: Source = "summaries"
    now: datetime | None = None
    #: when set, the cells of these spaces only (an agency's view; its peaks
    #: are asked for with ``view``)
    visible: frozenset[str] | None = None
    #: the store setting: days beyond it have no raw points to recompute from
    raw_retention_days: int | None = None
    _gone: set[date] = field(default_factory=set)
    _held: set[date] = field(default_factory=set)
    #: the period's commits and marks when the caller read them, for many
    #: sites at once (``read_commits_and_marks``); None: read here
    known: tuple[dict[date, Commit], dict[date, int]] | None = None
    #: the site's bookings of the period (for the agency presence of raw days)
    bookings: Sequence[Booking] = ()
    #: the period's pruned days when the caller read them for many sites
    #: (``read_pruned_of_sites``); None: read here
    pruned: dict[date, int] | None = None
    _commits: dict[date, Commit] = field(default_factory=dict)
    _candidates: list[date] = field(default_factory=list)
    _stale: set[date] = field(default_factory=set)
    _from_summaries: dict[str, set[date]] = field(default_factory=dict)
    _raw: dict[tuple[date, date], pd.DataFrame] = field(default_factory=dict)
    _preps: dict[int, PeakInput] = field(default_factory=dict)
    _gens: tuple[tuple[date, int], ...] | None = None

    def __post_init__(self) -> None:
        first = self.start.astimezone(self.site.tz).date()
        last = (self.end - timedelta(microseconds=1)).astimezone(self.site.tz).date()
        self.days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        gone = gone_days(
            self.store,
            self.site,
            first,
            last,
            raw_retention_days=self.raw_retention_days,
            now=self.now,
            pruned=self.pruned,
        )
        self._gone = set(gone)
        if self.source == "raw":
            if gone:
                raise RawRetentionError(
                    refusal("source=raw", gone, raw_retention_days=self.raw_retention_days), gone
                )
            return
        today = today_of(self.site, self.now)
        commits, marks = self.known or (
            read_commits(self.store, self.site, self.start, self.end),
            read_marks(self.store, self.site, self.start, self.end),
        )
        digest = self.params.digest(self.site)
        # every day before the last ends at or before the last's start, so <= end
        last_whole = local_day_bounds(self.site, self.days[-1])[1] <= self.end
        for day in self.days:
            c = commits.get(day)
            whole = (day != self.days[-1] or last_whole) and day < today
            if c is None or not whole:
                continue
            if c.params != digest or (day in marks and marks[day] != c.mark):
                if day not in self._gone:
                    self._stale.add(day)
                    continue
                self._held.add(day)  # no raw points to do better with
            self._commits[day] = c
        self._candidates = sorted(self._commits)

    # ---- what came from where ---------------------------------------------------
    def meta(self) -> dict[str, Any]:
        # the days every input read so far took from summaries (before any
        # read: the days that are to come from them)
        kinds = self._from_summaries.values()
        used = set.intersection(*kinds) if kinds else set(self._candidates)
        raw_days = [d for d in self.days if d not in used]
        return {
            "source": self.source,
            "days_from_summaries": len(used),
            "days_from_raw": [d.isoformat() for d in raw_days],
            "stale_days": sorted(d.isoformat() for d in self._stale),
            # raw points gone: from a dirty or outdated summary kept as it is
            "held_days": sorted(d.isoformat() for d in self._held & used),
            # raw points gone and no valid summary: from whatever raw points are left
            "missing_days": [d.isoformat() for d in raw_days if d in self._gone],
        }

    def summarised_commits(self) -> dict[date, Commit]:
        """The days to come from summaries, with their commits (``summaries.energy``)."""
        return dict(self._commits)

    def read_elsewhere(self, kind: str) -> None:
        """Record that every summarised day's ``kind`` rows were read and found
        whole by a caller reading many sites at once (``summaries.many_sites``),
        as a read of its own would record them."""
        self._from_summaries[kind] = set(self._candidates)

    def summary_key(self) -> tuple[tuple[date, int], ...] | None:
        """The generations of the period's days when every day is to come from a
        current summary: a key for results made of them (a rewritten day has a
        new one). None when some day needs raw points."""
        if self.source == "raw" or len(self._candidates) != len(self.days):
            return None
        return self._generations()

    def memo(self, what: Hashable, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """``compute()`` (a report table of this period), kept while every day of
        the period comes from a current summary: a click back to a report
        answers without recomputing it. ``what`` names the table and its
        options. The table returned is the caller's own copy."""
        gens = self.summary_key()
        if gens is None:
            return compute()
        key = (
            id(self.store), self.site.id, self.site.version, self.start, self.end,
            self.params, self.visible, what, gens,
        )  # fmt: skip
        hit = _TABLES.get(key)
        if hit is not None:
            return hit.copy()
        table = compute()
        if not self.meta()["days_from_raw"]:  # a torn day was recomputed from raw
            _TABLES.put(key, table.copy(), len(table))
        return table

    # ---- report inputs ------------------------------------------------------------
    def day_cells(self) -> pd.DataFrame:
        return self._cells(SPACE_DAYS, "space_days", DAY_COLUMNS)

    def hour_cells(self) -> pd.DataFrame:
        return self._cells(HOURS, "hours", CELL_COLUMNS)

    def daily_peaks(self, *, level: str, types: str | None, view: str) -> pd.DataFrame:
        """Daily peaks as ``metrics.peaks.daily_peaks`` gives them, for the group
        level, space-type filter and view (``ALL`` or an agency id)."""
        lv, ty, vw = stored_combination(level, types, view)
        stored = self._summary_rows(PEAKS, "peaks", where={"level": lv, "types": ty, "view": vw})
        parts = []
        if stored is not None and len(stored):
            at = stored["peak_at_ns"].to_numpy(dtype=np.int64)
            parts.append(
                pd.DataFrame(
                    {
                        level: stored["group"].to_numpy(dtype=object),
                        "day": stored["day"].to_numpy(dtype="datetime64[ns]"),
                        "spaces": stored["spaces"].to_numpy(dtype=np.int64),
                        "peak": stored["peak"].to_numpy(dtype=np.int64),
                        # unit: an all-NaT column would be datetime64[s] (pandas 3)
                        "peak_at": pd.to_datetime(
                            np.where(at < 0, np.iinfo(np.int64).min, at), utc=True, unit="ns"
                        ),
                    }
                )
            )
        for prep in self._raw_peak_inputs():
            table = peak_table(prep, self.site, level=lv, types=ty, view=vw)
            parts.append(
                table.drop(columns=["level", "types", "view"]).rename(columns={"group": level})
            )
        if not parts:  # typed as the raw path's empty table
            return pd.DataFrame(
                {
                    level: pd.Series([], dtype=object),
                    "day": pd.Series([], dtype="datetime64[ns]"),
                    "spaces": pd.Series([], dtype=np.int64),
                    "peak": pd.Series([], dtype=np.int64),
                    "peak_at": pd.Series([], dtype="datetime64[ns, UTC]"),
                }
            )
        out = pd.concat(parts, ignore_index=True)
        out["peak"] = out["peak"].astype(int)
        out["spaces"] = out["spaces"].astype(int)
        out = out.sort_values([level, "day"], kind="stable").reset_index(drop=True)
        return narrow_peaks(out, self.site, level=level, types=types)[[level, *PEAK_COLUMNS]]

    def presence_pairs(self) -> pd.DataFrame:
        """The agency presence pairs of the period (``metrics.presence``)."""
        parts = [pairs_of_rows(self._summary_rows(PRESENCE, "presence"))]
        for clipped in self._raw_runs("presence"):
            parts.append(presence_pairs(intervals=clipped, bookings=self.bookings, site=self.site))
        return sort_pairs(pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0])

    def group_days(self, *, level: str, view: str) -> pd.DataFrame:
        """Per group of ``level`` (``agency`` or ``site``) and day, the sums of the
        day cells over the spaces ``view`` may draw on and the day's desk peak
        (``summaries.groups``, ``GROUP_COLUMNS``), sorted by group and day: from
        ``summary_groups`` for the days whose rows are all there; for the other
        days built from this period's day cells and daily peaks (summaries or
        raw points, as ``day_cells`` and ``daily_peaks`` give them) with the
        same function, so every path gives the same integers. With ``visible``
        set, ``view`` must be an agency whose spaces it holds."""
        if self.visible is not None and (
            view == ALL or not view_spaces(self.site, view) <= self.visible
        ):
            raise ValueError(f"view {view!r} draws on spaces this period data leaves out")
        if self.source == "raw":
            return self._groups_from_cells(level, view)
        where = {"level": level, "view": stored_view(level, view)}
        kind = f"groups {level} {where['view']}"
        before = set(self._stale)
        stored = self._summary_rows(GROUPS, kind, where=where)
        # Days without their group rows (a commit older than them) or with torn
        # ones are built below from the cells and peaks: not stale for that.
        self._stale = before
        ok = set(self._from_summaries[kind])
        parts = []
        if stored is not None:
            wanted = visible_groups(self.site, level=level, view=view)
            group = stored["group"].to_numpy(dtype=object)
            parts.append(_group_frame(stored[np.isin(group, list(wanted))]))
        used = set(ok)
        for first, last in runs([d for d in self.days if d not in ok], max_len=10_000):
            part = PeriodData(
                store=self.store,
                site=self.site,
                start=max(local_day_bounds(self.site, first)[0], self.start),
                end=min(local_day_bounds(self.site, last)[1], self.end),
                params=self.params,
                now=self.now,
                visible=self.visible,
                raw_retention_days=self.raw_retention_days,
                known=({d: c for d, c in self._commits.items() if first <= d <= last}, {}),
            )
            parts.append(part._groups_from_cells(level, view))
            used |= set.intersection(*part._from_summaries.values())
            self._stale |= part._stale
        self._from_summaries[kind] = used
        out = (
            pd.concat(parts, ignore_index=True)
            if len(parts) > 1
            else (parts[0] if parts else _group_frame(None))
        )
        order = np.lexsort((out["day"].to_numpy(), out["group"].to_numpy(dtype=str)))
        return out.take(order).reset_index(drop=True)

    def _groups_from_cells(self, level: str, view: str) -> pd.DataFrame:
        peaks = self.daily_peaks(level=level, types=DESK, view=stored_view(level, view))
        table = group_table(
            cells=self.day_cells(),
            desk_peaks=peaks.rename(columns={level: "group"}),
            site=self.site,
            level=level,
            view=stored_view(level, view),
        )
        wanted = visible_groups(self.site, level=level, view=view)
        return _group_frame(table[table["group"].isin(wanted)])

    # ---- entrance counts (summaries.counts) ---------------------------------------
    def entrance_counts(self) -> pd.DataFrame:
        """The raw entrance counts (``summaries.counts.read_raw_counts``' columns)
        with time in [start, end + 1 day): the day beyond, since an interval
        starting in the period may end after it. Summarised days from their
        ``summary_counts`` rows, unfolded; the other days from raw points. A
        commit older than the counts (no ``counts``) is read raw, not stale."""
        kind = "counts"
        before = set(self._stale)
        stored = self._summary_rows(COUNTS, kind)
        self._stale = before | {d for d in self._stale - before if self._commits[d].counts >= 0}
        ok = self._from_summaries[kind]
        parts = [counts_of_rows(stored)]
        for first, last in runs([d for d in self.days if d not in ok], max_len=10_000):
            lo = max(local_day_bounds(self.site, first)[0], self.start)
            hi = min(local_day_bounds(self.site, last)[1], self.end)
            parts.append(read_raw_counts(self.store, self.site, lo, hi))
        parts.append(read_raw_counts(self.store, self.site, self.end, self.end + timedelta(days=1)))
        parts = [p for p in parts if len(p)]
        if not parts:
            return empty_counts()
        out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        return out.sort_values("time", kind="stable").reset_index(drop=True)

    # ---- internals ----------------------------------------------------------------
    def _cells(self, measurement: str, kind: str, columns: tuple[str, ...]) -> pd.DataFrame:
        parts = []
        stored = self._summary_rows(measurement, kind)
        if stored is not None and len(stored):
            parts.append(stored[list(columns)])
        for clipped in self._raw_runs(kind):
            cells = hour_cells(intervals=clipped, site=self.site)
            if len(cells):  # an empty part (closed days) would make ``space`` object-typed
                parts.append(cells if kind == "hours" else day_cells(cells=cells, site=self.site))
        if not parts:
            return empty_cells(hours=kind == "hours")
        out = pd.concat(parts, ignore_index=True)
        if self.visible is not None:
            out = out[out["space"].isin(self.visible)].reset_index(drop=True)
        for c in columns:
            if c.endswith("_ns"):
                out[c] = out[c].astype(np.int64)
        return out

    def _summary_rows(
        self, measurement: str, kind: str, where: dict[str, str] | None = None
    ) -> pd.DataFrame | None:
        """Rows of the summarised days whose commit they match; the days that do
        not (a torn rewrite) are left to the raw path."""
        self._from_summaries.setdefault(kind, set())
        if not self._candidates:
            return None
        key = self._rows_key(measurement, where)
        cached = _CACHE.get(key)
        if cached is None:
            lo, hi = self._span()
            frame = read_rows(self.store, self.site, measurement, start=lo, end=hi, where=where)
            cached = self._checked(frame, measurement, kind, where)
            _CACHE.put(key, cached, 0 if cached[0] is None else len(cached[0]))
        hit, ok, stale = cached
        self._from_summaries[kind] = set(ok)
        self._stale |= stale
        return hit

    def _generations(self) -> tuple[tuple[date, int], ...]:
        # fixed once the commits are taken (__post_init__); asked for by every
        # row look-up, so made once (a year: 365 pairs)
        if self._gens is None:
            self._gens = tuple((d, self._commits[d].gen) for d in self._candidates)
        return self._gens

    def _span(self) -> tuple[datetime, datetime]:
        return (
            local_day_bounds(self.site, self._candidates[0])[0],
            local_day_bounds(self.site, self._candidates[-1])[1],
        )

    def _rows_key(self, measurement: str, where: dict[str, str] | None) -> Hashable:
        gens = self._generations()
        return (
            id(self.store),
            self.site.id,
            measurement,
            tuple(sorted((where or {}).items())),
            gens,
        )

    def _checked(
        self, frame: pd.DataFrame, measurement: str, kind: str, where: dict[str, str] | None
    ) -> tuple[pd.DataFrame | None, frozenset[date], frozenset[date]]:
        """(the rows of the days whose rows are all there in their commit's
        generation, those days, the other candidate days)."""
        if frame.empty:
            frame = pd.DataFrame({"day": pd.Series([], dtype="datetime64[ns]"), "gen": []})
        # one look-up per distinct day, not per row (a year of hour cells is 700k rows)
        uniq, inverse = np.unique(
            frame["day"].to_numpy(dtype="datetime64[ns]"), return_inverse=True
        )
        udays = pd.DatetimeIndex(uniq).date
        want = np.array([self._commits[d].gen if d in self._commits else -1 for d in udays])
        keep = (
            frame["gen"].to_numpy(dtype=np.int64) == want[inverse]
            if len(uniq)
            else np.zeros(0, bool)
        )
        counts_arr = np.bincount(inverse[keep], minlength=len(uniq)) if len(uniq) else np.zeros(0)
        counts = {d: int(c) for d, c in zip(udays, counts_arr, strict=True)}
        expected = self._expected(measurement, kind, where)
        ok: set[date] = set()
        stale: set[date] = set()
        for d in self._candidates:
            (ok if counts.get(d, 0) == expected(d) else stale).add(d)
        ok_codes = np.array([d in ok for d in udays], dtype=bool)
        rows = frame[keep & ok_codes[inverse]] if len(uniq) else None
        result = rows if rows is not None and len(rows) else None
        return result, frozenset(ok), frozenset(stale)

    def _expected(
        self, measurement: str, kind: str, where: dict[str, str] | None
    ) -> Callable[[date], int]:
        """How many rows a committed day has of ``measurement`` (and ``where``)."""
        commits = self._commits
        if where is None:
            return lambda d: int(getattr(commits[d], kind))
        if measurement == GROUPS:
            # a row per group of the (level, view) on a day with cells; none
            # from a commit older than the group rows (-1)
            n = len(visible_groups(self.site, level=where["level"], view=where["view"]))
            return lambda d: -1 if commits[d].groups < 0 else (n if commits[d].space_days else 0)
        # one combination's peak rows: a row per group on an open day
        groups = expected_groups(self.site, **where)
        return lambda d: groups if opening_intervals_on(self.site, d) else 0

    def _raw_runs(self, kind: str) -> list[pd.DataFrame]:
        done = self._from_summaries.get(kind, set())
        todo = [d for d in self.days if d not in done]
        if self.source == "raw":
            spans = [(self.days[0], self.days[-1])] if todo else []
        else:
            spans = runs(todo, max_len=10_000)
        return [self._raw_clipped(a, b) for a, b in spans]

    def _raw_peak_inputs(self) -> list[PeakInput]:
        out = []
        for clipped in self._raw_runs("peaks"):
            key = id(clipped)
            if key not in self._preps:
                self._preps[key] = prepare_peaks(intervals=clipped, site=self.site)
            out.append(self._preps[key])
        return out

    def _raw_clipped(self, first: date, last: date) -> pd.DataFrame:
        if (first, last) not in self._raw:
            start = max(local_day_bounds(self.site, first)[0], self.start)
            end = min(local_day_bounds(self.site, last)[1], self.end)
            raw = read_inputs(store=self.store, site=self.site, start=start, end=end)
            iv = state_intervals(
                presence=raw.presence,
                status=raw.status,
                site=self.site,
                start=start,
                end=end,
                silence_factor=self.params.silence_factor,
                merge_gap_s=self.params.merge_gap_s,
            )
            self._raw[(first, last)] = clip_to_opening(
                intervals=iv, site=self.site, start=start, end=end
            )
        return self._raw[(first, last)]


def prefetch_group_days(datas: Sequence[PeriodData], *, level: str, view: str) -> None:
    """Read the ``summary_groups`` rows that ``group_days(level=, view=)`` of
    many sites' periods will ask for, in one store read per store, into the
    row cache it reads from (a portfolio: a read per site costs more than the
    rest of its report). The rows are checked against each site's commits as
    a read of its own would check them."""
    where = {"level": level, "view": stored_view(level, view)}
    _prefetch(datas, GROUPS, f"groups {level} {where['view']}", where)


def prefetch_presence(datas: Sequence[PeriodData]) -> None:
    """``prefetch_group_days`` for the ``summary_presence`` rows that
    ``presence_pairs`` of many sites' periods will ask for."""
    _prefetch(datas, PRESENCE, "presence", None)


def _prefetch(
    datas: Sequence[PeriodData], measurement: str, kind: str, where: dict[str, str] | None
) -> None:
    todo: dict[int, list[tuple[PeriodData, Hashable]]] = {}
    for data in datas:
        if data.source == "summaries" and data._candidates:
            key = data._rows_key(measurement, where)
            if _CACHE.get(key) is None:
                todo.setdefault(id(data.store), []).append((data, key))
    for items in todo.values():
        spans = {id(data): data._span() for data, _ in items}
        frame = items[0][0].store.read(
            measurement,
            start=min(lo for lo, _ in spans.values()),
            end=max(hi for _, hi in spans.values()),
            where={"site": sorted({d.site.id for d, _ in items}), **(where or {})},
        )
        if len(frame):  # local days of every row at once, per time zone
            frame["day"] = _local_days(frame, [d.site for d, _ in items])
        of_site = _split_by_site(frame)
        for data, key in items:
            rows = of_site.get(data.site.id, pd.DataFrame())
            lo, hi = spans[id(data)]
            at = rows["time"] if len(rows) else None
            if at is not None and not (at.iloc[0] >= lo and at.iloc[-1] < hi):
                rows = rows[(at >= lo) & (at < hi)].reset_index(drop=True)
            cached = data._checked(rows, measurement, kind, where)
            _CACHE.put(key, cached, 0 if cached[0] is None else len(cached[0]))


def _local_days(frame: pd.DataFrame, sites: Sequence[Site]) -> np.ndarray:
    """``local_day`` of each row (columns site, time) in its site's time zone."""
    out = np.empty(len(frame), dtype="datetime64[ns]")
    by_tz: dict[str, tuple[Site, list[str]]] = {}
    for s in sites:
        by_tz.setdefault(s.timezone, (s, []))[1].append(s.id)
    for first, ids in by_tz.values():
        # one zone: every row; else a hashed look-up (np.isin sorts 300k objects)
        mask = np.ones(len(frame), bool) if len(by_tz) == 1 else frame["site"].isin(ids).to_numpy()
        if mask.any():
            out[mask] = local_day(first, frame["time"][mask])
    return out


def _split_by_site(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The rows of each site (in their order), by one sort of the site codes."""
    if not len(frame):
        return {}
    codes, names = pd.factorize(frame["site"])  # hashing, not a sort of 300k strings
    order = np.argsort(codes, kind="stable")
    edges = np.searchsorted(codes[order], np.arange(len(names) + 1))
    ordered = frame.take(order)  # one take; each site's rows are then a slice of it
    return {
        str(n): ordered.iloc[edges[i] : edges[i + 1]].reset_index(drop=True)
        for i, n in enumerate(names)
    }


def _group_frame(rows: pd.DataFrame | None) -> pd.DataFrame:
    """``GROUP_COLUMNS`` typed alike whichever path built ``rows``."""
    if rows is None:
        rows = pd.DataFrame({c: [] for c in GROUP_COLUMNS})
    return pd.DataFrame(
        {
            **{c: rows[c].to_numpy(dtype=object) for c in ("level", "view", "group")},
            "day": rows["day"].to_numpy(dtype="datetime64[ns]"),
            **{c: rows[c].to_numpy(dtype=np.int64) for c in GROUP_COLUMNS[4:]},
        }
    )


def expected_groups(site: Site, *, level: str, types: str, view: str) -> int:
    """How many groups a stored peak combination has on an open day."""
    groups = group_of(site=site, by=level)  # type: ignore[arg-type]
    visible = None if view == ALL else view_spaces(site, view)
    return len(
        {
            g
            for s, g in groups.items()
            if (types == ALL or site.space(s).type.value == types)
            and (visible is None or s in visible)
        }
    )


__all__ = [
    "PeriodData",
    "Source",
    "clear_cache",
    "clear_report_tables",
    "narrow_peaks",
    "prefetch_group_days",
    "prefetch_presence",
    "stored_combination",
]
