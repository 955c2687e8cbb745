"""What the agency's report shows, gathered from the functions the site and
portfolio reports use (``PeriodData``, ``portfolio.efficiency``,
``reports.utilisation_report``, ``reports.presence_forecast_report``), as a JSON-ready
dict: the UI page reads it as it is, the PDF renders it.

The agency's presence per day is its daily peak of concurrent presence
(``agency_daily_peaks``: its dedicated and booked desks in use plus its pool
share of the unbooked shared desks in use, ``metrics.presence``) and its use
rate that peak over its headcount: the daily figures behind
``peak_presence_*``, ``use_rate_*`` and ``desks_needed`` of the efficiency
rows, computed by the same functions from the same pairs. The
efficiency figures are copied column by column, so a column added to
``metrics.efficiency`` appears in the report's JSON without a change here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

import pandas as pd

from api import access, portfolio, portfolio_trend, reports
from api.auth import Principal
from core.calendar import open_days
from core.registry import Registry, Site
from metrics.portfolio import PORTFOLIO_ROW
from metrics.presence import daily_presence, pool_shares
from summaries.reader import PeriodData

FORECAST_WEEKS = 4
FORECAST_HISTORY_WEEKS = 26
TREND_MONTHS = 12  # a month's report shows the trend of the 12 months up to it

#: Extra sections, each a function of (the report so far, the portfolio, the
#: principal) returning its JSON-ready dict or None (nothing to show). The
#: energy section goes here as ``SECTIONS["energy"]`` once it exists; the page
#: and the PDF draw a section under the same key when it is not None.
SectionFn = Callable[[dict[str, Any], portfolio.Portfolio, Principal], dict[str, Any] | None]
SECTIONS: dict[str, SectionFn] = {}


class ReportError(Exception):
    """A request the report cannot answer; ``status`` is the HTTP status."""

    def __init__(self, status: int, msg: str, param: str | None = None) -> None:
        super().__init__(msg)
        self.status = status
        self.param = param


@dataclass(frozen=True)
class ReportPeriod:
    kind: Literal["month", "year"]
    label: str  # "2026-11" or "2026"
    first_day: date
    after: date  # the local date after the last one

    @property
    def months(self) -> list[str]:
        out, d = [], self.first_day
        while d < self.after:
            out.append(f"{d.year:04d}-{d.month:02d}")
            d = _next_month(d)
        return out


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def report_period(*, month: str | None, year: int | None) -> ReportPeriod:
    """``month=YYYY-MM`` or ``year=YYYY``, exactly one. Raises ``ReportError`` (422)."""
    if (month is None) == (year is None):
        raise ReportError(422, "give either month (2026-11) or year (2026)", "month")
    if month is not None:
        try:
            y, m = reports.parse_month(month)
        except reports.PeriodError as exc:
            raise ReportError(422, str(exc), exc.param) from None
        first = date(y, m, 1)
        return ReportPeriod("month", month, first, _next_month(first))
    assert year is not None
    if not reports.FIRST_DAY.year <= year <= reports.LAST_DAY.year - 1:
        raise ReportError(
            422, f"year must lie between 1970 and {reports.LAST_DAY.year - 1}", "year"
        )
    return ReportPeriod("year", str(year), date(year, 1, 1), date(year + 1, 1, 1))


def agency_sites(registry: Registry, agency: str) -> list[Site]:
    return [s for s in registry if agency in {a.id for a in s.agencies}]


def check_access(registry: Registry, principal: Principal, agency: str) -> list[Site]:
    """The agency's sites; 403 for another agency's key, 404 for an agency no site lists."""
    if not principal.may_see_agency(agency):
        raise ReportError(403, "an agency key sees only its own agency's report")
    sites = agency_sites(registry, agency)
    if not sites:
        raise ReportError(404, f"no site lists agency {agency!r}")
    return sites


# ---- pieces ---------------------------------------------------------------------
def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _row(frame: pd.DataFrame, agency: str) -> dict[str, Any] | None:
    chosen = frame[frame["agency"] == agency]
    if chosen.empty:
        return None
    return {str(k): _plain(v) for k, v in chosen.iloc[0].items() if k != "agency"}


def _efficiency(
    pf_: portfolio.Portfolio, principal: Principal, sites: list[Site], first: date, after: date
) -> tuple[pd.DataFrame, dict[str, Any]]:
    periods = {
        s.id: reports.resolve_period(s, from_=first, to=after, month=None)
        for s in sorted(sites, key=lambda s: s.id)
    }
    return portfolio.efficiency(pf_, periods, principal, by="agency")


def agency_daily_peaks(data: PeriodData, site: Site, agency: str) -> pd.DataFrame:
    """The agency's daily peak of presence (``agency``, ``day``, ``peak``,
    ``peak_at``) on the open days of ``data``: ``metrics.presence`` over the
    period's pairs with the period's pool share, as ``metrics.efficiency``
    turns them into ``peak_presence_*`` (so the two agree exactly)."""
    pairs = data.presence_pairs()
    daily = daily_presence(pairs=pairs, shares=pool_shares(pairs=pairs, site=site))
    return daily[daily["agency"] == agency].reset_index(drop=True)


def _daily(site: Site, daily: pd.DataFrame, htv: float) -> list[dict[str, Any]]:
    days = pd.to_datetime(daily["day"]).dt.date.tolist()
    peaks = [float(p) for p in daily["peak"].tolist()]
    at = pd.to_datetime(daily["peak_at"], utc=True).dt.tz_convert(site.tz)
    times = [None if pd.isna(x) else x.strftime("%H:%M") for x in at.tolist()]
    return [
        {
            "day": d.isoformat(),
            "peak": p,
            "peak_at_local": when,
            "use_rate": p / htv if htv > 0 else None,
        }
        for d, p, when in zip(days, peaks, times, strict=True)
    ]


def weekday_use(days: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean daily use rate and peak per weekday (0 = Monday) over the days given."""
    by: dict[int, list[dict[str, Any]]] = {}
    for d in days:
        by.setdefault(date.fromisoformat(d["day"]).weekday(), []).append(d)
    out = []
    for w in sorted(by):
        rows = by[w]
        rates = [r["use_rate"] for r in rows if r["use_rate"] is not None]
        out.append(
            {
                "weekday": w,
                "days": len(rows),
                "peak_mean": sum(r["peak"] for r in rows) / len(rows),
                "use_rate_mean": sum(rates) / len(rates) if rates else None,
            }
        )
    return out


