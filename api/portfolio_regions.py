"""Portfolio reports by region, and the efficiency trend by month (docs/api.md,
"Portfolio reports").

A region row is made as an agency row is: the sums (utilisation) or the
efficiency rows (``metrics.portfolio.combine_efficiency``) of the region's
sites added up, each site's part exactly as ``api.portfolio`` reads and
restricts it for the key, so a region row is a sum of rows the key's site
reports show it. ``agency=`` makes the rows that agency's own, per region.
The monthly trend of these rows is in ``api.portfolio_trend``.
"""

from __future__ import annotations

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
        api_pf.efficiency_prefetch(principal),
        api_pf.efficiency_at_once(principal, pf_.margin),
    )
    extra = {"agency": agency} if agency is not None else {}
    frame = region_rows(parts, principal, agency=agency, registry=pf_.registry, lang=lang)
    return frame, meta.out(periods, by="region", **extra)


def region_rows(
    parts: list[tuple[Site, pd.DataFrame]],
    principal: Principal,
    *,
    agency: str | None,
    registry: Registry,
    lang: Lang,
) -> pd.DataFrame:
    """The rows of ``efficiency_by_region`` from each site's
    ``api.portfolio._site_efficiency`` rows."""
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
        return _named(empty, registry, lang)
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
    return _named(frame, registry, lang)
