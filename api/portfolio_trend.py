"""The portfolio efficiency trend by month (docs/api.md, "Portfolio reports"):
each month's efficiency report (by site, agency or region), as the report of
that month alone gives it, from one read of each site's whole period.

A month's figures are its own: its peaks, p90, pool shares and right-sizing
come from its days only. What a site's efficiency is made of is per day (the
per-group daily rows and the presence pairs of ``PeriodData``, each row of
one local day), so each site is read once over the whole period and those
rows are cut into the site's local months; each month's rows are then made
from its cut exactly as a one-month report makes them from its own read
(``api.portfolio.site_efficiency_from``). The inputs are cut, not the
outputs: a month's figures are no sum or mean of other figures.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd

from api import portfolio as api_pf
from api import portfolio_regions as regions
from api.auth import Principal
from api.reports import Period
from core.registry import Site
from summaries.compute import ALL
from summaries.reader import PeriodData

By = Literal["site", "agency", "region"]


def months_of(first: date, after: date) -> list[date]:
    """The first days of the months that [first, after) touches."""
    out, month = [], first.replace(day=1)
    while month < after:
        out.append(month)
        month = next_month(month)
    return out


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def _cut(frame: pd.DataFrame, months: list[date]) -> list[pd.DataFrame]:
    """``frame``'s rows (a ``day`` column of naive local midnights) by month."""
    day = frame["day"].to_numpy(dtype="datetime64[ns]")
    edges = [np.datetime64(m, "ns") for m in (*months, next_month(months[-1]))]
    return [
        frame[(day >= lo) & (day < hi)].reset_index(drop=True)
        for lo, hi in itertools.pairwise(edges)
    ]


def site_months(
    data: PeriodData, site: Site, principal: Principal, months: list[date], margin: float
) -> list[pd.DataFrame]:
    """The site's ``api.portfolio._site_efficiency`` rows of each month, from
    one read of ``data`` (the whole period)."""
    view = principal.agency or ALL
    cuts = zip(
        _cut(data.group_days(level="agency", view=view), months),
        _cut(data.group_days(level="site", view=view), months),
        _cut(data.presence_pairs(), months),
        strict=True,
    )
    return [
        api_pf.site_efficiency_from(
            agency_days=agency_days,
            site_days=site_days,
            presence=presence,
            site=site,
            principal=principal,
            margin=margin,
        )
        for agency_days, site_days, presence in cuts
    ]


def monthly_parts(
    pf_: api_pf.Portfolio, periods: dict[str, Period], principal: Principal
) -> tuple[list[tuple[date, list[tuple[Site, pd.DataFrame]]]], api_pf._Meta]:
    """Per month of the period (its first local day), every site's
    ``_site_efficiency`` rows of that month; and where the whole read came from.
    The sites' periods share their local dates (``api.portfolio.site_periods``)."""
    meta = api_pf._Meta()
    if not periods:
        return [], meta
    some = next(iter(periods.values()))
    months = months_of(some.first_day, some.last_day + timedelta(days=1))
    prefetch = api_pf.efficiency_prefetch(principal)
    parts = api_pf._per_site(
        pf_,
        periods,
        principal,
        ("em", pf_.margin),  # one site's months, kept under the whole period
        lambda data, site: site_months(data, site, principal, months, pf_.margin),
        meta,
        prefetch,
    )
    out = [(m, [(site, frames[i]) for site, frames in parts]) for i, m in enumerate(months)]
    return out, meta


def efficiency_months(
    pf_: api_pf.Portfolio,
    periods: dict[str, Period],
    principal: Principal,
    *,
    by: By,
    agency: str | None = None,
    lang: regions.Lang = "fi",
) -> tuple[list[tuple[date, pd.DataFrame]], api_pf._Meta]:
    """Each month's efficiency report (``api.portfolio.efficiency``, or
    ``api.portfolio_regions.efficiency_by_region`` for ``by=region``) as the
    report of that month alone gives it, and where the whole read came from."""
    months, meta = monthly_parts(pf_, periods, principal)
    out = []
    for month, parts in months:
        if by == "region":
            frame = regions.region_rows(
                parts, principal, agency=agency, registry=pf_.registry, lang=lang
            )
        else:
            frame = api_pf.efficiency_rows(parts, principal, by=by, agency=agency)
        out.append((month, frame))
    return out, meta


def efficiency_by_month(
    pf_: api_pf.Portfolio,
    periods: dict[str, Period],
    principal: Principal,
    *,
    by: By,
    agency: str | None,
    lang: regions.Lang,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The efficiency report of each month, its rows with a ``bucket`` column
    (the month's first local day) after the group column."""
    months, meta = efficiency_months(pf_, periods, principal, by=by, agency=agency, lang=lang)
    frames = []
    for month, frame in months:
        frame = frame.copy()
        frame.insert(1, "bucket", pd.Timestamp(month))
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[by, "bucket"])
    if "bucket" in frame.columns:
        frame["bucket"] = pd.to_datetime(frame["bucket"])
    return frame, meta.out(periods, by=by, bucket="month")