def _zones(
    pf_: portfolio.Portfolio,
    data: PeriodData,
    site: Site,
    agency: str,
    principal: Principal,
    lang: str,
) -> list[dict[str, Any]]:
    """Utilisation of the agency's own zones and the shared zones (as the
    site's ``/utilisation?by=zone`` shows them to ``principal``)."""
    frame = reports.utilisation_report(data, site, by="zone", bucket=None)
    frame = access.restrict_rows(
        frame, by="zone", principal=principal, site=site, min_group=pf_.min_group
    )
    out = []
    for r in frame.to_dict("records"):
        zone = site.zone(str(r["zone"]))
        if zone.agency not in (None, agency):
            continue
        out.append(
            {
                "zone": zone.id,
                "name": zone.name_in(lang),
                "shared": zone.agency is None,
                "spaces": int(r["spaces"]),
                "utilisation": _plain(r["utilisation"]),
                "coverage": _plain(r["coverage"]),
            }
        )
    return out


def _forecast(
    pf_: portfolio.Portfolio,
    site: Site,
    agency: str,
    principal: Principal,
    start: date,
) -> dict[str, Any]:
    """The forecast of the agency's daily peak of presence (the figure of its
    use rate and right-sizing), from the history's presence pairs."""
    hist = reports.resolve_period(
        site, from_=start - timedelta(weeks=FORECAST_HISTORY_WEEKS), to=start, month=None
    )
    data = PeriodData(
        store=pf_.store,
        site=site,
        start=hist.start,
        end=hist.end,
        params=pf_.params,
        visible=access.visible_spaces(site, principal),
    )
    if data.summary_key() is None:  # a day from raw points: its presence needs the bookings
        data.bookings = pf_.bookings(site, hist.start, hist.end)
    frame, used = reports.presence_forecast_report(
        data, site, agency=agency, start=start, weeks=FORECAST_WEEKS
    )
    rows = [
        {
            "day": r["day"].date().isoformat(),
            "forecast": float(r["forecast"]),
            "lower": float(r["lower"]),
            "upper": float(r["upper"]),
        }
        for r in frame.to_dict("records")
    ]
    return {"rows": rows, **used}


