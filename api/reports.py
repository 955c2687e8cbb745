"""Report building for the routes: period resolution, store reading, metric
functions, and the privacy rules of what an agency may see.

Routes call these and only translate errors to HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd

from charging.bookings import Booking
from core.calendar import local_day_bounds, month_bounds
from core.registry import Site
from core.timeutil import utcnow
from metrics import efficiency as efficiency_m
from metrics import forecast as forecast_m
from metrics import peaks as peaks_m
from metrics import presence_forecast as presence_forecast_m
from metrics import rollups as rollups_m
from metrics import utilisation as utilisation_m
from metrics.presence import DEFAULT_MARGIN
from storage import Store
from summaries.compute import ALL
from summaries.raw import read_opening_intervals
from summaries.reader import PeriodData, Source
from summaries.retention import require_raw
from summaries.summariser import SummaryParams

MAX_PERIOD_DAYS = 400


class PeriodError(ValueError):
    def __init__(self, param: str, msg: str):
        super().__init__(msg)
        self.param = param


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime
    end: datetime
    first_day: date
    last_day: date  # inclusive

    @property
    def label(self) -> str:
        return f"{self.first_day.isoformat()}..{self.last_day.isoformat()}"

    def meta(self) -> dict[str, Any]:
        return {
            "from": self.first_day.isoformat(),
            "to": (self.last_day + timedelta(days=1)).isoformat(),
            "start_utc": self.start.isoformat(),
            "end_utc": self.end.isoformat(),
        }


# The dates a period may touch. Outside them there is no data to report, and
# near the ends of the calendar the UTC conversion of a local day overflows
# (0001-01 or 9999-12 answered 500, issue 20).
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2199, 12, 31)
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})", re.ASCII)  # ASCII: no full-width digits


def parse_month(text: str, param: str = "month") -> tuple[int, int]:
    match = _MONTH.fullmatch(text)
    year, month = (int(match[1]), int(match[2])) if match else (0, 0)
    if not 1 <= month <= 12:
        raise PeriodError(param, f"{param} must look like 2026-11, not {text[:20]!r}")
    _check_in_range(param, date(max(year, 1), month, 1))
    return year, month


def _check_in_range(param: str, day: date) -> None:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise PeriodError(param, f"{param} must lie between {FIRST_DAY} and {LAST_DAY}")


def resolve_period(site: Site, *, from_: date | None, to: date | None, month: str | None) -> Period:
    """Local dates [from, to) or a local month; default: the current month so far."""
    if month is not None:
        if from_ is not None or to is not None:
            raise PeriodError("month", "give either month or from/to, not both")
        year, mon = parse_month(month)
        start, end = month_bounds(site, year, mon)
        nxt = date(year + (mon == 12), mon % 12 + 1, 1)
        return Period(start, _until_now(start, end), date(year, mon, 1), nxt - timedelta(days=1))
    if from_ is not None:
        _check_in_range("from", from_)
    if to is not None:
        _check_in_range("to", to)
    today = utcnow().astimezone(site.tz).date()
    first = from_ or today.replace(day=1)
    after = to or today + timedelta(days=1)
    if after <= first:
        raise PeriodError("to", f"to ({after}) must be after from ({first})")
    if (after - first).days > MAX_PERIOD_DAYS:
        raise PeriodError("to", f"a period may span at most {MAX_PERIOD_DAYS} days")
    start = local_day_bounds(site, first)[0]
    end = local_day_bounds(site, after)[0]
    return Period(start, _until_now(start, end), first, after - timedelta(days=1))


def _until_now(start: datetime, end: datetime) -> datetime:
    # Figures for the future would count as unknown time that has not happened yet.
    now = (utcnow() + timedelta(seconds=1)).replace(microsecond=0).astimezone(UTC)
    return min(end, max(start + timedelta(seconds=1), now))


# ---- reports ----------------------------------------------------------------
def period_data(
    store: Store,
    site: Site,
    period: Period,
    *,
    silence_factor: float,
    merge_gap_s: float,
    source: Source = "summaries",
    visible: frozenset[str] | None = None,
    raw_retention_days: int | None = None,
    bookings: Sequence[Booking] = (),
) -> PeriodData:
    """The report inputs of a period: summaries for closed days, raw for the rest
    (``source="raw"``: all from raw points, for audits; refused with
    ``RawRetentionError`` over days whose raw points are gone); ``visible``
    keeps the cells of those spaces only (an agency's view)."""
    return PeriodData(
        store=store,
        site=site,
        start=period.start,
        end=period.end,
        params=SummaryParams(silence_factor=silence_factor, merge_gap_s=merge_gap_s),
        source=source,
        visible=visible,
        raw_retention_days=raw_retention_days,
        bookings=bookings,
    )


def intervals(
    store: Store, site: Site, period: Period, *, silence_factor: float, merge_gap_s: float
) -> pd.DataFrame:
    return read_opening_intervals(
        store=store,
        site=site,
        start=period.start,
        end=period.end,
        silence_factor=silence_factor,
        merge_gap_s=merge_gap_s,
    )


def utilisation_report(
    data: PeriodData,
    site: Site,
    *,
    by: utilisation_m.Grouping,
    bucket: utilisation_m.Bucket | None,
) -> pd.DataFrame:
    def compute() -> pd.DataFrame:
        cells = data.hour_cells() if bucket == "hour" else data.day_cells()
        frame = utilisation_m.utilisation_from_cells(cells=cells, site=site, by=by, bucket=bucket)
        return frame.reset_index(drop=True)

    return data.memo(("utilisation", by, bucket), compute)


def heatmap_report(data: PeriodData, site: Site, *, spaces: list[str] | None) -> pd.DataFrame:
    return data.memo(
        ("heatmap", None if spaces is None else tuple(spaces)),
        lambda: utilisation_m.heatmap_from_cells(cells=data.hour_cells(), site=site, spaces=spaces),
    )


def peaks_report(
    data: PeriodData, site: Site, *, by: str, space_type: str | None, view: str = ALL
) -> tuple[pd.DataFrame, pd.DataFrame]:
    daily = data.daily_peaks(level=by, types=space_type, view=view)
    return daily, peaks_m.peak_summary(daily=daily, by=by)  # type: ignore[arg-type]


def efficiency_report(
    data: PeriodData,
    site: Site,
    *,
    view: str = ALL,
    shared_use_s: dict[str, float] | None = None,
    margin: float = DEFAULT_MARGIN,
) -> pd.DataFrame:
    return efficiency_m.efficiency_from(
        cells=data.day_cells(),
        presence=data.presence_pairs(),
        site_desk_peaks=data.daily_peaks(level="site", types="desk", view=view),
        site=site,
        shared_use_s=shared_use_s,
        margin=margin,
    )


def rollup(
    store: Store,
    site: Site,
    period: Period,
    *,
    silence_factor: float,
    merge_gap_s: float,
    raw_retention_days: int | None = None,
) -> dict[str, int]:
    """Write the exact 15-minute utilisation rows of a period, their sums per
    zone, space type and local hour (the weekday x hour heatmap), the exact
    daily peaks of the site and its floors, and the efficiency rows of every
    whole month it covers; idempotent. Computed from raw points, so refused
    (``RawRetentionError``) over days whose raw points are gone: rewriting
    their rows from what is left would blank them."""
    require_raw(
        store,
        site,
        period.start,
        period.end,
        raw_retention_days=raw_retention_days,
        what="rollups",
    )
    iv = intervals(store, site, period, silence_factor=silence_factor, merge_gap_s=merge_gap_s)
    day_points = rollups_m.day_rollup_points(intervals=iv, site=site)
    eff_points = []
    day = period.first_day.replace(day=1)
    while day <= period.last_day:
        m_start, m_end = month_bounds(site, day.year, day.month)
        if m_start >= period.start and m_end <= period.end:
            month_iv = iv[(iv["start"] >= m_start) & (iv["end"] <= m_end)]
            report = efficiency_m.efficiency_report(intervals=month_iv, site=site)
            eff_points += rollups_m.efficiency_points(
                report=report, site=site, year=day.year, month=day.month
            )
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    written = [*day_points, *eff_points]
    if written:
        store.write(written)
    kinds = [p.measurement for p in day_points]
    return {
        "utilisation_points": kinds.count("utilisation"),
        "heatmap_points": kinds.count(rollups_m.HEATMAP),
        "peak_points": kinds.count(rollups_m.PEAKS),
        "efficiency_points": len(eff_points),
    }


def forecast_report(
    data: PeriodData,
    site: Site,
    *,
    by: str,
    start: date,
    weeks: int,
    view: str = ALL,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Forecast rows of the open days in [start, start + weeks), from the daily
    peaks of the period's days that have measurements at all (a day nobody's
    sensor reported on is no evidence of an empty building), and what it used."""
    cells = data.day_cells()
    measured = _measured_days(cells)
    daily = data.daily_peaks(level=by, types=None, view=view)
    daily = daily[daily["day"].isin(measured)]
    frame = forecast_m.forecast_peaks(daily=daily, site=site, by=by, start=start, days=7 * weeks)
    return frame, _forecast_used(cells, start=start, weeks=weeks, days_measured=len(measured))


def presence_forecast_report(
    data: PeriodData, site: Site, *, agency: str, start: date, weeks: int
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The agency's forecast rows of its daily peak of presence
    (``metrics.presence_forecast``) for the open days in [start, start +
    weeks), and what it used; the history days are the period's days on which
    a desk was observed (the days its presence was measured)."""
    pairs = data.presence_pairs()
    frame = presence_forecast_m.forecast_presence(
        pairs=pairs, site=site, start=start, days=7 * weeks, agencies=[agency]
    )
    measured = pairs.loc[pairs["agency"] == agency, "day"].nunique()
    used = _forecast_used(data.day_cells(), start=start, weeks=weeks, days_measured=int(measured))
    return frame, used


def _measured_days(cells: pd.DataFrame) -> set[Any]:
    observed = cells.groupby("day")["opening_ns"].sum() - cells.groupby("day")["unknown_ns"].sum()
    return set(observed[observed > 0].index)


def _forecast_used(
    cells: pd.DataFrame, *, start: date, weeks: int, days_measured: int
) -> dict[str, Any]:
    """What a forecast used: the model, its parameters and the history's
    measured days and coverage (observed / opening time of the day cells)."""
    total = int(cells["opening_ns"].sum())
    observed = float(cells["opening_ns"].sum() - cells["unknown_ns"].sum())
    return {
        "model": forecast_m.MODEL,
        "parameters": forecast_m.DEFAULTS,
        "history_days_measured": days_measured,
        "history_coverage": round(observed / total, 4) if total else None,
        "forecast_from": start.isoformat(),
        "forecast_to": (start + timedelta(days=7 * weeks)).isoformat(),
    }
