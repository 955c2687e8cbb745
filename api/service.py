"""Service-point reports for the routes: read the entrance counts of a period,
check them, and make the figures of ``metrics.service`` (docs/api.md,
"Service points"). Routes call these and only translate errors to HTTP.

Entrance counts come from the daily summaries for the closed days that have
a current one (``summaries.counts``: the day's intervals, with runs of empty
ones folded) and from raw points for the rest, or all from raw points
(``source="raw"``); both are checked by the same function, so the figures
agree exactly. The counter utilisation comes from the same cells as every
other utilisation figure (``PeriodData``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from api.auth import Principal
from api.reports import Period
from core.calendar import local_day_bounds
from core.registry import WEEKDAYS, OpeningHours, Site
from metrics import service as service_m
from metrics.service_quality import FLAGS, checked_counts, coverage, flag_records
from storage import Store
from summaries.reader import PeriodData, Source
from summaries.summariser import SummaryParams


class HoursError(ValueError):
    pass


def visible_entrances(site: Site, principal: Principal) -> list[str]:
    """Service points are shared: every key sees the entrances of shared zones;
    an agency key also those of its own dedicated zones, never another's."""
    out = []
    for e in site.entrances:
        owner = site.zone(e.zone).agency
        if owner is None or principal.agency is None or owner == principal.agency:
            out.append(e.id)
    return out


@dataclass
class ServiceData:
    """The checked counts of one period, and what every report makes of them."""

    site: Site
    start: datetime
    end: datetime
    rows: pd.DataFrame
    flags: pd.DataFrame
    coverage: pd.DataFrame
    entrances: list[str] = field(default_factory=list)
    #: which days came from summaries or raw points (``PeriodData.meta``)
    sources: dict[str, Any] = field(default_factory=dict)

    def daily(self, by: service_m.By) -> pd.DataFrame:
        return service_m.daily_visits(
            rows=self.rows, flags=self.flags, coverage=self.coverage, site=self.site, by=by
        )

    def meta(self) -> dict[str, Any]:
        counts = self.flags["flag"].value_counts() if len(self.flags) else pd.Series(dtype=int)
        return {
            **self.sources,
            "entrances": self.entrances,
            "quality": {
                "flags": flag_records(self.flags),
                "counts": {f: int(counts.get(f, 0)) for f in FLAGS},
                "ok": self.flags.empty,
            },
        }


def _grace(raw: pd.DataFrame) -> timedelta:
    """2.5 x the longest counting interval heard: how long counts may still be
    on their way before their absence is a gap."""
    if raw.empty or "interval_s" not in raw.columns:
        return timedelta(0)
    lengths = pd.to_numeric(raw["interval_s"], errors="coerce").to_numpy(dtype=float)
    return timedelta(seconds=2.5 * float(np.nan_to_num(np.nanmax(lengths, initial=0))))


def read_service(
    store: Store,
    site: Site,
    start: datetime,
    end: datetime,
    *,
    entrances: list[str],
    ended_by: datetime | None = None,
    source: Source = "summaries",
    params: SummaryParams = SummaryParams(),
    raw_retention_days: int | None = None,
) -> ServiceData:
    """The ``entrance_counts`` of [start, end) for ``entrances``, checked.

    Reads a day beyond the end: an interval that starts inside the period
    may end after it (its counts belong to the day it starts). Closed days
    with a current summary come from it (``PeriodData.entrance_counts``;
    ``source="raw"``: none; ``params``: the summariser's, whose digest a
    current summary carries). ``ended_by`` (a live view's now): only
    intervals that have ended by then, and no gap flag for the last 2.5
    intervals, whose counts may still be on their way."""
    data = PeriodData(
        store=store, site=site, start=start, end=end, params=params, source=source,
        now=ended_by, raw_retention_days=raw_retention_days,
    )  # fmt: skip
    raw = data.entrance_counts()
    if not raw.empty:  # (a store's answer for a measurement it has never seen has no columns)
        # unknown entrances stay in (and are flagged); foreign entrances of the site do not
        hidden = {e.id for e in site.entrances} - set(entrances)
        raw = raw[~raw["entrance"].isin(hidden)]
    gaps_until = None
    if ended_by is not None:
        if not raw.empty:
            raw = raw[raw["time"] <= pd.Timestamp(ended_by)]
        gaps_until = max(start, ended_by - _grace(raw))
    rows, flags = checked_counts(counts=raw, site=site, start=start, end=end, gaps_until=gaps_until)
    cov = coverage(rows=rows, site=site, start=start, end=end)
    cov = cov[cov["entrance"].isin(entrances)]
    return ServiceData(site, start, end, rows, flags, cov, entrances, data.meta())