def _measured_days(data: PeriodData) -> int:
    """How many days of the period some sensor of the (visible) site reported
    on (the presence figures count the other open days as peaks of 0)."""
    cells = data.day_cells()
    if cells.empty:
        return 0
    observed = cells.groupby("day")["opening_ns"].sum() - cells.groupby("day")["unknown_ns"].sum()
    return int((observed > 0).sum())


def _coverage(data: PeriodData, figures: dict[str, Any] | None) -> dict[str, Any]:
    m = data.meta()
    return {
        "coverage": None if figures is None else figures.get("coverage"),
        "measured_days": _measured_days(data),
        "days_from_summaries": m["days_from_summaries"],
        "days_from_raw": m["days_from_raw"],
        "stale_days": m["stale_days"],
        "missing_days": m["missing_days"],
    }


def _site_section(
    pf_: portfolio.Portfolio,
    principal: Principal,
    site: Site,
    agency: str,
    rp: ReportPeriod,
    lang: str,
    today: date,
) -> dict[str, Any]:
    period = reports.resolve_period(site, from_=rp.first_day, to=rp.after, month=None)
    data = PeriodData(
        store=pf_.store,
        site=site,
        start=period.start,
        end=period.end,
        params=pf_.params,
        visible=access.visible_spaces(site, principal),
    )
    if data.summary_key() is None:  # a day from raw points: its presence needs the bookings
        data.bookings = pf_.bookings(site, period.start, period.end)
    figures = _row(_efficiency(pf_, principal, [site], rp.first_day, rp.after)[0], agency)
    htv = site.agency(agency).headcount_htv
    daily = _daily(site, agency_daily_peaks(data, site, agency), htv)
    return {
        "id": site.id,
        "name": site.name_in(lang),
        "timezone": site.timezone,
        "region": site.region,
        # the registry has the region's id only ("pohjois-karjala"): its name as written
        "region_name": "-".join(w.capitalize() for w in site.region.split("-"))
        if site.region
        else None,
        "municipality": site.municipality,
        "headcount_htv": htv,
        "target_m2_per_htv": site.target_m2_per_htv,
        "figures": figures,
        # the open days so far, measured or not: a chart's days
        "open_days": [
            d.isoformat()
            for d in open_days(site, rp.first_day, min(rp.after, today + timedelta(1)))
        ],
        "daily_peaks": daily,
        "weekday_use": weekday_use(daily),
        "zones": _zones(pf_, data, site, agency, principal, lang),
        "forecast": _forecast(pf_, site, agency, principal, min(today, rp.after)),
        "coverage": _coverage(data, figures),
    }


def _total_daily(sites: list[dict[str, Any]], htv: float) -> list[dict[str, Any]]:
    """The agency's daily peaks added up over its sites (different people at
    different sites), per local date, over the total headcount."""
    peak: dict[str, float] = {}
    for s in sites:
        for d in s["daily_peaks"]:
            peak[d["day"]] = peak.get(d["day"], 0) + d["peak"]
    return [
        {"day": day, "peak": p, "peak_at_local": None, "use_rate": p / htv if htv > 0 else None}
        for day, p in sorted(peak.items())
    ]


