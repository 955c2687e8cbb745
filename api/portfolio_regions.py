"""Portfolio reports by region, and the efficiency trend by month (docs/api.md,
"Portfolio reports").

A region row is made as an agency row is: the sums (utilisation) or the
efficiency rows (``metrics.portfolio.combine_efficiency``) of the region's
sites added up, each site's part exactly as ``api.portfolio`` reads and
restricts it for the key, so a region row is a sum of rows the key's site
reports show it. ``agency=`` makes the rows that agency's own, per region.
The monthly trend is the efficiency report of each month of the period
(each site's own local month), one row per month and group.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

import pandas as pd

from api import access
from api import portfolio as api_pf
from api.auth import Principal
from api.reports import Period
from core.registry import Registry, Site
from metrics import portfolio as pf
from metrics.efficiency import SITE_ROW

#: The region of the sites that name none (a registry without a portfolio file).
NO_REGION = "_no_region"
Lang = Literal["fi", "sv", "en"]


def region_of(site: Site) -> str:
    return site.region or NO_REGION


def region_names(registry: Registry, lang: Lang) -> dict[str, str | None]:
    """Region id -> its name in ``lang`` (the portfolio file's, else the id);
    the sites without a region have no name."""
    loaded = registry.portfolio
    out: dict[str, str | None] = {NO_REGION: None}
    for site in registry:
        rid = region_of(site)
        region = loaded.portfolio.region(rid) if loaded is not None else None
        if rid != NO_REGION:
            out[rid] = region.name_in(lang) if region is not None else rid
    return out


def _named(frame: pd.DataFrame, registry: Registry, lang: Lang) -> pd.DataFrame:
    names = region_names(registry, lang)
    out = frame.copy()
    out.insert(1, "region_name", [names.get(r) for r in out["region"]])
    return out


# ---- utilisation ------------------------------------------------------------------
def utilisation_by_region(
    pf_: api_pf.Portfolio,
    periods: dict[str, Period],
    principal: Principal,
    *,
    bucket: pf.PortfolioBucket | None,
    agency: str | None,
    lang: Lang,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Rows per region (and bucket): the sums of its sites' ``by=site`` rows as
    the key sees them, or with ``agency``, of that agency's rows."""
    meta = api_pf._Meta()
    level: pf.Level = "site" if agency is None else "agency"

    def compute(data: Any, site: Site) -> pd.DataFrame:
        return pf.group_sums(cells=data.day_cells(), site=site, by=level, bucket=bucket)

    parts = []
    what = ("u", level, bucket)  # the key api.portfolio keeps these sums under
    for site, sums in api_pf._per_site(pf_, periods, principal, what, compute, meta):
        shown = access.restrict_rows(
            sums, by=level, principal=principal, site=site, min_group=pf_.min_group
        )
        if agency is not None:
            shown = shown[shown["agency"] == agency]
        parts.append(shown.assign(region=region_of(site)))
    keys = ["region", "bucket"] if bucket is not None else ["region"]
    frame = pf.utilisation_figures(pf.add_up(parts, keys=keys), keys=keys)
    extra = {"agency": agency} if agency is not None else {}
    return _named(frame, pf_.registry, lang), meta.out(periods, by="region", bucket=bucket, **extra)


# ---- efficiency -------------------------------------------------------------------
def efficiency_by_region(
    pf_: api_pf.Portfolio,
    periods: dict[str, Period],
    principal: Principal,
    *,
    agency: str | None,
    lang: Lang,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per region: its sites' ``_site`` rows combined (an agency key sees
    their registry figures only, as it sees ``_site``), or with ``agency``,
    that agency's rows of the region's sites combined (regions where it has
    no site are left out); a last row ``_portfolio`` of all of them."""
    meta = api_pf._Meta()
    parts = api_pf._per_site(
        pf_,
        periods,
        principal,
        ("e",),  # the key api.portfolio.efficiency keeps these rows under
        lambda data, site: api_pf._site_efficiency(data, site, principal, pf_.margin),
        meta,
    )
    extra = {"agency": agency} if agency is not None else {}
    label = agency if agency is not None else SITE_ROW
    tagged = [p.assign(region=region_of(site)) for site, p in parts]
    rows = pd.concat(tagged, ignore_index=True) if tagged else pd.DataFrame()
    out = []
    listed = rows[rows["agency"] == label] if len(rows) else rows
    for rid in sorted(set(listed["region"])) if len(listed) else []:
        out.append(api_pf._combined(rows[rows["region"] == rid], label, rid))
    if len(listed):
        out.append(api_pf._combined(rows, label, pf.PORTFOLIO_ROW))
    if not out:
        empty = pd.DataFrame(columns=["region", "sites", *api_pf.EFFICIENCY_FIGURES])
        return _named(empty, pf_.registry, lang), meta.out(periods, by="region", **extra)
    frame = pd.concat(out, ignore_index=True)
    if agency is None and principal.agency is not None:
        # every region row is a total over other agencies' desks too
        frame = pd.concat(
            [
                access.restrict_efficiency(frame.iloc[[i]], principal, total=str(label_))
                for i, label_ in enumerate(frame["agency"])
            ],
            ignore_index=True,
        )
    frame = frame.rename(columns={"agency": "region"})
    return _named(frame, pf_.registry, lang), meta.out(periods, by="region", **extra)


def month_periods(
    registry: Registry, periods: dict[str, Period]
) -> list[tuple[date, dict[str, Period]]]:
    """Each local month the period touches, with every site's part of it
    (the sites' periods share their local dates)."""
    if not periods:
        return []
    some = next(iter(periods.values()))
    first, after = some.first_day, some.last_day + timedelta(days=1)
    out = []
    month = first.replace(day=1)
    while month < after:
        nxt = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
        part = api_pf.site_periods(
            registry, from_=max(first, month), to=min(after, nxt), month=None
        )
        out.append((month, {sid: part[sid] for sid in periods}))
        month = nxt
    return out


def _merged_meta(metas: list[dict[str, Any]], whole: dict[str, Any]) -> dict[str, Any]:
    """The meta of the whole period from the months' metas: days summed, the
    lists of raw and stale days joined; bounds and periods of the whole."""
    out = dict(whole)
    out["site_days_from_summaries"] = sum(m["site_days_from_summaries"] for m in metas)
    for key in ("days_from_raw", "stale_days"):
        joined: dict[str, list[str]] = {}
        for m in metas:
            for sid, days in m[key].items():
                joined.setdefault(sid, []).extend(days)
        out[key] = joined
    return out


def efficiency_by_month(
    pf_: api_pf.Portfolio,
    periods: dict[str, Period],
    principal: Principal,
    *,
    by: Literal["site", "agency", "region"],
    agency: str | None,
    lang: Lang,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The efficiency report of each month, its rows with a ``bucket`` column
    (the month's first local day) after the group column."""
    frames, metas = [], []
    for month, part in month_periods(pf_.registry, periods):
        if by == "region":
            frame, meta = efficiency_by_region(pf_, part, principal, agency=agency, lang=lang)
        else:
            frame, meta = api_pf.efficiency(pf_, part, principal, by=by, agency=agency)
        frame = frame.copy()
        frame.insert(1, "bucket", pd.Timestamp(month))
        frames.append(frame)
        metas.append(meta)
    whole = api_pf._Meta().out(periods, by=by, bucket="month")
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[by, "bucket"])
    if "bucket" in frame.columns:
        frame["bucket"] = pd.to_datetime(frame["bucket"])
    return frame, _merged_meta(metas, whole)