def read_period(
    store: Store,
    site: Site,
    p: Period,
    *,
    entrances: list[str],
    source: Source = "summaries",
    params: SummaryParams = SummaryParams(),
    raw_retention_days: int | None = None,
) -> ServiceData:
    """A report period's counts. A period reaching today ends now (``Period``):
    then, as on the live panel, only intervals ended by now count, and the
    last ones, whose counts may still be on their way, are no gap."""
    nominal_end = local_day_bounds(site, p.last_day + timedelta(days=1))[0]
    ended_by = p.end if p.end < nominal_end else None
    return read_service(
        store, site, p.start, p.end, entrances=entrances, ended_by=ended_by, source=source,
        params=params, raw_retention_days=raw_retention_days,
    )  # fmt: skip


def visits_report(
    data: ServiceData, *, bucket: service_m.VisitBucket, by: service_m.By
) -> pd.DataFrame:
    daily = data.daily(by)
    if bucket == "day":
        return daily
    if bucket == "weekday":
        return service_m.weekday_visits(daily=daily, by=by)
    return service_m.hourly_visits(rows=data.rows, site=data.site, by=by)


def occupancy_report(data: ServiceData) -> tuple[pd.DataFrame, pd.DataFrame]:
    return service_m.in_building(rows=data.rows, site=data.site, start=data.start, end=data.end)


def largest_drift(drift: pd.DataFrame) -> dict[str, int | None]:
    """Per zone, the largest drift at a closing (None: no closing with counts)."""
    top = drift.groupby("zone")["drift"].max()
    return {str(z): None if pd.isna(v) else int(v) for z, v in top.items()}


_RANGE = r"[0-9]{2}:[0-9]{2}-[0-9]{2}:[0-9]{2}"
_PART = re.compile(rf"(?:(mon|tue|wed|thu|fri|sat|sun)=)?({_RANGE}(?:,{_RANGE})*)", re.ASCII)


def parse_hours(text: str, site: Site) -> OpeningHours:
    """Candidate opening hours: ``09:00-15:00`` (on every weekday the site is
    open), or per weekday ``mon=09:00-12:00,13:00-15:00;fri=09:00-12:00``
    (weekdays not named: closed). Raises ``HoursError``."""
    parts = [p.strip() for p in text.split(";") if p.strip()]
    if not parts:
        raise HoursError("give hours like 09:00-15:00 or mon=09:00-12:00;fri=09:00-12:00")
    per_day: dict[str, list[str]] = {}
    for part in parts:
        m = _PART.fullmatch(part)
        if m is None:
            raise HoursError(f"{part[:40]!r} is not like 09:00-15:00 or mon=09:00-12:00")
        ranges = m[2].split(",")
        days = (
            [m[1]] if m[1] else [d for i, d in enumerate(WEEKDAYS) if site.opening_hours.ranges(i)]
        )
        for d in days:
            if d in per_day:
                raise HoursError(f"{d} is given twice")
            per_day[d] = ranges
    try:
        return OpeningHours.model_validate(per_day)
    except ValueError as exc:
        raise HoursError(str(exc).splitlines()[-1].strip()) from None


