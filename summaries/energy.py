"""Energy hours in the daily summaries (docs/storage.md, "Daily summaries";
docs/metrics.md, "Energy of empty conditioned space").

``summary_energy_hours`` holds, per site, zone and local hour of the zone's
conditioned time, the integer nanoseconds of ``metrics.energy.energy_hours``
(tags site floor zone; time = the local hour's start, UTC; field ``gen``). They
are written with a day's other rows, before its commit, under the same
generation. A zone's "no space occupied" time cannot be rebuilt from the
per-space hour cells (two desks each occupied half an hour may or may not
overlap), hence rows of their own.

A day's rows are used only when exactly the expected number carry the day's
committed generation (one per zone and local hour with conditioned time);
other days, and ``source="raw"``, are computed from raw points with the same
function, so both paths give the same integers. The conditioning schedules
are part of the summaries' parameter digest (``metrics.energy.
conditioning_digest``) when a site sets one: a changed schedule makes the
days dirty.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from core.calendar import local_day_bounds
from core.registry import Site
from metrics import energy as energy_m
from metrics.intervals import state_intervals
from storage import Store
from summaries.raw import read_inputs
from summaries.reader import PeriodData
from summaries.retention import gone_days
from summaries.schema import read_rows, wall_ns
from summaries.summariser import runs

ENERGY_HOURS = "summary_energy_hours"
#: local days of raw points read at a time on the raw path
READ_DAYS = 28


def write_energy_hours(store: Store, site: Site, hours: pd.DataFrame, *, gen: int) -> None:
    """Write a run's energy hours under generation ``gen`` (before the commit)."""
    if hours.empty:
        return
    store.write_columns(
        ENERGY_HOURS,
        time_ns=wall_ns(site, hours["hour"]),
        tags={
            "site": site.id,
            # for Grafana's floor filter (docs/metrics.md); the reader uses zone only
            "floor": pd.Categorical(hours["zone"].map({z.id: z.floor for z in site.zones})),
            "zone": pd.Categorical(hours["zone"]),
        },
        fields={**{c: hours[c].to_numpy(dtype=np.int64) for c in energy_m.NS_FIELDS}, "gen": gen},
    )


def expected_rows(site: Site, first: date, last: date) -> dict[date, int]:
    """How many energy rows each local day of first..last has: one per zone and
    local hour with conditioned time (from the registry alone; kept per
    calendar and zones, as a report asks it for every read)."""
    key = (site.model_dump_json(include=_SCHEDULE_INPUTS), first, last)
    hit = _EXPECTED.get(key)
    if hit is None:
        hit = _expected_rows(site, first, last)
        if len(_EXPECTED) > 256:
            _EXPECTED.clear()
        _EXPECTED[key] = hit
    return dict(hit)


#: what the conditioned hours of a site follow
_SCHEDULE_INPUTS: dict[str, Any] = {
    "timezone": True, "opening_hours": True, "holidays": True, "closures": True,
    "zones": {"__all__": {"id", "floor", "conditioning"}}, "spaces": {"__all__": {"id", "zone"}},
}  # fmt: skip
_EXPECTED: dict[tuple[str, date, date], dict[date, int]] = {}


def _expected_rows(site: Site, first: date, last: date) -> dict[date, int]:
    start, end = local_day_bounds(site, first)[0], local_day_bounds(site, last)[1]
    grid = energy_m.HourGrid(site, int(pd.Timestamp(start).value), int(pd.Timestamp(end).value))
    counts: dict[date, int] = {}
    for zone in energy_m.energy_zones(site):
        ws, we, wd = energy_m.conditioned_windows(site=site, zone=zone, start=start, end=end)
        if not len(ws):
            continue
        k, _, src = grid.cut(ws, we)
        cells = pd.DataFrame({"day": wd[src], "hour": grid.label[k]}).drop_duplicates("hour")
        for day, n in cells.groupby("day").size().items():
            d = pd.Timestamp(str(day)).date()
            counts[d] = counts.get(d, 0) + int(n)
    return counts


