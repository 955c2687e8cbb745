"""Energy of empty conditioned space (docs/metrics.md, "Energy of empty
conditioned space"): pure functions.

A zone is *conditioned* (heated, ventilated, lit) during its HVAC schedule
(``Zone.conditioning``; unset: the site's opening hours on open days). At each
moment of it the zone is

* *occupied* when at least one of its spaces is occupied,
* *unknown* when none is occupied and at least one is unknown (a silent
  sensor, an offline agent: the zone may have been in use),
* *empty* when every space is known to be free.

The same states are taken for the zone's floor (no space of the floor
occupied), measured within the zone's conditioned time. Empty time is exact
from the state intervals (``metrics.intervals.state_intervals``), by an event
sweep per zone and floor, not from per-space sums: two desks each occupied
half an hour may or may not overlap.

``energy_hours`` gives, per zone and local hour, the integer nanoseconds of
conditioned, empty and unknown time (zone and floor); the daily summaries store
them (``summaries.energy``). ``energy_table`` turns them into m²h, kWh and
kg CO2 per bucket and zone, floor and site.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

import numpy as np
import pandas as pd

from core.calendar import is_public_holiday
from core.registry import Site, Zone
from metrics.cells import local_hour_edges
from metrics.intervals import (
    INTERVAL_COLUMNS,
    OCCUPIED,
    UNKNOWN,
    column_ns,
    ns_to_utc,
    require_columns,
    space_codes,
    split_at,
    to_ns,
)

NS_FIELDS = ("conditioned_ns", "empty_ns", "unknown_ns", "floor_empty_ns", "floor_unknown_ns")
HOUR_COLUMNS = ("zone", "day", "hour", *NS_FIELDS)
Bucket = Literal["day", "month", "year"]
By = Literal["zone", "floor"]
_FREE, _OCC, _UNK = 0, 1, 2
_NS_PER_H = 3_600 * 1_000_000_000


# ---- the registry's side -----------------------------------------------------
def energy_zones(site: Site) -> list[Zone]:
    """Zones that have spaces (a zone without spaces has no area to condition
    and nothing to measure), in registry order."""
    used = {s.zone for s in site.spaces}
    return [z for z in site.zones if z.id in used]


def zone_area(site: Site, zone: str) -> float:
    """A zone's area: the sum of its spaces' ``area_m2`` (corridors and other
    circulation space, which no sensor watches, are not counted)."""
    return float(sum(s.area_m2 for s in site.spaces if s.zone == zone))


def _local(site: Site, day: date, t: time) -> int:
    if t == time.max:  # "24:00": the next midnight
        wall = datetime.combine(day + timedelta(days=1), time(0), tzinfo=site.tz)
    else:
        wall = datetime.combine(day, t, tzinfo=site.tz)
    return to_ns(wall.astimezone(UTC), name="schedule")


def schedule_on(site: Site, zone: Zone, day: date) -> list[tuple[int, int]]:
    """UTC ns ranges in which ``zone`` is conditioned on local ``day``."""
    cond = zone.conditioning
    if cond is not None and cond.schedule is not None:
        ranges = cond.schedule.ranges(day.weekday())
    else:
        ranges = site.opening_hours.ranges(day.weekday())
    closed = day in site.closures or is_public_holiday(site, day)
    if closed and not (cond is not None and cond.on_closed_days):
        return []
    return [(_local(site, day, a), _local(site, day, b)) for a, b in ranges]


def conditioned_windows(
    *, site: Site, zone: Zone, start: datetime | pd.Timestamp, end: datetime | pd.Timestamp
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(starts, ends, local day as datetime64[ns]) of the zone's conditioned
    time within [start, end), sorted; one Python step per local day."""
    t0, t1 = to_ns(start, name="start"), to_ns(end, name="end")
    first = pd.Timestamp(t0, unit="ns", tz="UTC").tz_convert(site.tz).date() - timedelta(days=1)
    last = pd.Timestamp(t1, unit="ns", tz="UTC").tz_convert(site.tz).date()
    rows: list[tuple[int, int, np.datetime64]] = []
    day = first
    while day <= last:
        for a, b in schedule_on(site, zone, day):
            lo, hi = max(a, t0), min(b, t1)
            if lo < hi:
                rows.append((lo, hi, np.datetime64(day, "ns")))
        day += timedelta(days=1)
    rows.sort()
    return (
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([r[1] for r in rows], dtype=np.int64),
        np.array([r[2] for r in rows], dtype="datetime64[ns]"),
    )