def summary_report(data: ServiceData, *, cells: pd.DataFrame, hours: OpeningHours) -> pd.DataFrame:
    """One row per zone with entrances: visits, open days, peak hour, in-building
    drift, counter utilisation, the share inside ``hours``, the class fit."""
    site = data.site
    by: service_m.By = "zone"
    daily = data.daily(by)
    hourly = service_m.hourly_visits(rows=data.rows, site=site, by=by)
    peaks = service_m.peak_hours(hourly=hourly, daily=daily, by=by)
    share = service_m.opening_share(
        rows=data.rows, site=site, hours=hours, start=data.start, end=data.end, by=by
    )
    fit = service_m.class_fit(daily=daily, classes=site.service.classes, by=by)
    _, drift = occupancy_report(data)
    util = service_m.counter_utilisation(cells=cells, site=site)
    zones = sorted({site.entrance(e).zone for e in data.entrances})
    out = pd.DataFrame({"zone": zones})
    totals = daily.groupby("zone").agg(
        visits=("visits", "sum"), exits=("exits", "sum"), open_days=("open", "sum"),
        flagged_days=("flags", lambda f: int((f != "").sum())),
        coverage=("coverage", "mean"),
    ).reset_index()  # fmt: skip
    drift_sum = drift.groupby("zone").agg(
        max_drift=("drift", "max"), mean_drift=("drift", "mean"),
        unmatched_out=("unmatched_out", "sum"),
    ).reset_index()  # fmt: skip
    # closings without counts have no drift (null), and add nothing here
    drift_sum["mean_drift"] = drift_sum["mean_drift"].astype("float64")
    out = out.merge(totals, on="zone", how="left")
    out = out.merge(peaks, on="zone", how="left")
    out = out.merge(drift_sum, on="zone", how="left")
    out = out.merge(
        util[["zone", "counters", "opening_s", "observed_s", "occupied_s", "coverage",
              "utilisation"]].rename(
            columns={"opening_s": "counter_opening_s", "observed_s": "counter_observed_s",
                     "occupied_s": "counter_occupied_s", "coverage": "counter_coverage",
                     "utilisation": "counter_utilisation"}
        ),
        on="zone", how="left",
    )  # fmt: skip
    out = out.merge(share[["zone", "inside", "share"]].rename(
        columns={"inside": "visits_inside_hours", "share": "share_inside_hours"}),
        on="zone", how="left")  # fmt: skip
    out = out.merge(fit[["zone", "mean_daily", "busy_day", "max_daily", "size_class"]],
                    on="zone", how="left")  # fmt: skip
    for col in ("visits", "exits", "open_days", "flagged_days"):
        out[col] = out[col].fillna(0).astype(int)
    return out


def read_today(store: Store, site: Site, now: datetime, *, entrances: list[str]) -> ServiceData:
    """The counts of the local day so far: intervals that have ended by ``now``."""
    start = local_day_bounds(site, now.astimezone(site.tz).date())[0]
    return read_service(store, site, start, now, entrances=entrances, ended_by=now)


def now_report(data: ServiceData) -> list[dict[str, Any]]:
    """Per zone: people in the building now (the running count of today) and
    visits today, with the day's flags."""
    series, _ = occupancy_report(data)
    daily = data.daily("zone")
    out = []
    for zone in sorted({data.site.entrance(e).zone for e in data.entrances}):
        s = series[series["zone"] == zone]
        d = daily[daily["zone"] == zone]
        flags = sorted({f for text in d["flags"] for f in text.split(";") if f})
        out.append(
            {
                "zone": zone,
                "in_building": int(s["in_building"].iloc[-1]) if len(s) else 0,
                "as_of": s["time"].iloc[-1].isoformat() if len(s) else None,
                "visits_today": int(d["visits"].sum()),
                "flags": flags,
            }
        )
    return out


def period_meta(site: Site, p: Period, data: ServiceData, **extra: Any) -> dict[str, Any]:
    return {"site": site.id, "timezone": site.timezone, **p.meta(), **data.meta(), **extra}
