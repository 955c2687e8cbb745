"""Utilisation and efficiency over every site of the registry (docs/api.md,
"Portfolio reports")."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import JSONResponse, Response

from api import portfolio, portfolio_regions, portfolio_trend, reports, whatif
from api.booking_marks import SessionBookings
from api.deps import AppContext, Ctx, CurrentPrincipal, ReportSlot, require
from api.exports import ReportFormat, respond
from summaries.summariser import SummaryParams

router = APIRouter(prefix="/v1/portfolio", tags=["portfolio"])

By = Literal["site", "agency", "region"]
BucketBy = Literal["day", "week", "month"]
LangQ = Annotated[
    portfolio_regions.Lang, Query(description="Language of the region names (by=region)")
]
FormatQ = Annotated[ReportFormat, Query(description="json, csv, xlsx or parquet")]
AgencyQ = Annotated[str | None, Query(description="Only this agency's row (by=agency)")]


def periods(
    ctx: Ctx,
    from_: Annotated[
        date | None, Query(alias="from", description="First local date (each site's own)")
    ] = None,
    to: Annotated[date | None, Query(description="Local date after the last one")] = None,
    month: Annotated[str | None, Query(description="A local month, e.g. 2026-11")] = None,
) -> dict[str, reports.Period]:
    try:
        return portfolio.site_periods(ctx.registry, from_=from_, to=to, month=month)
    except reports.PeriodError as exc:
        raise HTTPException(422, f"{exc.param}: {exc}") from None


PeriodsDep = Annotated[dict[str, reports.Period], Depends(periods)]


def _portfolio(ctx: AppContext) -> portfolio.Portfolio:
    return portfolio.Portfolio(
        store=ctx.store,
        registry=ctx.registry,
        params=SummaryParams(
            silence_factor=ctx.settings.silence_factor, merge_gap_s=ctx.settings.merge_gap_s
        ),
        min_group=ctx.settings.min_group_spaces,
        bookings=SessionBookings(ctx.sessions),
        margin=ctx.settings.rightsizing_margin,
    )


def _check_agency(principal: CurrentPrincipal, agency: str | None) -> None:
    if agency is not None and not principal.may_see_agency(agency):
        raise HTTPException(403, "an agency key sees only its own agency's figures")


@router.get("/utilisation", summary="Utilisation per site, or per agency across sites")
def utilisation(
    ctx: Ctx,
    principal: CurrentPrincipal,
    p: PeriodsDep,
    _slot: ReportSlot,  # expensive: every site of the registry
    by: By = "site",
    bucket: BucketBy | None = None,
    agency: AgencyQ = None,
    lang: LangQ = "fi",
    format: FormatQ = ReportFormat.JSON,
) -> Response:
    require(principal, "facility", "finance", "agency")
    _check_agency(principal, agency)
    if by == "region":
        frame, meta = portfolio_regions.utilisation_by_region(
            _portfolio(ctx), p, principal, bucket=bucket, agency=agency, lang=lang
        )
    else:
        frame, meta = portfolio.utilisation(
            _portfolio(ctx), p, principal, by=by, bucket=bucket, agency=agency
        )
    return respond(frame, format, name=f"portfolio-utilisation-{by}", meta=meta)


@router.get("/efficiency", summary="Space efficiency per agency across sites, or per site")
def efficiency(
    ctx: Ctx,
    principal: CurrentPrincipal,
    p: PeriodsDep,
    _slot: ReportSlot,  # expensive: every site of the registry
    by: By = "agency",
    bucket: Annotated[
        Literal["month"] | None, Query(description="month: one row per month and group (trend)")
    ] = None,
    agency: AgencyQ = None,
    lang: LangQ = "fi",
    format: FormatQ = ReportFormat.JSON,
) -> Response:
    require(principal, "facility", "finance", "agency")
    _check_agency(principal, agency)
    pf_ = _portfolio(ctx)
    if bucket == "month":
        frame, meta = portfolio_trend.efficiency_by_month(
            pf_, p, principal, by=by, agency=agency, lang=lang
        )
    elif by == "region":
        frame, meta = portfolio_regions.efficiency_by_region(
            pf_, p, principal, agency=agency, lang=lang
        )
    else:
        frame, meta = portfolio.efficiency(pf_, p, principal, by=by, agency=agency)
    name = f"portfolio-efficiency-{by}" + ("-month" if bucket else "")
    return respond(frame, format, name=name, meta=meta)


def _planner(principal: CurrentPrincipal) -> None:
    # a what-if adds up several agencies' presence: no agency key. A
    # dependency, so that an agency key meets 403 before its body is judged.
    require(principal, "facility", "finance")


@router.post(
    "/what-if",
    summary="Consolidation what-if: moves of agencies and closed floors",
    dependencies=[Depends(_planner)],
)
def what_if(
    ctx: Ctx,
    body: whatif.WhatIfRequest,
    _slot: ReportSlot,  # expensive: raw intervals of every site the moves touch
) -> JSONResponse:
    try:
        answer = whatif.what_if(
            store=ctx.store,
            registry=ctx.registry,
            params=_portfolio(ctx).params,
            req=body,
            tariffs=ctx.settings.tariffs,
            cache=ctx.whatif_intervals,
        )
    except whatif.WhatIfError as exc:
        raise HTTPException(422, f"{exc.field}: {exc}") from None
    except reports.PeriodError as exc:
        raise HTTPException(422, f"{exc.param}: {exc}") from None
    return JSONResponse(answer)