def conditioning_digest(site: Site) -> str:
    """What the energy rows depend on beyond the other summaries' inputs: the
    zones' conditioning. Empty when no zone sets one, so the parameter digest
    of such sites (every stored summary so far) is unchanged."""
    conditioned = [z for z in site.zones if z.conditioning is not None]
    if not conditioned:
        return ""
    text = "|".join(f"{z.id}:{z.conditioning.model_dump_json()}" for z in conditioned)  # type: ignore[union-attr]
    return "|energy:" + hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


# ---- the sweep -----------------------------------------------------------------
def group_states(
    s: np.ndarray, e: np.ndarray, state: np.ndarray, group: np.ndarray, n_groups: int
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per group: (starts, ends, state code) of its group state (occupied when
    any member is, else unknown when any member is, else empty), from member
    intervals that cover the same span for every member."""
    out: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for g in range(n_groups):
        mine = group == g
        gs, ge, st = s[mine], e[mine], state[mine]
        if not len(gs):
            empty = np.empty(0, np.int64)
            out.append((empty, empty, empty))
            continue
        occ, unk = (st == _OCC).astype(np.int64), (st == _UNK).astype(np.int64)
        t = np.concatenate([gs, ge])
        d_occ = np.concatenate([occ, -occ])
        d_unk = np.concatenate([unk, -unk])
        order = np.argsort(t, kind="stable")
        t, d_occ, d_unk = t[order], d_occ[order], d_unk[order]
        level_occ, level_unk = np.cumsum(d_occ), np.cumsum(d_unk)
        # the level after the last change at an instant holds until the next instant
        last = np.r_[t[1:] != t[:-1], True]
        t, level_occ, level_unk = t[last], level_occ[last], level_unk[last]
        code = np.where(level_occ > 0, _OCC, np.where(level_unk > 0, _UNK, _FREE))
        seg_s, seg_e, seg_c = t[:-1], t[1:], code[:-1]
        out.append((seg_s, seg_e, seg_c))
    return out


def _clip(
    s: np.ndarray, e: np.ndarray, code: np.ndarray, windows: tuple[np.ndarray, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pieces of segments inside the windows: (start, end, code, window day)."""
    ws, we, wday = windows
    if not len(ws) or not len(s):
        none = np.empty(0, np.int64)
        return none, none, none, np.empty(0, "datetime64[ns]")
    src, ps, pe = split_at(s, e, np.unique(np.concatenate([ws, we])))
    w = np.searchsorted(ws, ps, side="right") - 1
    inside = (w >= 0) & (ps < we[np.maximum(w, 0)]) & (ps < pe)
    return ps[inside], pe[inside], code[src][inside], wday[w[inside]]


def energy_hours(
    *,
    intervals: pd.DataFrame,
    site: Site,
    start: datetime | pd.Timestamp,
    end: datetime | pd.Timestamp,
) -> pd.DataFrame:
    """Per zone (with spaces) and local hour of its conditioned time in
    [start, end): ``HOUR_COLUMNS`` (integer ns), in registry order of zones,
    then hour. ``intervals`` are ``state_intervals`` over [start, end) (not
    clipped to opening hours: a schedule may run past them)."""
    require_columns(intervals, INTERVAL_COLUMNS, what="state intervals")
    zones = energy_zones(site)
    floors = sorted({z.floor for z in zones})
    code = space_codes(site, intervals["space"])
    keep = code >= 0
    s = column_ns(intervals, "start", what="intervals")[keep]
    e = column_ns(intervals, "end", what="intervals")[keep]
    raw_state = intervals["state"].to_numpy(dtype=object)[keep]
    state = np.where(raw_state == OCCUPIED, _OCC, np.where(raw_state == UNKNOWN, _UNK, _FREE))
    zone_of_space = np.array([sp.zone for sp in site.spaces], dtype=object)[code[keep]]
    zone_ids = [z.id for z in zones]
    z_code = pd.Categorical(zone_of_space, categories=zone_ids).codes.astype(np.int64)
    floor_of_zone = {z.id: z.floor for z in zones}
    f_code = pd.Categorical(
        [floor_of_zone.get(z, "") for z in zone_of_space], categories=floors
    ).codes.astype(np.int64)
    by_zone = group_states(s, e, state, z_code, len(zones))
    by_floor = group_states(s, e, state, f_code, len(floors))
    t0, t1 = to_ns(start, name="start"), to_ns(end, name="end")
    hours = HourGrid(site, t0, t1)
    cols: dict[str, list[np.ndarray]] = {c: [] for c in ("zone", "day", "hour", *NS_FIELDS)}
    for i, zone in enumerate(zones):
        windows = conditioned_windows(site=site, zone=zone, start=start, end=end)
        if not len(windows[0]):
            continue
        # the zone's conditioned local hours: one row each
        k, ns, src = hours.cut(windows[0], windows[1])
        keys, first, inverse = np.unique(hours.label[k], return_index=True, return_inverse=True)
        sums = {c: np.zeros(len(keys), np.int64) for c in NS_FIELDS}
        np.add.at(sums["conditioned_ns"], inverse, ns)
        for segs, empty_col, unknown_col in (
            (by_zone[i], "empty_ns", "unknown_ns"),
            (by_floor[floors.index(zone.floor)], "floor_empty_ns", "floor_unknown_ns"),
        ):
            ps, pe, pc, _ = _clip(*segs, windows)
            kk, pns, psrc = hours.cut(ps, pe)
            slot = np.searchsorted(keys, hours.label[kk])
            code_of = pc[psrc]
            for col, want in ((empty_col, _FREE), (unknown_col, _UNK)):
                mine = code_of == want
                np.add.at(sums[col], slot[mine], pns[mine])
        cols["zone"].append(np.full(len(keys), zone.id, dtype=object))
        cols["day"].append(windows[2][src][first])
        cols["hour"].append(keys.astype("datetime64[ns]"))
        for c in NS_FIELDS:
            cols[c].append(sums[c])
    if not cols["zone"]:
        return empty_hours()
    return pd.DataFrame(
        {
            "zone": np.concatenate(cols["zone"]).astype(object),
            "day": np.concatenate(cols["day"]).astype("datetime64[ns]"),
            "hour": np.concatenate(cols["hour"]).astype("datetime64[ns]"),
            **{c: np.concatenate(cols[c]).astype(np.int64) for c in NS_FIELDS},
        }
    )


class HourGrid:
    """The local hour starts of [t0, t1) (UTC ns) and their wall-clock labels
    (naive local time as int64 ns): on the autumn DST day two starts share the
    label of hour 03, which is one cell, as in ``metrics.cells``."""

    def __init__(self, site: Site, t0: int, t1: int) -> None:
        hour = 3_600 * 1_000_000_000
        self.edges = local_hour_edges(site, t0 - hour, t1 + hour)
        wall = ns_to_utc(self.edges).tz_convert(site.tz).tz_localize(None)
        self.label = np.asarray(wall, dtype="datetime64[ns]").view(np.int64)

    def cut(self, s: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pieces of [s, e) cut at local hours: (hour index, ns, source row)."""
        src, ps, pe = split_at(s, e, self.edges)
        k = np.searchsorted(self.edges, ps, side="right") - 1
        return k, pe - ps, src


def empty_hours() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "zone": pd.Series([], dtype=object),
            "day": pd.Series([], dtype="datetime64[ns]"),
            "hour": pd.Series([], dtype="datetime64[ns]"),
            **{c: pd.Series([], dtype=np.int64) for c in NS_FIELDS},
        }
    )


def sort_hours(hours: pd.DataFrame, site: Site) -> pd.DataFrame:
    """Energy hours in canonical order: registry order of zones, then hour."""
    order_of = {z.id: i for i, z in enumerate(site.zones)}
    code = hours["zone"].map(order_of).to_numpy(dtype=np.int64)
    order = np.lexsort((hours["hour"].to_numpy(), code))
    return hours.iloc[order].reset_index(drop=True)


# ---- m²h, kWh and CO2 ------------------------------------------------------------
TABLE_COLUMNS = (
    "level", "group", "period", "area_m2", "conditioned_h", "empty_h", "unknown_h",
    "conditioned_m2h", "empty_m2h", "unknown_m2h", "empty_share", "unknown_share",
    "empty_kwh", "empty_kg_co2", "unknown_kwh",
)  # fmt: skip


def period_labels(days: pd.Series | np.ndarray, bucket: Bucket) -> np.ndarray:
    """The bucket of each local day: 2026-03-02, 2026-03 or 2026."""
    # a year of hours is tens of thousands of rows over a few hundred days:
    # format each day once
    uniq, inverse = np.unique(np.asarray(days, dtype="datetime64[ns]"), return_inverse=True)
    fmt = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}[bucket]
    labels = np.asarray(pd.DatetimeIndex(uniq).strftime(fmt), dtype=object)
    return labels[inverse.reshape(-1)]


def _zone_sums(hours: pd.DataFrame, site: Site, labels: np.ndarray) -> pd.DataFrame:
    """Exact integer sums per (zone, label), zones in registry order."""
    frame = pd.DataFrame({"zone": hours["zone"].to_numpy(dtype=object), "label": labels})
    for c in NS_FIELDS:
        frame[c] = hours[c].to_numpy(dtype=np.int64)
    sums = frame.groupby(["zone", "label"], sort=False)[list(NS_FIELDS)].sum().reset_index()
    order_of = {z.id: i for i, z in enumerate(site.zones)}
    sums["_o"] = sums["zone"].map(order_of)
    return sums.sort_values(["_o", "label"], kind="stable").drop(columns="_o")


def energy_table(
    *, hours: pd.DataFrame, site: Site, by: By = "zone", bucket: Bucket = "month"
) -> pd.DataFrame:
    """Empty conditioned m²h, kWh and kg CO2 per ``by`` group and bucket, then
    one ``level="site"`` row per bucket (the sum of the groups). For zones:
    each zone's own states; for floors: the floor's states (no space of the
    floor occupied) within each of its zones' conditioned time, weighted by
    the zone's area (a floor's hours are its m²h / its area). Sums run in
    registry order, so every path that gives the same hours gives the same
    figures to the last bit."""
    if hours.empty:
        return pd.DataFrame({c: [] for c in TABLE_COLUMNS})
    sums = _zone_sums(hours, site, period_labels(hours["day"], bucket))
    area = {z.id: zone_area(site, z.id) for z in energy_zones(site)}
    a = sums["zone"].map(area).to_numpy(dtype=float)
    empty_col, unknown_col = (
        ("empty_ns", "unknown_ns") if by == "zone" else ("floor_empty_ns", "floor_unknown_ns")
    )
    floor_of = {z.id: z.floor for z in site.zones}
    parts = pd.DataFrame(
        {
            "group": sums["zone"] if by == "zone" else sums["zone"].map(floor_of),
            "period": sums["label"],
            "area_m2": a,
            "conditioned_m2h": sums["conditioned_ns"].to_numpy() * a / _NS_PER_H,
            "empty_m2h": sums[empty_col].to_numpy() * a / _NS_PER_H,
            "unknown_m2h": sums[unknown_col].to_numpy() * a / _NS_PER_H,
        }
    )
    groups = _add_up(parts, ["group", "period"], site, by)
    groups_area = _group_areas(site, by)
    groups["area_m2"] = groups["group"].map(groups_area).astype(float)
    groups.insert(0, "level", by)
    totals = _add_up(groups.assign(group="site"), ["group", "period"], site, by)
    totals["area_m2"] = float(sum(area.values()))
    totals.insert(0, "level", "site")
    totals["group"] = site.id
    rank = {g: i for i, g in enumerate(groups_area)}  # registry order
    groups = groups.assign(_r=groups["group"].map(rank)).sort_values(
        ["_r", "period"], kind="stable"
    )
    totals = totals.sort_values("period", kind="stable")
    table = pd.concat([groups.drop(columns="_r"), totals], ignore_index=True)
    return _finish(table, site)


def _group_areas(site: Site, by: By) -> dict[str, float]:
    out: dict[str, float] = {}
    for z in energy_zones(site):
        key = z.id if by == "zone" else z.floor
        out[key] = out.get(key, 0.0) + zone_area(site, z.id)
    return out


def _add_up(parts: pd.DataFrame, keys: list[str], site: Site, by: By) -> pd.DataFrame:
    # float sums in the order the rows come (registry order): deterministic
    cols = ["conditioned_m2h", "empty_m2h", "unknown_m2h"]
    out = parts.groupby(keys, sort=False)[cols].sum().reset_index()
    return out


def _finish(table: pd.DataFrame, site: Site) -> pd.DataFrame:
    area = table["area_m2"].to_numpy(dtype=float)
    cond = table["conditioned_m2h"].to_numpy(dtype=float)
    safe = np.where(area > 0, area, np.nan)
    table["conditioned_h"] = cond / safe
    table["empty_h"] = table["empty_m2h"] / safe
    table["unknown_h"] = table["unknown_m2h"] / safe
    with np.errstate(invalid="ignore", divide="ignore"):
        table["empty_share"] = np.where(cond > 0, table["empty_m2h"] / cond, np.nan)
        table["unknown_share"] = np.where(cond > 0, table["unknown_m2h"] / cond, np.nan)
    intensity = site.energy.intensity_kwh_per_m2_h
    table["empty_kwh"] = table["empty_m2h"] * intensity
    table["empty_kg_co2"] = table["empty_kwh"] * site.energy.emission_g_per_kwh / 1000.0
    table["unknown_kwh"] = table["unknown_m2h"] * intensity
    return table[list(TABLE_COLUMNS)].reset_index(drop=True)