def read_energy_hours(data: PeriodData) -> tuple[pd.DataFrame, dict[str, object]]:
    """The period's energy hours (canonical order) and where they came from:
    the summarised days whose rows are whole, raw points for the rest."""
    site = data.site
    commits = data.summarised_commits()
    parts: list[pd.DataFrame] = []
    ok: set[date] = set()
    if commits:
        expected = expected_rows(site, min(commits), max(commits))
        lo = local_day_bounds(site, min(commits))[0]
        hi = local_day_bounds(site, max(commits))[1]
        rows = read_rows(data.store, site, ENERGY_HOURS, start=lo, end=hi)
        if len(rows):
            rows = rows[rows["day"].notna()]
            udays, inverse = np.unique(
                rows["day"].to_numpy(dtype="datetime64[ns]"), return_inverse=True
            )
            days = pd.DatetimeIndex(udays).date
            want = np.array([commits[d].gen if d in commits else -1 for d in days])
            keep = rows["gen"].to_numpy(dtype=np.int64) == want[inverse]
            counts = np.bincount(inverse[keep], minlength=len(days))
            whole = np.array([c == expected.get(d, 0) for d, c in zip(days, counts, strict=True)])
            rows = rows[keep & whole[inverse]]
            ok = {d for d, w in zip(days, whole, strict=True) if w}
            parts.append(_as_hours(site, rows))
        # a summarised day without conditioned time has no rows and needs none
        ok |= {d for d in commits if expected.get(d, 0) == 0}
    todo = [d for d in data.days if d not in ok]
    gone = (
        set(gone_days(data.store, site, todo[0], todo[-1],
                      raw_retention_days=data.raw_retention_days, now=data.now))
        if todo
        else set()
    )  # fmt: skip
    for first, last in runs(todo, max_len=READ_DAYS):
        parts.append(_raw_hours(data, first, last, gone))
    frames = [p for p in parts if len(p)]
    hours = pd.concat(frames, ignore_index=True) if frames else energy_m.empty_hours()
    meta = {
        "energy_days_from_summaries": len([d for d in data.days if d in ok]),
        "energy_days_from_raw": [d.isoformat() for d in todo],
        # raw points gone and no energy rows (summarised before they existed):
        # what is left reads as unknown time, never as empty
        "energy_missing_days": [d.isoformat() for d in todo if d in gone],
    }
    return energy_m.sort_hours(hours, site), meta


def _as_hours(site: Site, rows: pd.DataFrame) -> pd.DataFrame:
    wall = pd.DatetimeIndex(rows["time"]).tz_convert(site.tz).tz_localize(None).floor("h")
    return pd.DataFrame(
        {
            "zone": rows["zone"].to_numpy(dtype=object),
            "day": rows["day"].to_numpy(dtype="datetime64[ns]"),
            "hour": np.asarray(wall, dtype="datetime64[ns]"),
            **{c: rows[c].to_numpy(dtype=np.int64) for c in energy_m.NS_FIELDS},
        }
    )


def _raw_hours(data: PeriodData, first: date, last: date, gone: set[date]) -> pd.DataFrame:
    site = data.site
    start = max(local_day_bounds(site, first)[0], data.start)
    end = min(local_day_bounds(site, last)[1], data.end)
    if start >= end:
        return energy_m.empty_hours()
    if any(first + timedelta(days=i) in gone for i in range((last - first).days + 1)):
        # some raw points of the run are gone: the run is computed day by day,
        # and a gone day's conditioned time is unknown (what is left of its
        # points, the carried last ones, would claim empty time nobody saw)
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        parts = [
            _unknown_day(data, day) if day in gone else _raw_hours(data, day, day, set())
            for day in days
        ]
        return pd.concat(parts, ignore_index=True)
    raw = read_inputs(store=data.store, site=site, start=start, end=end)
    intervals = state_intervals(
        presence=raw.presence,
        status=raw.status,
        site=site,
        start=start,
        end=end,
        silence_factor=data.params.silence_factor,
        merge_gap_s=data.params.merge_gap_s,
    )
    return energy_m.energy_hours(intervals=intervals, site=site, start=start, end=end)


def _unknown_day(data: PeriodData, day: date) -> pd.DataFrame:
    site = data.site
    start = max(local_day_bounds(site, day)[0], data.start)
    end = min(local_day_bounds(site, day)[1], data.end)
    if start >= end:
        return energy_m.empty_hours()
    n = len(site.spaces)
    unknown = pd.DataFrame(
        {
            "space": [s.id for s in site.spaces],
            "start": pd.Series([pd.Timestamp(start)] * n).astype("datetime64[ns, UTC]"),
            "end": pd.Series([pd.Timestamp(end)] * n).astype("datetime64[ns, UTC]"),
            "state": ["unknown"] * n,
            "count": [float("nan")] * n,
        }
    )
    return energy_m.energy_hours(intervals=unknown, site=site, start=start, end=end)


__all__ = [
    "ENERGY_HOURS",
    "expected_rows",
    "read_energy_hours",
    "write_energy_hours",
]
