"""Monthly usage-based charges: finance sees every agency, an agency its own
statement. Computed from the store on request (deterministic for the same
inputs); ``POST .../run`` also records the run and writes the ``charges``
measurement for Grafana."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from api import bookings as bookings_m
from api.deps import AppContext, Ctx, CurrentPrincipal, SiteDep, require
from api.records import ChargeRun
from api.reports import PeriodError, parse_month
from charging import MEDIA_TYPES, charge_points, render
from charging.charges import MonthCharges
from charging.monthrun import charge_month, month_window
from charging.tariff import Tariff, TariffError, load_tariff_for_site, tariff_files
from core.registry import Site
from core.yamlfile import ConfigError
from summaries.retention import RawRetentionError

router = APIRouter(prefix="/v1/sites/{site_id}/charges", tags=["charges"])

Format = Literal["json", "csv", "xlsx", "pdf"]
Lang = Literal["fi", "sv", "en"]
CsvDialect = Literal["locale", "rfc4180"]


@functools.lru_cache(maxsize=8)
def _load_tariff(path: Path, site_id: str, mtimes: tuple[int, ...]) -> Tariff:
    # Parsed once per version of the files, not once per request; an edited
    # (or added) file changes the mtimes and the tariffs are read again.
    return load_tariff_for_site(path, site_id)


def _tariff(ctx: AppContext, site_id: str) -> Tariff:
    path = ctx.settings.tariffs
    if path is None:
        raise HTTPException(503, "no tariff is configured (OCCUPANCY_API_TARIFFS)")
    try:
        mtimes = (path.stat().st_mtime_ns, *(f.stat().st_mtime_ns for f in tariff_files(path)))
        return _load_tariff(path, site_id, mtimes)
    except OSError as exc:
        raise HTTPException(503, f"the configured tariff cannot be read: {exc}") from None
    except ConfigError as exc:
        raise HTTPException(503, f"the configured tariff is invalid: {exc}") from None


def _compute(ctx: AppContext, site: Site, month: str) -> MonthCharges:
    try:
        parse_month(month)
    except PeriodError as exc:
        raise HTTPException(422, f"month: {exc}") from None
    tariff = _tariff(ctx, site.id)
    try:
        start, end = month_window(site=site, month=month, tariff=tariff)
        with ctx.sessions() as session:
            bookings = bookings_m.list_bookings(session, site=site, start=start, end=end)
        return charge_month(
            store=ctx.store,
            site=site,
            month=month,
            tariff=tariff,
            bookings=bookings,
            silence_factor=ctx.settings.silence_factor,
            merge_gap_s=ctx.settings.merge_gap_s,
            raw_retention_days=ctx.settings.store.raw_retention_days,
        )
    except TariffError as exc:
        raise HTTPException(409, str(exc)) from None
    except RawRetentionError as exc:
        raise HTTPException(422, str(exc)) from None


def _agency_scope(principal: Any, agency: str | None) -> str | None:
    if principal.agency is not None:
        if agency is not None and agency != principal.agency:
            raise HTTPException(403, "an agency key sees only its own statement")
        return principal.agency
    return agency


@router.get("/{month}", summary="Charges of a month (finance: all agencies; agency: its own)")
def get_charges(
    site: SiteDep,
    ctx: Ctx,
    principal: CurrentPrincipal,
    month: str,
    request: Request,
    agency: Annotated[str | None, Query(description="One agency's statement")] = None,
    format: Format = "json",
    lang: Annotated[Lang, Query(description="Language of a PDF, XLSX or CSV statement")] = "fi",
    csv_dialect: Annotated[
        CsvDialect,
        Query(description="locale (fi, sv: semicolon, decimal comma, BOM) or rfc4180"),
    ] = "locale",
) -> Response:
    require(principal, "finance", "agency")
    scope = _agency_scope(principal, agency)
    if scope is not None and scope not in {a.id for a in site.agencies}:
        raise HTTPException(422, f"agency: unknown agency {scope!r}")
    mc = _compute(ctx, site, month)
    body = render(
        mc,
        format,
        agency=scope,
        lang=lang,
        site=site,
        csv_dialect=csv_dialect,
        api_url=str(request.base_url),
    )
    headers = {}
    if format != "json":
        name = f"charges-{site.id}-{month}" + (f"-{scope}" if scope else "") + f"-{lang}"
        headers["Content-Disposition"] = f'attachment; filename="{name}.{format}"'
    return Response(body, media_type=MEDIA_TYPES[format], headers=headers)


@router.post("/{month}/run", summary="Record a charge run and write the charges measurement")
def run_charges(site: SiteDep, ctx: Ctx, principal: CurrentPrincipal, month: str) -> dict[str, Any]:
    require(principal, "finance")
    mc = _compute(ctx, site, month)
    points = charge_points(mc)
    ctx.store.write(points)
    with ctx.sessions() as session:
        run = ChargeRun(
            site=site.id,
            month=month,
            inputs_hash=mc.inputs_hash,
            tariff_version=mc.tariff_version,
            registry_version=mc.registry_version,
            result_json=json.dumps(mc.to_dict(), sort_keys=True, default=str),
        )
        session.add(run)
        session.commit()
        run_id = run.id
    return {
        "run": run_id,
        "site": site.id,
        "month": month,
        "inputs_hash": mc.inputs_hash,
        "points": len(points),
    }
