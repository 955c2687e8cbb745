"""Sensor health over time (the analytics pages' health chart): how many
sensors reported through each day or hour of a period, from the same
interval engine as the utilisation reports."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api import health as health_m
from api import reports
from api.deps import Ctx, CurrentPrincipal, ReportSlot, SiteDep, require
from api.exports import ReportFormat, respond
from api.routes.reports import FormatQ, PeriodDep, SourceQ, _data, _meta

router = APIRouter(prefix="/v1/sites/{site_id}", tags=["live"])

OK_COVERAGE = 0.95  # a sensor heard through 95 % of a bucket's opening time reported through it


@router.get(
    "/sensors/health/history",
    summary="Sensors reporting, partly reporting and silent per day or hour of a period",
)
def sensor_health_history(
    site: SiteDep,
    ctx: Ctx,
    principal: CurrentPrincipal,
    p: PeriodDep,
    _slot: ReportSlot,  # as expensive as /utilisation?by=space
    bucket: Annotated[Literal["hour", "day", "week", "month"], Query()] = "day",
    format: FormatQ = ReportFormat.JSON,
    source: SourceQ = "summaries",
) -> Response:
    require(principal, "facility")  # as /sensors/health: sensors are the facility's business
    data = _data(ctx, site, p, source, principal)
    per_space = reports.utilisation_report(data, site, by="space", bucket=bucket)
    frame = health_m.coverage_history(per_space, ok_coverage=OK_COVERAGE)
    return respond(
        frame,
        format,
        name=f"sensor-health-{site.id}-{bucket}",
        meta=_meta(site, p, data, bucket=bucket, ok_coverage=OK_COVERAGE),
    )
