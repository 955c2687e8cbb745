"""The summary measurements in the store, and reading them back (docs/storage.md,
"Daily summaries").

Every row of a day's summary carries the day's generation ``gen``; the day's
commit row in ``summary_days``, written after all its rows, names that
generation and how many rows of each kind it has. A reader takes a day from
summaries only when its commit matches the current parameters and exactly
that many rows of that generation are there: a crash in the middle of
rewriting a day, or two writers racing, leaves a day that is read from raw
points until it is summarised again, never a mix of two versions. Identities
are (measurement, tags, time), so rewriting a day overwrites its rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import numpy as np
import pandas as pd

from core.calendar import local_day_bounds, wall_time_utc
from core.registry import Site
from core.timeutil import to_ns
from metrics.cells import NS_COLUMNS
from metrics.energy import conditioning_digest
from storage import Store
from summaries.compute import DaySummaries
from summaries.counts import per_day as count_days
from summaries.counts import write_counts
from summaries.groups import GROUP_FIELDS, group_combinations, group_tables
from summaries.presence import write_presence

HOURS = "summary_hours"  # tags site space; time = the local hour's start (UTC)
SPACE_DAYS = "summary_space_days"  # tags site space; time = local midnight (UTC)
PEAKS = "summary_peaks"  # tags site level types view group; time = local midnight
DAYS = "summary_days"  # tags site; the commit row of a day; time = local midnight
MARKS = "summary_marks"  # tags site; token of the newest raw write for that day
GROUPS = "summary_groups"  # tags site level view group; time = local midnight
CELL_FIELDS = (*NS_COLUMNS, "people_s")
EPOCH = datetime(1970, 1, 2, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Commit:
    gen: int
    hours: int
    space_days: int
    peaks: int
    carry: str
    params: str
    mark: int
    #: rows in summary_presence (summaries.presence); -1: written before it existed
    presence: int = -1
    #: rows of ``summary_groups``; -1: a commit written before they existed
    groups: int = -1
    #: rows of ``summary_counts`` (summaries.counts); -1: written before it existed
    counts: int = -1


# The parts of a site entry that a day's summary is computed from. Names,
# areas, headcounts, plans and targets are read at report time, so renaming a
# room or adding a translation leaves every stored summary current.
SUMMARY_INPUTS: dict[str, Any] = {
    "timezone": True,
    "opening_hours": True,
    "holidays": True,
    "closures": True,
    "heartbeat_s": True,
    "agencies": {"__all__": {"id"}},
    "floors": {"__all__": {"id"}},
    "zones": {"__all__": {"id", "floor", "agency"}},
    "spaces": {"__all__": {"id", "type", "zone", "capacity", "sensor"}},
}


def params_digest(site: Site, *, silence_factor: float, merge_gap_s: float) -> str:
    """What a summary depends on besides the raw points: the site's calendar,
    its spaces, zones and sensors (``SUMMARY_INPUTS``) and the interval settings."""
    inputs = site.model_dump_json(include=SUMMARY_INPUTS)
    # floats, so that 0 and 0.0 (a setting given as an integer) are one digest
    text = f"{inputs}|{float(silence_factor)!r}|{float(merge_gap_s)!r}{conditioning_digest(site)}"
    return hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


def wall_ns(site: Site, wall: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """UTC nanoseconds of naive local wall-clock times (local midnights, the
    starts of local hours), read as ``core.calendar.wall_time_utc`` reads them;
    one conversion per distinct time."""
    values = np.asarray(pd.DatetimeIndex(wall).as_unit("ns").asi8, dtype=np.int64)
    uniq, inverse = np.unique(values, return_inverse=True)
    ns = [to_ns(wall_time_utc(site.tz, pd.Timestamp(v).to_pydatetime())) for v in uniq]
    return np.asarray(ns, dtype=np.int64)[inverse]


def day_start_ns(site: Site, days: pd.Series) -> np.ndarray:
    """UTC nanoseconds of local midnight of naive-midnight ``day`` values."""
    return wall_ns(site, days)


def write_summaries(
    store: Store,
    site: Site,
    summaries: DaySummaries,
    *,
    gen: int,
    marks: dict[date, int],
    params: str,
) -> None:
    """Write the rows of every day in ``summaries``, then each day's commit."""
    h, d, p = summaries.hours, summaries.days, summaries.peaks
    tags = {"site": site.id}
    if len(h):
        store.write_columns(
            HOURS,
            time_ns=wall_ns(site, h["hour"]),
            tags={**tags, "space": pd.Categorical(h["space"])},
            fields={**{c: h[c].to_numpy() for c in CELL_FIELDS}, "gen": gen},
        )
    if len(d):
        store.write_columns(
            SPACE_DAYS,
            time_ns=day_start_ns(site, d["day"]),
            tags={**tags, "space": pd.Categorical(d["space"])},
            fields={**{c: d[c].to_numpy() for c in CELL_FIELDS}, "gen": gen},
        )
    if len(p):
        at = pd.DatetimeIndex(p["peak_at"])
        at_ns = np.where(at.isna(), -1, at.as_unit("ns").asi8)
        store.write_columns(
            PEAKS,
            time_ns=day_start_ns(site, p["day"]),
            tags={
                **tags,
                **{
                    k: pd.Categorical(p[k].astype(str)) for k in ("level", "types", "view", "group")
                },
            },
            fields={
                "spaces": p["spaces"].to_numpy(dtype=np.int64),
                "peak": p["peak"].to_numpy(dtype=np.int64),
                "peak_at_ns": at_ns.astype(np.int64),
                "gen": gen,
            },
        )
    pr = summaries.presence
    write_presence(store, site, pr, gen=gen, day_ns=day_start_ns(site, pr["day"]))
    g = group_tables(cells=d, peaks=p, site=site, combinations=group_combinations(site))
    if len(g):
        store.write_columns(
            GROUPS,
            time_ns=day_start_ns(site, g["day"]),
            tags={**tags, **{k: pd.Categorical(g[k]) for k in ("level", "view", "group")}},
            fields={**{c: g[c].to_numpy(dtype=np.int64) for c in GROUP_FIELDS}, "gen": gen},
        )
    if summaries.energy is not None:
        from summaries.energy import write_energy_hours  # imports this module

        write_energy_hours(store, site, summaries.energy, gen=gen)
    if summaries.counts is not None:
        write_counts(store, site, summaries.counts, gen=gen)
    days = sorted(summaries.carry)
    counts = {
        key: _per_day(site, frame)
        for key, frame in (
            ("hours", h),
            ("space_days", d),
            ("peaks", p),
            ("presence", pr),
            ("groups", g),
        )
    }
    store.write_columns(
        DAYS,
        time_ns=[int(pd.Timestamp(local_day_bounds(site, day)[0]).value) for day in days],
        tags=tags,
        fields={
            "gen": gen,
            "hours": [counts["hours"].get(day, 0) for day in days],
            "space_days": [counts["space_days"].get(day, 0) for day in days],
            "peaks": [counts["peaks"].get(day, 0) for day in days],
            "groups": [counts["groups"].get(day, 0) for day in days],
            "carry": [summaries.carry[day] for day in days],
            "params": params,
            "mark": [int(marks.get(day, 0)) for day in days],
            "presence": [counts["presence"].get(day, 0) for day in days],
            **_counts_field(site, summaries, days),
        },
    )


