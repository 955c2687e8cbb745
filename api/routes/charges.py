"""Monthly usage-based charges and their life cycle (docs/charging.md, "Life
cycle"): finance sees every agency, an agency its own statements. A draft is
computed from the store on request; an approved month is rendered from its
frozen figures. The logic is in api/charge_months.py (transitions) and
api/charge_history.py (what the records say)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from api import bookings as bookings_m
from api import charge_history as history_m
from api import charge_months as months_m
from api.charge_months import Actor, Issue, LifecycleError, Policy
from api.deps import AppContext, Ctx, CurrentPrincipal, SiteDep, require
from api.reports import PeriodError, parse_month
from charging import MEDIA_TYPES, charge_points, render
from charging.bookings import Booking
from charging.charges import MonthCharges
from charging.monthrun import FutureMonthError, charge_month, month_window
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


@dataclass(frozen=True)
class Computed:
    charges: MonthCharges
    bookings: list[Booking]


def _valid_month(month: str) -> None:
    try:
        parse_month(month)
    except PeriodError as exc:
        raise HTTPException(422, f"month: {exc}") from None


def _compute(ctx: AppContext, site: Site, month: str) -> Computed:
    """The month's charges from the store now: 422 for a future month; a month
    in progress comes back provisional and pro rata."""
    _valid_month(month)
    tariff = _tariff(ctx, site.id)
    try:
        start, end = month_window(site=site, month=month, tariff=tariff)
        with ctx.sessions() as session:
            bookings = bookings_m.list_bookings(session, site=site, start=start, end=end)
        mc = charge_month(
            store=ctx.store,
            site=site,
            month=month,
            tariff=tariff,
            bookings=bookings,
            silence_factor=ctx.settings.silence_factor,
            merge_gap_s=ctx.settings.merge_gap_s,
            raw_retention_days=ctx.settings.store.raw_retention_days,
            now=datetime.now(UTC),
        )
    except FutureMonthError as exc:
        raise HTTPException(422, str(exc)) from None
    except TariffError as exc:
        raise HTTPException(409, str(exc)) from None
    except RawRetentionError as exc:
        raise HTTPException(422, str(exc)) from None
    return Computed(mc, list(bookings))


def _agency_scope(principal: Any, agency: str | None) -> str | None:
    if principal.agency is not None:
        if agency is not None and agency != principal.agency:
            raise HTTPException(403, "an agency key sees only its own statement")
        return principal.agency
    return agency


@dataclass(frozen=True)
class Rendering:
    """How a statement is asked for: its language, CSV dialect and the
    address its audit links point at."""

    lang: str = "fi"
    csv_dialect: str = "locale"
    api_url: str | None = None


def _document(
    site: Site,
    month: str,
    mc: MonthCharges,
    fmt: Format,
    scope: str | None,
    header: Any,
    out: Rendering,
    headers: dict[str, str] | None = None,
) -> Response:
    body = render(
        mc,
        fmt,
        agency=scope,
        header=header,
        lang=out.lang,
        site=site,
        csv_dialect=out.csv_dialect,
        api_url=out.api_url,
    )
    headers = dict(headers or {})
    if fmt != "json":
        name = f"charges-{site.id}-{month}" + (f"-{scope}" if scope else "") + f"-{out.lang}"
        headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return Response(body, media_type=MEDIA_TYPES[fmt], headers=headers)


class TransitionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000, description="Why; recorded.")
    coverage_override: str | None = Field(
        None,
        max_length=2000,
        description="Approve although a line's coverage is below approval_min_coverage: "
        "the reason, recorded.",
    )


def _actor(principal: Any) -> Actor:
    return Actor(name=principal.name, role=principal.role)


def _issue(ctx: AppContext, site: Site, principal: Any, body: TransitionBody, c: Computed) -> Issue:
    s = ctx.settings
    policy = Policy(
        min_coverage=Fraction(str(s.approval_min_coverage)),
        payment_term_days=s.payment_term_days,
        reference_kind=s.payment_reference,
    )
    return Issue(
        actor=_actor(principal),
        policy=policy,
        today=datetime.now(site.tz).date(),
        reason=body.reason,
        bookings=c.bookings,
        coverage_override=body.coverage_override,
    )


def _lifecycle(call: Any) -> Any:
    try:
        return call()
    except LifecycleError as exc:
        raise HTTPException(exc.status, str(exc)) from None


@router.get("/runs", summary="Every recorded charge run of the site (agency: its own amounts)")
def list_runs(site: SiteDep, ctx: Ctx, principal: CurrentPrincipal) -> dict[str, Any]:
    require(principal, "finance", "agency")
    with ctx.sessions() as session:
        return {"site": site.id, "runs": history_m.runs(session, site.id, principal.agency)}


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
    out = Rendering(lang=lang, csv_dialect=csv_dialect, api_url=str(request.base_url))
    with ctx.sessions() as session:
        try:
            issued = history_m.issued_view(session, site.id, month, scope)
        except LookupError as exc:
            raise HTTPException(404, str(exc)) from None
        row = history_m.month_record(session, site.id, month)
    if issued is not None:
        state, frozen, header = issued
        extra = {"Occupancy-Month-State": state, **_pending_headers(ctx, site, month, scope)}
        return _document(site, month, frozen, format, scope, header, out, extra)
    mc = _compute(ctx, site, month).charges
    header = history_m.draft_header(mc, scope, row) if scope is not None else None
    return _document(site, month, mc, format, scope, header, out)


def _pending_headers(ctx: AppContext, site: Site, month: str, scope: str | None) -> dict[str, str]:
    """The pending difference of an issued month, as a response header: the
    body stays the statement as issued, byte for byte."""
    try:
        fresh = _compute(ctx, site, month).charges
    except HTTPException:
        return {}  # nothing to compare with (e.g. raw data gone): the issue stands
    with ctx.sessions() as session:
        pending = history_m.pending_difference(session, site.id, month, fresh, scope)
    if not pending["inputs_changed"]:
        return {}
    return {"Occupancy-Pending-Difference": pending["difference_eur"]}


@router.get("/{month}/history", summary="A month's life cycle: transitions, statements, pending")
def month_history(
    site: SiteDep, ctx: Ctx, principal: CurrentPrincipal, month: str
) -> dict[str, Any]:
    require(principal, "finance", "agency")
    _valid_month(month)
    with ctx.sessions() as session:
        frozen = history_m.is_frozen(history_m.month_record(session, site.id, month))
    # the pending difference is the fresh figures against the frozen ones
    fresh, problem = None, None
    if frozen:
        try:
            fresh = _compute(ctx, site, month).charges
        except HTTPException as exc:
            problem = str(exc.detail)  # the history stands; the comparison cannot be made
    with ctx.sessions() as session:
        out = history_m.history(session, site.id, month, principal.agency, fresh)
    if problem is not None:
        out["pending_difference"] = {"error": problem}
    return out


@router.get("/{month}/statements/{number}", summary="One issued statement, as issued")
def get_statement(
    site: SiteDep,
    ctx: Ctx,
    principal: CurrentPrincipal,
    month: str,
    number: str,
    request: Request,
    format: Format = "json",
    lang: Annotated[Lang, Query(description="Language of a PDF, XLSX or CSV statement")] = "fi",
    csv_dialect: Annotated[
        CsvDialect,
        Query(description="locale (fi, sv: semicolon, decimal comma, BOM) or rfc4180"),
    ] = "locale",
) -> Response:
    require(principal, "finance", "agency")
    with ctx.sessions() as session:
        stmt = history_m.statement(session, number)
        if stmt is None or stmt.site != site.id or stmt.month != month:
            raise HTTPException(404, f"no statement {number!r} for {site.id} {month}")
        if not principal.may_see_agency(stmt.agency):
            raise HTTPException(403, "an agency key sees only its own statements")
        frozen = history_m.frozen_charges(session, stmt.run_id)
    out = Rendering(lang=lang, csv_dialect=csv_dialect, api_url=str(request.base_url))
    return _document(site, month, frozen, format, stmt.agency, history_m.header_for(stmt), out)


@router.post("/{month}/run", summary="Record a draft run and write the charges measurement")
def run_charges(site: SiteDep, ctx: Ctx, principal: CurrentPrincipal, month: str) -> dict[str, Any]:
    require(principal, "finance")
    c = _compute(ctx, site, month)
    run = _lifecycle(
        lambda: months_m.record_draft(
            ctx.sessions, mc=c.charges, bookings=c.bookings, actor=_actor(principal)
        )
    )
    points = charge_points(c.charges)
    ctx.store.write(points)
    return {
        "run": run.id,
        "site": site.id,
        "month": month,
        "state": "draft",
        "provisional": c.charges.provisional,
        "revision": run.revision,
        "inputs_hash": c.charges.inputs_hash,
        "points": len(points),
    }


def _issue_statements(
    ctx: AppContext,
    site: Site,
    principal: Any,
    month: str,
    body: TransitionBody,
    transition: Callable[..., list[Any]],
    state: str,
) -> dict[str, Any]:
    """Approve or correct: compute the month, issue its statements through
    ``transition`` (``months_m.approve`` or ``months_m.correct``)."""
    c = _compute(ctx, site, month)
    issue = _issue(ctx, site, principal, body, c)
    issued = _lifecycle(
        lambda: transition(ctx.sessions, mc=c.charges, issue=issue, events=ctx.events)
    )
    return {
        "site": site.id,
        "month": month,
        "state": state,
        "statements": [months_m.statement_dict(s) for s in issued],
    }


@router.post("/{month}/approve", summary="Approve: freeze the month and issue its statements")
def approve(
    site: SiteDep, ctx: Ctx, principal: CurrentPrincipal, month: str, body: TransitionBody
) -> dict[str, Any]:
    require(principal, "finance")
    return _issue_statements(ctx, site, principal, month, body, months_m.approve, "approved")


@router.post("/{month}/lock", summary="Lock an approved month: nothing but corrections after")
def lock(
    site: SiteDep, ctx: Ctx, principal: CurrentPrincipal, month: str, body: TransitionBody
) -> dict[str, Any]:
    require(principal, "finance")
    _valid_month(month)
    _lifecycle(
        lambda: months_m.lock(
            ctx.sessions, site=site.id, month=month, actor=_actor(principal), reason=body.reason
        )
    )
    return {"site": site.id, "month": month, "state": "locked"}


@router.post("/{month}/correct", summary="Issue the pending difference: credit notes and debits")
def correct(
    site: SiteDep, ctx: Ctx, principal: CurrentPrincipal, month: str, body: TransitionBody
) -> dict[str, Any]:
    require(principal, "finance")
    return _issue_statements(ctx, site, principal, month, body, months_m.correct, "corrected")
