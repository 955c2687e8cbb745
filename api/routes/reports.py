"""Utilisation, heatmap, peaks and efficiency reports, in JSON, CSV, XLSX or
Parquet; and the rollups written back for Grafana."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response

from api import access, reports
from api.bookings import list_bookings
from api.deps import Ctx, CurrentPrincipal, ReportSlot, SiteDep, require
from api.exports import ReportFormat, respond
from core.registry import Site, SpaceType
from core.timeutil import utcnow
from summaries.compute import ALL
from summaries.reader import PeriodData, Source
from summaries.retention import RawRetentionError

router = APIRouter(prefix="/v1/sites/{site_id}", tags=["reports"])

GroupBy = Literal["space", "zone", "floor", "site", "agency", "space_type"]
BucketBy = Literal["hour", "day", "week", "month"]


def period(
    site: SiteDep,
    from_: Annotated[date | None, Query(alias="from", description="First local date")] = None,
    to: Annotated[date | None, Query(description="Local date after the last one")] = None,
    month: Annotated[str | None, Query(description="A local month, e.g. 2026-11")] = None,
) -> reports.Period:
    try:
        return reports.resolve_period(site, from_=from_, to=to, month=month)
    except reports.PeriodError as exc:
        raise HTTPException(422, f"{exc.param}: {exc}") from None


PeriodDep = Annotated[reports.Period, Depends(period)]
FormatQ = Annotated[ReportFormat, Query(description="json, csv, xlsx or parquet")]


SourceQ = Annotated[
    Source,
    Query(
        description="summaries (default: daily summaries for closed days, raw points for "
        "the rest) or raw (every day recomputed from raw points, for audits; 422 for "
        "days beyond the store's raw_retention_days)"
    ),
]


def _data(
    ctx: Ctx,
    site: Site,
    p: reports.Period,
    source: Source,
    principal: Any,
    *,
    bookings: bool = False,
) -> PeriodData:
    """``bookings``: read the site's bookings of the period too (the agency
    presence of the days computed from raw points needs them)."""
    booked: list[Any] = []
    if bookings:
        with ctx.sessions() as session:
            booked = list_bookings(session, site=site, start=p.start, end=p.end)
    try:
        return reports.period_data(
            ctx.store,
            site,
            p,
            silence_factor=ctx.settings.silence_factor,
            merge_gap_s=ctx.settings.merge_gap_s,
            source=source,
            # Disclosure rule (api.access): an agency's figures are made of its visible spaces only.
            visible=access.visible_spaces(site, principal),
            raw_retention_days=ctx.settings.store.raw_retention_days,
            bookings=booked,
        )
    except RawRetentionError as exc:
        raise HTTPException(422, str(exc)) from None


def _meta(site: Site, p: reports.Period, data: PeriodData, **extra: Any) -> dict[str, Any]:
    return {"site": site.id, "timezone": site.timezone, **p.meta(), **data.meta(), **extra}


def _view(principal: Any) -> str:
    return principal.agency if principal.agency is not None else ALL


def _agency_param(principal: Any, agency: str | None) -> None:
    if agency is not None and not principal.may_see_agency(agency):
        raise HTTPException(403, "an agency key sees only its own agency's figures")


@router.get("/utilisation", summary="Utilisation grouped and bucketed (docs/metrics.md)")
def utilisation(
    site: SiteDep,
    ctx: Ctx,
    principal: CurrentPrincipal,
    p: PeriodDep,
    _slot: ReportSlot,  # issue 20: expensive; limited per key and server
    by: GroupBy = "space",
    bucket: BucketBy | None = None,
    agency: Annotated[str | None, Query(description="Only this agency's rows (by=agency)")] = None,
    format: FormatQ = ReportFormat.JSON,
    source: SourceQ = "summaries",
) -> Response:
    require(principal, "facility", "finance", "agency")
    _agency_param(principal, agency)
    data = _data(ctx, site, p, source, principal)
    frame = reports.utilisation_report(data, site, by=by, bucket=bucket)
    frame = access.restrict_rows(
        frame, by=by, principal=principal, site=site, min_group=ctx.settings.min_group_spaces
    )
    if agency is not None and by == "agency":
        frame = frame[frame["agency"] == agency]
    return respond(
        frame,
        format,
        name=f"utilisation-{site.id}-{by}",
        meta=_meta(site, p, data, by=by, bucket=bucket),
    )


@router.get("/heatmap", summary="Weekday x hour utilisation")
def heatmap(
    site: SiteDep,
    ctx: Ctx,
    principal: CurrentPrincipal,
    p: PeriodDep,
    _slot: ReportSlot,  # issue 20: expensive; limited per key and server
    zone: str | None = None,
    floor: str | None = None,
    format: FormatQ = ReportFormat.JSON,
    source: SourceQ = "summaries",
) -> Response:
    require(principal, "facility", "finance", "agency")
    if zone is not None and zone not in {z.id for z in site.zones}:
        raise HTTPException(422, f"zone: unknown zone {zone!r}")
    if floor is not None and floor not in {f.id for f in site.floors}:
        raise HTTPException(422, f"floor: unknown floor {floor!r}")
    try:
        spaces = access.check_group_filter(
            principal=principal,
            site=site,
            zone=zone,
            floor=floor,
            min_group=ctx.settings.min_group_spaces,
        )
    except access.AccessDenied as exc:
        raise HTTPException(403, str(exc)) from None
    data = _data(ctx, site, p, source, principal)
    frame = reports.heatmap_report(data, site, spaces=spaces)
    return respond(
        frame, format, name=f"heatmap-{site.id}", meta=_meta(site, p, data, zone=zone, floor=floor)
    )


@router.get("/peaks", summary="Exact peak concurrent occupancy per day, with max and p90")
def peaks(
    site: SiteDep,
    ctx: Ctx,
    principal: CurrentPrincipal,
    p: PeriodDep,
    _slot: ReportSlot,  # issue 20: expensive; limited per key and server
    by: GroupBy = "site",
    space_type: SpaceType | None = None,
    daily: bool = Query(False, description="Rows per day instead of the period summary"),
    format: FormatQ = ReportFormat.JSON,
    source: SourceQ = "summaries",
) -> Response:
    require(principal, "facility", "finance", "agency")
    data = _data(ctx, site, p, source, principal)
    days, summary = reports.peaks_report(
        data,
        site,
        by=by,
        space_type=space_type.value if space_type else None,
        view=_view(principal),
    )
    frame = days if daily else summary.reset_index()
    frame = access.restrict_rows(
        frame,
        by=by,
        principal=principal,
        site=site,
        min_group=ctx.settings.min_group_spaces,
        space_type=space_type.value if space_type else None,
    )
    return respond(
        frame, format, name=f"peaks-{site.id}-{by}", meta=_meta(site, p, data, by=by, daily=daily)
    )


@router.get("/efficiency", summary="Space efficiency per agency and site against the target")
def efficiency(
    site: SiteDep,
    ctx: Ctx,
    principal: CurrentPrincipal,
    p: PeriodDep,
    _slot: ReportSlot,  # issue 20: expensive; limited per key and server
    agency: str | None = None,
    format: FormatQ = ReportFormat.JSON,
    source: SourceQ = "summaries",
) -> Response:
    require(principal, "facility", "finance", "agency")
    _agency_param(principal, agency)
    data = _data(ctx, site, p, source, principal, bookings=True)
    weights = access.area_weights(site, principal)
    frame = access.restrict_efficiency(
        reports.efficiency_report(
            data,
            site,
            view=_view(principal),
            shared_use_s=weights,
            margin=ctx.settings.rightsizing_margin,
        ),
        principal,
    )
    if agency is not None:
        frame = frame[frame["agency"] == agency]
    return respond(
        frame,
        format,
        name=f"efficiency-{site.id}",
        meta=_meta(
            site,
            p,
            data,
            target_m2_per_htv=site.target_m2_per_htv,
            rightsizing_margin=ctx.settings.rightsizing_margin,
        ),
    )


@router.post("/rollups", summary="Write the utilisation and efficiency rollups of a period")
def run_rollups(
    site: SiteDep,
    ctx: Ctx,
    principal: CurrentPrincipal,
    p: PeriodDep,
    _slot: ReportSlot,  # issue 20: expensive; limited per key and server
) -> dict[str, Any]:
    require(principal, "facility")
    try:
        counts = reports.rollup(
            ctx.store,
            site,
            p,
            silence_factor=ctx.settings.silence_factor,
            merge_gap_s=ctx.settings.merge_gap_s,
            raw_retention_days=ctx.settings.store.raw_retention_days,
        )
    except RawRetentionError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"site": site.id, **p.meta(), **counts}


ForecastBy = Literal["zone", "floor", "agency"]


@router.get(
    "/forecast", summary="Expected daily peak per group for the coming weeks, 80 % interval"
)
def forecast(
    site: SiteDep,
    ctx: Ctx,
    principal: CurrentPrincipal,
    _slot: ReportSlot,  # issue 20: expensive; limited per key and server
    weeks: Annotated[int, Query(ge=1, le=12, description="Weeks ahead, from today")] = 4,
    by: ForecastBy = "zone",
    history_weeks: Annotated[int, Query(ge=2, le=52, description="Weeks of history")] = 26,
    format: FormatQ = ReportFormat.JSON,
) -> Response:
    require(principal, "facility", "finance", "agency")
    today = utcnow().astimezone(site.tz).date()
    p = reports.resolve_period(
        site, from_=today - timedelta(weeks=history_weeks), to=today, month=None
    )
    data = _data(ctx, site, p, "summaries", principal)
    frame, used = reports.forecast_report(
        data, site, by=by, start=today, weeks=weeks, view=_view(principal)
    )
    frame = access.restrict_rows(
        frame, by=by, principal=principal, site=site, min_group=ctx.settings.min_group_spaces
    )
    return respond(
        frame,
        format,
        name=f"forecast-{site.id}-{by}",
        meta=_meta(site, p, data, by=by, weeks=weeks, history_weeks=history_weeks, **used),
    )
