"""Energy of empty conditioned space (docs/api.md): the report and the
floor-closing recommendations, in JSON, CSV, XLSX or Parquet."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from api import energy, reports
from api.deps import Ctx, CurrentPrincipal, ReportSlot, SiteDep, require
from api.exports import ReportFormat, respond
from api.routes.reports import FormatQ, PeriodDep, SourceQ
from core.registry import Site
from summaries.reader import PeriodData, Source
from summaries.retention import RawRetentionError

router = APIRouter(prefix="/v1/sites/{site_id}", tags=["energy"])


def _data(ctx: Ctx, site: Site, p: reports.Period, source: Source) -> PeriodData:
    try:
        return reports.period_data(
            ctx.store,
            site,
            p,
            silence_factor=ctx.settings.silence_factor,
            merge_gap_s=ctx.settings.merge_gap_s,
            source=source,
            raw_retention_days=ctx.settings.store.raw_retention_days,
        )
    except RawRetentionError as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/energy", summary="Empty conditioned m²h, kWh and kg CO2 (docs/metrics.md)")
def energy_report(
    site: SiteDep,
    ctx: Ctx,
    principal: CurrentPrincipal,
    p: PeriodDep,
    _slot: ReportSlot,
    by: Literal["zone", "floor"] = "zone",
    bucket: Literal["day", "month", "year"] = "month",
    format: FormatQ = ReportFormat.JSON,
    source: SourceQ = "summaries",
) -> Response:
    # zone figures show each agency's dedicated zones: not for agency keys
    require(principal, "facility", "finance")
    data = _data(ctx, site, p, source)
    frame, meta = energy.energy_report(data, site, by=by, bucket=bucket)
    return respond(
        frame,
        format,
        name=f"energy-{site.id}-{by}",
        meta={"site": site.id, "timezone": site.timezone, **p.meta(), **data.meta(),
              **meta, "by": by, "bucket": bucket},
    )  # fmt: skip


@router.get("/energy/closing", summary="Floors to close on quiet weekdays, and what it saves")
def energy_closing(
    site: SiteDep,
    ctx: Ctx,
    principal: CurrentPrincipal,
    p: PeriodDep,
    _slot: ReportSlot,
    margin: Annotated[float, Query(ge=0, lt=1, description="Headroom kept free")] = 0.1,
    format: FormatQ = ReportFormat.JSON,
    source: SourceQ = "summaries",
) -> Response:
    require(principal, "facility", "finance")
    data = _data(ctx, site, p, source)
    frame, meta = energy.closing_report(data, site, p, margin=margin)
    return respond(
        frame,
        format,
        name=f"energy-closing-{site.id}",
        meta={"site": site.id, "timezone": site.timezone, **p.meta(), **data.meta(), **meta},
    )