def _counts_field(site: Site, summaries: DaySummaries, days: list[date]) -> dict[str, list[int]]:
    """The commit's ``counts`` (none when the run read no entrance counts)."""
    if summaries.counts is None:
        return {}
    n = count_days(site, summaries.counts)
    return {"counts": [n.get(day, 0) for day in days]}


def _per_day(site: Site, frame: pd.DataFrame) -> dict[date, int]:
    if frame.empty:
        return {}
    counts = pd.to_datetime(frame["day"]).dt.date.value_counts()
    return {cast(date, k): int(v) for k, v in counts.items()}


def local_day(site: Site, times: pd.Series) -> np.ndarray:
    """Naive local midnight (datetime64[ns]) of each UTC time."""
    local = pd.DatetimeIndex(times).tz_convert(site.tz).tz_localize(None).normalize()
    return np.asarray(local, dtype="datetime64[ns]")


def read_commits(store: Store, site: Site, start: datetime, end: datetime) -> dict[date, Commit]:
    frame = store.read(DAYS, start=start, end=end, where={"site": site.id})
    return _commits(site, frame)


def _count_column(frame: pd.DataFrame, column: str) -> list[int]:
    if column not in frame.columns:
        return [-1] * len(frame)
    return pd.to_numeric(frame[column], errors="coerce").fillna(-1).astype(np.int64).tolist()


def _commits(site: Site, frame: pd.DataFrame) -> dict[date, Commit]:
    if frame.empty:
        return {}
    days = pd.DatetimeIndex(local_day(site, frame["time"])).date
    cols = [
        frame[c].tolist()
        for c in ("gen", "hours", "space_days", "peaks", "carry", "params", "mark")
    ]
    # commits written before summary_presence or summary_groups existed have
    # no count of them: -1
    n_presence = _count_column(frame, "presence")
    groups = _count_column(frame, "groups")
    n_counts = _count_column(frame, "counts")
    return {
        day: Commit(
            gen=int(gen),
            hours=int(hours),
            space_days=int(space_days),
            peaks=int(peaks),
            carry=str(carry),
            params=str(params),
            mark=int(mark),
            presence=n,
            groups=int(n_groups),
            counts=n_c,
        )
        for day, gen, hours, space_days, peaks, carry, params, mark, n, n_groups, n_c in zip(
            days, *cols, n_presence, groups, n_counts, strict=True
        )
    }


