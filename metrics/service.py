"""Service-point figures from entrance counts: visits per hour, day and
weekday, the peak hour, the in-building count with its drift at closing,
counter utilisation while open, the share of visits inside a candidate set of
opening hours, and the size class (L, M, S, XS) the demand fits.

Input rows are those ``metrics.service_quality.checked_counts`` keeps. A
visit is one person counted in. An interval's counts belong to the local hour
(and day) in which the interval starts. Definitions and a worked day:
docs/metrics.md, "Service points".
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import numpy as np
import pandas as pd

from core.registry import OpeningHours, ServiceClasses, Site, SpaceType
from metrics.intervals import (
    column_ns,
    local_midnights,
    ns_to_utc,
    opening_windows,
    require_columns,
    to_ns,
)
from metrics.peaks import p90
from metrics.service_quality import ROW_COLUMNS, day_flags
from metrics.utilisation import utilisation_from_cells

By = Literal["entrance", "zone"]
VisitBucket = Literal["hour", "day", "weekday"]
VISIT_BUCKETS: tuple[VisitBucket, ...] = ("hour", "day", "weekday")
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CLASSES = ("L", "M", "S", "XS")


def _check(rows: pd.DataFrame) -> None:
    require_columns(rows, ROW_COLUMNS, what="checked entrance counts (checked_counts)")


def _hour_of(site: Site, rows: pd.DataFrame) -> np.ndarray:
    wall = rows["start"].dt.tz_convert(site.tz).dt.tz_localize(None).dt.floor("h")
    return np.asarray(wall, dtype="datetime64[ns]")


def _day_flags_by(flags: pd.DataFrame, site: Site, by: By) -> pd.DataFrame:
    """Flag names per (group, day): for a zone, those of all its entrances."""
    per = day_flags(flags)
    if by == "entrance" or per.empty:
        return per.rename(columns={"entrance": by})
    zone = {e.id: e.zone for e in site.entrances}
    per = per.assign(zone=per["entrance"].map(zone)).dropna(subset=["zone"])
    names = per.groupby(["zone", "day"], sort=True)["flags"].agg(
        lambda f: ";".join(sorted({x for s in f for x in s.split(";")}))
    )
    return names.reset_index()


def daily_visits(
    *,
    rows: pd.DataFrame,
    flags: pd.DataFrame,
    coverage: pd.DataFrame,
    site: Site,
    by: By = "entrance",
) -> pd.DataFrame:
    """Per group and local day: visits (in), exits (out), open (the site had
    opening hours that day), coverage (covered / opening seconds of its
    entrances; NaN on a closed day) and flags (';'-joined names, '' when none).

    Every open day of ``coverage`` has a row, with 0 visits when no count
    arrived (and then coverage 0 and a gap flag: not a silent zero)."""
    _check(rows)
    key = rows[by].to_numpy(dtype=object)
    sums = (
        pd.DataFrame(
            {
                by: key,
                "day": rows["day"].to_numpy(),
                "visits": rows["in_count"],
                "exits": rows["out_count"],
            }
        )
        .groupby([by, "day"], sort=True)[["visits", "exits"]]
        .sum()
    )
    cov = coverage.copy()
    if by == "zone":
        cov["zone"] = cov["entrance"].map({e.id: e.zone for e in site.entrances})
    cov = cov.groupby([by, "day"], sort=True)[["opening_s", "covered_s"]].sum()
    out = sums.join(cov, how="outer").reset_index()
    out[["visits", "exits"]] = out[["visits", "exits"]].fillna(0).astype(np.int64)
    out["open"] = out["opening_s"].fillna(0) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        out["coverage"] = np.where(out["open"], out["covered_s"] / out["opening_s"], np.nan)
    per_day = _day_flags_by(flags, site, by)
    # empty frames come with float columns: the keys must agree to merge
    out[by] = out[by].astype(object)
    per_day[by] = per_day[by].astype(object)
    out["day"] = out["day"].astype("datetime64[ns]")
    per_day["day"] = per_day["day"].astype("datetime64[ns]")
    out = out.merge(per_day, on=[by, "day"], how="left")
    flags_col = out["flags"].astype(object)
    out["flags"] = flags_col.where(flags_col.notna(), "")
    cols = [by, "day", "visits", "exits", "open", "coverage", "flags"]
    return out[cols].sort_values([by, "day"]).reset_index(drop=True)


def hourly_visits(*, rows: pd.DataFrame, site: Site, by: By = "entrance") -> pd.DataFrame:
    """Per group and local hour with counts: bucket (naive local start), day, visits, exits."""
    _check(rows)
    frame = pd.DataFrame(
        {by: rows[by].to_numpy(dtype=object), "bucket": _hour_of(site, rows),
         "day": rows["day"].to_numpy(), "visits": rows["in_count"], "exits": rows["out_count"]}
    )  # fmt: skip
    out = frame.groupby([by, "bucket"], sort=True).agg(
        day=("day", "first"), visits=("visits", "sum"), exits=("exits", "sum")
    )
    return out.reset_index()


def weekday_visits(*, daily: pd.DataFrame, by: By = "entrance") -> pd.DataFrame:
    """Per group and weekday over its open days: days, visits (total),
    mean_per_day, flagged_days (days whose figures carry a flag)."""
    require_columns(daily, (by, "day", "visits", "open", "flags"), what="daily visits")
    d = daily[daily["open"]]
    frame = d.assign(weekday=pd.to_datetime(d["day"]).dt.day_of_week, flagged=d["flags"] != "")
    g = frame.groupby([by, "weekday"], sort=True)
    out = g.agg(days=("day", "size"), visits=("visits", "sum"), flagged_days=("flagged", "sum"))
    out = out.reset_index()
    out.insert(2, "weekday_name", [WEEKDAY_NAMES[w] for w in out["weekday"]])
    out["mean_per_day"] = out["visits"] / out["days"]
    return out[[by, "weekday", "weekday_name", "days", "visits", "mean_per_day", "flagged_days"]]


def peak_hours(*, hourly: pd.DataFrame, daily: pd.DataFrame, by: By = "entrance") -> pd.DataFrame:
    """Per group: peak_hour (the local hour with the most visits, the first
    one on a tie), peak_visits, and the typical busiest hour of the day:
    peak_hour_of_day (0-23) with its mean visits per open day (open days of
    ``daily``, counting days without visits in that hour as 0)."""
    require_columns(hourly, (by, "bucket", "visits"), what="hourly visits")
    cols = [by, "peak_hour", "peak_visits", "peak_hour_of_day", "peak_hour_mean"]
    if hourly.empty:
        return pd.DataFrame(columns=cols)
    top = hourly.sort_values([by, "visits", "bucket"], ascending=[True, False, True])
    top = top.drop_duplicates(by).set_index(by)
    days = daily[daily["open"]].groupby(by).size()
    hod = hourly.assign(h=pd.to_datetime(hourly["bucket"]).dt.hour)
    hod = hod.groupby([by, "h"], sort=True)["visits"].sum().reset_index()
    n_days = hod[by].map(days).fillna(0).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        hod["mean"] = np.where(n_days > 0, hod["visits"].to_numpy(dtype=float) / n_days, np.nan)
    best = hod.sort_values([by, "mean", "h"], ascending=[True, False, True]).drop_duplicates(by)
    best = best.set_index(by)
    out = pd.DataFrame(
        {
            "peak_hour": top["bucket"],
            "peak_visits": top["visits"].astype(np.int64),
            "peak_hour_of_day": best["h"].reindex(top.index).astype("Int64"),
            "peak_hour_mean": best["mean"].reindex(top.index),
        }
    )
    return out.rename_axis(by).reset_index()[cols]


def _reset_points(site: Site, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """(instants where the count restarts at 0, which of them are closings):
    each open day's closing time (end of its last opening range), and every
    local midnight (a day without opening hours has no closing)."""
    windows = opening_windows(site=site, start=ns_to_utc(np.array([lo]))[0],
                              end=ns_to_utc(np.array([hi]))[0])  # fmt: skip
    closing = windows.groupby("day")["end"].max() if len(windows) else pd.Series([], dtype=object)
    close_ns = (
        column_ns(closing.reset_index(), "end", what="closing")
        if len(closing)
        else np.array([], np.int64)
    )
    mid = local_midnights(site, lo, hi)
    points = np.concatenate([close_ns, mid])
    is_close = np.concatenate([np.ones(len(close_ns), bool), np.zeros(len(mid), bool)])
    o = np.argsort(points, kind="stable")
    points, is_close = points[o], is_close[o]
    keep = np.ones(len(points), bool)
    keep[1:] = points[1:] != points[:-1]  # closing at midnight: one reset, a closing
    return points[keep], is_close[keep]


def in_building(
    *, rows: pd.DataFrame, site: Site, start: datetime | pd.Timestamp, end: datetime | pd.Timestamp
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The people in each zone at each moment, from the counts of its entrances.

    The count starts at 0 at every reset point (each open day's closing and
    every local midnight) and after each interval becomes
    max(0, count + in - out): clamped at 0, since fewer than nobody cannot be
    inside. That is S_k - min(0, min_j<=k S_j) with S the plain running sum of
    in - out since the reset. An interval ending exactly at closing counts
    before the reset.

    Returns (series: zone, time (UTC end of the interval), day, in_building;
    drift: zone, day, closing (UTC), drift (the count just before the reset at
    closing: people counted in and never out, or a counting error),
    unmatched_out (people counted out with nobody counted inside: what the
    clamp removed); both null when no interval of the zone ended since the
    reset before, since then there is nothing to show, not a zero))."""
    _check(rows)
    lo, hi = to_ns(start, name="start"), to_ns(end, name="end")
    resets, is_close = _reset_points(site, lo, hi)
    z_code, z_names = pd.factorize(rows["zone"], sort=True)
    t_all = column_ns(rows, "end", what="counts")
    order = np.lexsort((t_all, z_code))
    z_code, t = z_code[order], t_all[order]
    seg = np.searchsorted(resets, t, side="left")  # a row ending at a reset is before it
    x = (rows["in_count"].to_numpy(np.int64) - rows["out_count"].to_numpy(np.int64))[order]
    # one integer key per (zone, segment) for the group-wise sums
    key = z_code.astype(np.int64) * (len(resets) + 1) + seg
    running = pd.Series(x).groupby(key, sort=False).cumsum().to_numpy(np.int64)
    low = np.minimum(pd.Series(running).groupby(key, sort=False).cummin().to_numpy(np.int64), 0)
    n = running - low
    zone_names = np.asarray(z_names, dtype=object)
    series = pd.DataFrame(
        {"zone": zone_names[z_code] if len(z_code) else np.array([], object),
         "time": ns_to_utc(t), "day": rows["day"].to_numpy()[order], "in_building": n}
    )  # fmt: skip
    grouped = pd.DataFrame({"key": key, "n": n, "low": low}).groupby("key", sort=True)
    ends = grouped.agg(n=("n", "last"), low=("low", "min")).reset_index()
    width = len(resets) + 1
    keys = ends["key"].to_numpy(np.int64)
    last = {
        (str(zone_names[k // width]), k % width): (v, lw)
        for k, v, lw in zip(keys.tolist(), ends["n"].tolist(), ends["low"].tolist(), strict=True)
    }
    drift = []
    zones = sorted({e.zone for e in site.entrances} | {str(z) for z in zone_names})
    for i in np.flatnonzero(is_close):
        closing = ns_to_utc(np.array([resets[i]]))[0]
        day = closing.tz_convert(site.tz).tz_localize(None).normalize()
        if resets[i] > hi or resets[i] <= lo:
            continue
        for z in zones:
            # no count since the last reset: no drift to show (not 0)
            n, low_v = last.get((z, int(i)), (None, None))
            drift.append((z, day, closing, n, None if low_v is None else -low_v))
    drift_frame = pd.DataFrame(drift, columns=["zone", "day", "closing", "drift", "unmatched_out"])
    drift_frame["day"] = drift_frame["day"].astype("datetime64[ns]")
    drift_frame[["drift", "unmatched_out"]] = drift_frame[["drift", "unmatched_out"]].astype(
        "Int64"
    )
    return series.reset_index(drop=True), drift_frame


def counter_utilisation(*, cells: pd.DataFrame, site: Site) -> pd.DataFrame:
    """Per zone with service-point spaces (counters): the utilisation figures
    of ``metrics.utilisation`` over those spaces only, from the same cells
    (opening, unknown, observed and occupied seconds, coverage, utilisation =
    occupied / observed while open)."""
    counters = {s.id for s in site.spaces if s.type is SpaceType.SERVICE_POINT}
    mine = cells[cells["space"].isin(counters)]
    table = utilisation_from_cells(cells=mine, site=site, by="zone")
    return table.rename(columns={"spaces": "counters"})[
        ["zone", "counters", "open_days", "opening_s", "unknown_s", "observed_s",
         "occupied_s", "coverage", "utilisation"]
    ]  # fmt: skip


def opening_share(
    *,
    rows: pd.DataFrame,
    site: Site,
    hours: OpeningHours,
    start: datetime | pd.Timestamp,
    end: datetime | pd.Timestamp,
    by: By = "entrance",
) -> pd.DataFrame:
    """Per group: visits, inside (visits whose interval starts within the
    candidate ``hours`` on a day the site is not closed for a holiday or
    closure) and share = inside / visits (NaN without visits)."""
    _check(rows)
    candidate = site.model_copy(update={"opening_hours": hours})
    windows = opening_windows(site=candidate, start=start, end=end)
    w_s = column_ns(windows, "start", what="windows")
    w_e = column_ns(windows, "end", what="windows")
    s = column_ns(rows, "start", what="counts")
    w = np.searchsorted(w_s, s, side="right") - 1
    inside = (w >= 0) & (s < w_e[np.maximum(w, 0)]) if len(w_s) else np.zeros(len(s), bool)
    frame = pd.DataFrame(
        {by: rows[by].to_numpy(object), "visits": rows["in_count"],
         "inside": np.where(inside, rows["in_count"], 0)}
    )  # fmt: skip
    out = frame.groupby(by, sort=True)[["visits", "inside"]].sum().reset_index()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["share"] = np.where(out["visits"] > 0, out["inside"] / out["visits"], np.nan)
    return out


def size_class(busy_day_visits: float, classes: ServiceClasses) -> str | None:
    """The class whose threshold the busy-day visits reach (None: no measure)."""
    if not np.isfinite(busy_day_visits):
        return None
    for name, least in (("L", classes.l), ("M", classes.m), ("S", classes.s)):
        if busy_day_visits >= least:
            return name
    return "XS"


def class_fit(*, daily: pd.DataFrame, classes: ServiceClasses, by: By = "zone") -> pd.DataFrame:
    """Per group over its open days with counts (coverage > 0): days,
    mean_daily, busy_day (the 90th percentile of daily visits,
    ``metrics.peaks.p90``), max_daily, size_class (L/M/S/XS by ``busy_day``
    against ``classes``) and flagged_days (days the class rests on that carry
    a flag: the class is then no better than those days)."""
    require_columns(daily, (by, "visits", "open", "coverage", "flags"), what="daily visits")
    d = daily[daily["open"] & (daily["coverage"] > 0)]
    rows = []
    for group, part in d.groupby(by, sort=True):
        v = part["visits"].to_numpy(dtype=float)
        busy = p90(v)
        rows.append(
            (group, len(v), float(v.mean()), busy, int(v.max()), size_class(busy, classes),
             int((part["flags"] != "").sum()))
        )  # fmt: skip
    cols = [by, "days", "mean_daily", "busy_day", "max_daily", "size_class", "flagged_days"]
    return pd.DataFrame(rows, columns=cols)


__all__ = [
    "CLASSES",
    "VISIT_BUCKETS",
    "class_fit",
    "counter_utilisation",
    "daily_visits",
    "hourly_visits",
    "in_building",
    "opening_share",
    "peak_hours",
    "size_class",
    "weekday_visits",
]