def trend_months(rp: ReportPeriod, today: date) -> list[tuple[date, date]]:
    """The months of the trend: a year's months, or the 12 months up to a
    month's report; months that have not begun are left out."""
    if rp.kind == "year":
        firsts = [date.fromisoformat(f"{m}-01") for m in rp.months]
    else:
        firsts, d = [], rp.first_day
        for _ in range(TREND_MONTHS):
            firsts.insert(0, d)
            d = date(d.year - (d.month == 1), (d.month - 2) % 12 + 1, 1)
    return [(f, _next_month(f)) for f in firsts if f <= today]


def _trend(
    pf_: portfolio.Portfolio,
    principal: Principal,
    agency: str,
    rp: ReportPeriod,
    today: date,
) -> list[dict[str, Any]]:
    months = trend_months(rp, today)
    if not months:
        return []
    # one read of every site over the trend's months, cut into months
    # (``api.portfolio_trend``): each month's rows are that month's report
    periods = {
        s.id: reports.resolve_period(s, from_=months[0][0], to=months[-1][1], month=None)
        for s in sorted(pf_.registry, key=lambda s: s.id)
    }
    frames = dict(portfolio_trend.efficiency_months(pf_, periods, principal, by="agency")[0])
    out = []
    for first, _after in months:
        frame = frames[first]
        own = _row(frame, agency) or {}
        whole = _row(frame, PORTFOLIO_ROW) or {}
        out.append(
            {
                "month": f"{first.year:04d}-{first.month:02d}",
                "m2_per_htv": own.get("m2_per_htv"),
                "target_m2_per_htv": own.get("target_m2_per_htv"),
                "use_rate": own.get("use_rate"),
                "coverage": own.get("coverage"),
                # registry figures exist for a month nobody measured; say so
                "measured": bool(own.get("coverage")),
                "portfolio_m2_per_htv": whole.get("m2_per_htv"),
            }
        )
    return out


def gather(
    pf_: portfolio.Portfolio,
    principal: Principal,
    *,
    agency: str,
    period: ReportPeriod,
    lang: str,
    today: date,
) -> dict[str, Any]:
    """The report of ``agency`` over ``period`` as ``principal`` may see it,
    names in ``lang``; ``today``: the local date the forecast starts from at
    the latest. Raises ``ReportError``."""
    sites = check_access(pf_.registry, principal, agency)
    sections = [_site_section(pf_, principal, s, agency, period, lang, today) for s in sites]
    frame, meta = _efficiency(pf_, principal, list(pf_.registry), period.first_day, period.after)
    total = _row(frame, agency)
    htv = sum(s["headcount_htv"] for s in sections)
    daily = _total_daily(sections, htv)
    days = sorted({d for s in sections for d in s["open_days"]})
    report: dict[str, Any] = {
        "agency": {"id": agency, "name": sites[0].agency(agency).name_in(lang)},
        "lang": lang,
        "period": {
            "kind": period.kind,
            "label": period.label,
            "from": period.first_day.isoformat(),
            "to": period.after.isoformat(),
            "months": period.months,
        },
        "sites": sections,
        "total": {
            "headcount_htv": htv,
            "open_days": days,
            "figures": total,
            "daily_peaks": daily,
            "weekday_use": weekday_use(daily),
        },
        "portfolio": {"sites": len(pf_.registry), "figures": _row(frame, PORTFOLIO_ROW)},
        "trend": _trend(pf_, principal, agency, period, today),
        "meta": {
            "site_days_from_summaries": meta["site_days_from_summaries"],
            "days_from_raw": meta["days_from_raw"],
            "stale_days": meta["stale_days"],
            "forecast_weeks": FORECAST_WEEKS,
            "forecast_history_weeks": FORECAST_HISTORY_WEEKS,
            "agency_key": principal.agency is not None,
            # desks_needed = ceil(ceil(p90) x (1 + margin)): the footnote says so
            "rightsizing_margin": pf_.margin,
        },
    }
    for key, section in SECTIONS.items():
        report[key] = section(report, pf_, principal)
    report.setdefault("energy", None)
    return report