def read_marks(store: Store, site: Site, start: datetime, end: datetime) -> dict[date, int]:
    frame = store.read(MARKS, start=start, end=end, where={"site": site.id})
    return _marks(site, frame)


def _marks(site: Site, frame: pd.DataFrame) -> dict[date, int]:
    if frame.empty:
        return {}
    days = pd.DatetimeIndex(local_day(site, frame["time"])).date
    return {d: int(t) for d, t in zip(days, frame["token"], strict=True)}


def read_commits_and_marks(
    store: Store, sites: Sequence[Site], start: datetime, end: datetime
) -> dict[str, tuple[dict[date, Commit], dict[date, int]]]:
    """``read_commits`` and ``read_marks`` of many sites in two reads (a
    portfolio: one read per site each cost more than the rest of a kept
    report). ``start``/``end`` must cover every site's period."""
    ids = [s.id for s in sites]
    commits = store.read(DAYS, start=start, end=end, where={"site": ids})
    marks = store.read(MARKS, start=start, end=end, where={"site": ids})
    out: dict[str, tuple[dict[date, Commit], dict[date, int]]] = {s.id: ({}, {}) for s in sites}
    # rows of all sites at once, not a frame per site (a year of 100 sites is
    # 36,500 commits: the per-site pandas work cost more than reading them);
    # the Commits made positionally from whole columns, in the order of its fields
    if len(commits):
        columns: dict[str, list[Any]] = {
            **{c: _ints(commits, c) for c in ("gen", "hours", "space_days", "peaks", "mark")},
            **{c: list(map(str, commits[c].tolist())) for c in ("carry", "params")},
            **{c: _count_column(commits, c) for c in ("presence", "groups", "counts")},
        }
        made = (
            Commit(*row) for row in zip(*(columns[f.name] for f in fields(Commit)), strict=True)
        )
        for sid, day, commit in zip(
            commits["site"].tolist(), _days_of(sites, commits), made, strict=True
        ):
            out[sid][0][day] = commit
    if len(marks):
        tokens = _ints(marks, "token")
        for sid, day, t in zip(marks["site"].tolist(), _days_of(sites, marks), tokens, strict=True):
            out[sid][1][day] = t
    return out


def _ints(frame: pd.DataFrame, column: str) -> list[int]:
    values = frame[column].to_numpy()
    return values.tolist() if values.dtype == np.int64 else [int(v) for v in values]


def _days_of(sites: Sequence[Site], frame: pd.DataFrame) -> list[date]:
    """The local day of each row of ``frame`` (columns site, time), each in its
    site's time zone: one conversion per time zone, not per site, and one
    ``date`` per distinct day, not per row."""
    times = frame["time"]
    days: np.ndarray = np.empty(len(frame), dtype="datetime64[ns]")
    by_tz: dict[str, tuple[Site, list[str]]] = {}
    for s in sites:
        by_tz.setdefault(s.timezone, (s, []))[1].append(s.id)
    for first, ids in by_tz.values():
        # one zone: every row; else a hashed look-up (np.isin sorts 300k objects)
        mask = np.ones(len(frame), bool) if len(by_tz) == 1 else frame["site"].isin(ids).to_numpy()
        if mask.any():
            days[mask] = local_day(first, times[mask])
    codes, uniques = pd.factorize(days.view(np.int64))
    epoch = date(1970, 1, 1)
    of = [epoch + timedelta(days=int(ns) // 86_400_000_000_000) for ns in uniques.tolist()]
    return [of[c] for c in codes.tolist()]


def read_rows(
    store: Store,
    site: Site,
    measurement: str,
    *,
    start: datetime,
    end: datetime,
    where: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Summary rows of [start, end) with a ``day`` column (naive local midnight)."""
    frame = store.read(measurement, start=start, end=end, where={"site": site.id, **(where or {})})
    if frame.empty:
        return frame
    if measurement == HOURS:
        local = pd.DatetimeIndex(frame["time"]).tz_convert(site.tz).tz_localize(None)
        frame["hour"] = np.asarray(local.floor("h"), dtype="datetime64[ns]")
    frame["day"] = local_day(site, frame["time"])
    return frame


__all__ = [
    "DAYS",
    "GROUPS",
    "HOURS",
    "MARKS",
    "PEAKS",
    "SPACE_DAYS",
    "Commit",
    "params_digest",
    "read_commits",
    "read_commits_and_marks",
    "read_marks",
    "read_rows",
    "write_summaries",
]
