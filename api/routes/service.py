"""Customer service points: visits counted at the door, the people in the
building, counter utilisation, opening-hours share and size-class fit
(docs/api.md, "Service points"; definitions in docs/metrics.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from api import access, reports
from api import service as service_api
from api.auth import Principal
from api.deps import Ctx, CurrentPrincipal, ReportSlot, SiteDep, require
from api.exports import ReportFormat, respond
from api.routes.reports import FormatQ, PeriodDep, SourceQ
from core.registry import Site, SpaceType
from core.timeutil import utcnow
from metrics import service as service_m
from summaries.reader import Source
from summaries.retention import RawRetentionError
from summaries.summariser import SummaryParams

router = APIRouter(prefix="/v1/sites/{site_id}/service", tags=["service"])

ByQ = Annotated[service_m.By, Query(description="entrance or zone (the service point)")]
HoursQ = Annotated[
    str | None,
    Query(
        max_length=400,
        description="Candidate opening hours: 09:00-15:00 (every weekday the site opens) or "
        "mon=09:00-12:00,13:00-15:00;fri=09:00-12:00; default: the site's own hours",
    ),
]
COUNTER_COLUMNS = (
    "counters",
    "counter_opening_s",
    "counter_observed_s",
    "counter_occupied_s",
    "counter_coverage",
    "counter_utilisation",
)


def _entrances(site: Site, principal: Principal) -> list[str]:
    if not site.entrances:
        raise HTTPException(404, f"site {site.id!r} has no entrances with people counters")
    return service_api.visible_entrances(site, principal)


def _read(
    ctx: Ctx, site: Site, p: reports.Period, principal: Principal, source: Source
) -> service_api.ServiceData:
    try:
        return service_api.read_period(
            ctx.store, site, p, entrances=_entrances(site, principal), source=source,
            params=SummaryParams(silence_factor=ctx.settings.silence_factor,
                                 merge_gap_s=ctx.settings.merge_gap_s),
            raw_retention_days=ctx.settings.store.raw_retention_days,
        )  # fmt: skip
    except RawRetentionError as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/visits", summary="Visits (people counted in) per hour, day or weekday")
def visits(
    site: SiteDep,
    ctx: Ctx,
    principal: CurrentPrincipal,
    p: PeriodDep,
    _slot: ReportSlot,
    bucket: service_m.VisitBucket = "day",
    by: ByQ = "entrance",
    format: FormatQ = ReportFormat.JSON,
    source: SourceQ = "summaries",
) -> Response:
    require(principal, "facility", "finance", "agency")
    data = _read(ctx, site, p, principal, source)
    frame = service_api.visits_report(data, bucket=bucket, by=by)
    return respond(
        frame,
        format,
        name=f"service-visits-{site.id}-{bucket}",
        meta=service_api.period_meta(site, p, data, bucket=bucket, by=by),
    )


@router.get("/occupancy", summary="People in the building at each moment, and the drift at closing")
def occupancy(
    site: SiteDep,
    ctx: Ctx,
    principal: CurrentPrincipal,
    p: PeriodDep,
    _slot: ReportSlot,
    table: Annotated[
        Literal["series", "drift"],
        Query(description="series: the count after every interval; drift: one row per closing"),
    ] = "series",
    format: FormatQ = ReportFormat.JSON,
    source: SourceQ = "summaries",
) -> Response:
    require(principal, "facility", "finance", "agency")
    data = _read(ctx, site, p, principal, source)
    series, drift = service_api.occupancy_report(data)
    frame = series if table == "series" else drift
    return respond(
        frame,
        format,
        name=f"service-occupancy-{site.id}-{table}",
        meta=service_api.period_meta(
            site, p, data, table=table, drift=service_api.largest_drift(drift)
        ),
    )


def _hide_counters(frame: pd.DataFrame, ctx: Ctx, site: Site, principal: Principal) -> pd.DataFrame:
    """An agency key sees a zone's counter utilisation only where the
    disclosure rule lets it see that zone's group of counters."""
    if principal.agency is None:
        return frame
    members = access.group_members(site, "zone", principal, SpaceType.SERVICE_POINT.value)
    out = frame.copy()
    for col in COUNTER_COLUMNS:
        out[col] = out[col].astype(object)
    for i, zone in enumerate(out["zone"]):
        m = members.get(zone, frozenset())
        if not access.group_shown(site, principal, by="zone", group=zone, members=m,
                                  min_group=ctx.settings.min_group_spaces):  # fmt: skip
            out.loc[out.index[i], list(COUNTER_COLUMNS)] = None
    return out


@router.get(
    "/summary",
    summary="Per service point: visits, peak hour, drift, counter utilisation, "
    "opening-hours share and size class",
)
def summary(
    site: SiteDep,
    ctx: Ctx,
    principal: CurrentPrincipal,
    p: PeriodDep,
    _slot: ReportSlot,
    hours: HoursQ = None,
    format: FormatQ = ReportFormat.JSON,
    source: SourceQ = "summaries",
) -> Response:
    require(principal, "facility", "finance", "agency")
    try:
        candidate = site.opening_hours if hours is None else service_api.parse_hours(hours, site)
    except service_api.HoursError as exc:
        raise HTTPException(422, f"hours: {exc}") from None
    data = _read(ctx, site, p, principal, source)
    try:
        period_data = reports.period_data(
            ctx.store, site, p, source=source,
            silence_factor=ctx.settings.silence_factor, merge_gap_s=ctx.settings.merge_gap_s,
            visible=access.visible_spaces(site, principal),
            raw_retention_days=ctx.settings.store.raw_retention_days,
        )  # fmt: skip
        cells = period_data.day_cells()
    except RawRetentionError as exc:
        raise HTTPException(422, str(exc)) from None
    frame = service_api.summary_report(data, cells=cells, hours=candidate)
    frame = _hide_counters(frame, ctx, site, principal)
    classes = site.service.classes
    return respond(
        frame,
        format,
        name=f"service-summary-{site.id}",
        meta=service_api.period_meta(
            site,
            p,
            data,
            hours=candidate.model_dump(),
            classes={"L": classes.l, "M": classes.m, "S": classes.s, "basis": "busy_day"},
            counters=period_data.meta(),
        ),
    )


@router.get("/now", summary="People in the building now and visits today, per service point")
def now(site: SiteDep, ctx: Ctx, principal: CurrentPrincipal) -> dict[str, Any]:
    require(principal, "facility", "agency")
    at = utcnow()
    data = service_api.read_today(ctx.store, site, at, entrances=_entrances(site, principal))
    zones = service_api.now_report(data)
    return {
        "site": site.id,
        "at": at.isoformat(),
        "zones": zones,
        "in_building": int(np.sum([z["in_building"] for z in zones])),
        "visits_today": int(np.sum([z["visits_today"] for z in zones])),
        **data.meta(),
    }
