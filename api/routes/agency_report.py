"""The agency's report, monthly or yearly, as JSON (the UI page) or a PDF
(docs/api.md, "Agency report")."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse, Response

from api.agency_report import data as report_data
from api.agency_report.pdf import render_pdf
from api.deps import Ctx, CurrentPrincipal, ReportSlot, require
from api.routes.portfolio import _portfolio
from core.timeutil import utcnow

router = APIRouter(prefix="/v1/agencies", tags=["agency report"])

Lang = Literal["fi", "sv", "en"]


@router.get("", summary="The agencies of the registry the key may see, with their sites")
def list_agencies(ctx: Ctx, principal: CurrentPrincipal) -> list[dict[str, Any]]:
    require(principal, "facility", "finance", "agency")
    out: dict[str, dict[str, Any]] = {}
    for site in sorted(ctx.registry, key=lambda s: s.id):
        for a in site.agencies:
            if not principal.may_see_agency(a.id):
                continue
            row = out.setdefault(
                a.id,
                {
                    "id": a.id,
                    "name": a.name,
                    "name_sv": a.name_sv,
                    "name_en": a.name_en,
                    "sites": [],
                },
            )
            row["sites"].append(site.id)
    return [out[k] for k in sorted(out)]


@router.get("/{agency}/report", summary="The agency's monthly or yearly report (JSON or PDF)")
def agency_report(
    agency: str,
    ctx: Ctx,
    principal: CurrentPrincipal,
    _slot: ReportSlot,  # expensive: every site of the registry, a year of months
    month: Annotated[str | None, Query(description="A local month, e.g. 2026-11")] = None,
    year: Annotated[int | None, Query(description="A calendar year, e.g. 2026")] = None,
    format: Annotated[Literal["json", "pdf"], Query(description="json or pdf")] = "json",
    lang: Annotated[Lang, Query(description="Language of names and the PDF")] = "fi",
) -> Response:
    require(principal, "facility", "finance", "agency")
    try:
        period = report_data.report_period(month=month, year=year)
        sites = report_data.check_access(ctx.registry, principal, agency)
        report = report_data.gather(
            _portfolio(ctx),
            principal,
            agency=agency,
            period=period,
            lang=lang,
            today=utcnow().astimezone(sites[0].tz).date(),
        )
    except report_data.ReportError as exc:
        where = f"{exc.param}: " if exc.param else ""
        raise HTTPException(exc.status, f"{where}{exc}") from None
    if format == "json":
        return JSONResponse(report)
    name = f"agency-report-{agency}-{period.label}-{lang}.pdf"
    return Response(
        render_pdf(report, lang=lang),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
