"""Bookings: list, create, change, cancel, history, import from CSV or iCalendar."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.exc import IntegrityError

from api import booking_changes as changes_m
from api import booking_import as import_m
from api import bookings as bookings_m
from api.auth import Principal
from api.booking_changes import Actor
from api.deps import ApiDate, Ctx, CurrentPrincipal, SiteDep, require
from charging.bookings import Booking, BookingError, csv_rows, ics_events
from core.calendar import local_day_bounds

router = APIRouter(prefix="/v1/sites/{site_id}/bookings", tags=["bookings"])


class BookingIn(BaseModel):
    space: str
    agency: str
    start: AwareDatetime
    end: AwareDatetime
    title: str = Field("", max_length=500)
    id: str | None = Field(None, max_length=200)


class BookingPatch(BaseModel):
    """The fields to change; those left out keep their values."""

    model_config = ConfigDict(extra="forbid")

    space: str | None = Field(None, min_length=1, max_length=64)
    agency: str | None = Field(None, min_length=1, max_length=64)
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    title: str | None = Field(None, max_length=500)


def _actor(principal: Principal) -> Actor:
    return Actor(name=principal.name, role=principal.role)


@router.get("", summary="Bookings overlapping a period (an agency sees its own)")
def list_(
    site: SiteDep,
    ctx: Ctx,
    principal: CurrentPrincipal,
    from_: Annotated[ApiDate | None, Query(alias="from")] = None,  # issue 20: 422, not 500
    to: ApiDate | None = None,
    cancelled: Annotated[bool, Query(description="also the cancelled bookings")] = False,
) -> list[dict[str, Any]]:
    require(principal, "facility", "finance", "agency")
    start = local_day_bounds(site, from_)[0] if from_ else None
    end = local_day_bounds(site, to)[0] if to else None
    with ctx.sessions() as session:
        rows = bookings_m.booking_rows(
            session, site=site, start=start, end=end, agency=principal.agency, cancelled=cancelled
        )
        return [bookings_m.booking_json(r) for r in rows]


@router.post("", status_code=201, summary="Create one booking")
def create(site: SiteDep, ctx: Ctx, principal: CurrentPrincipal, body: BookingIn) -> dict[str, Any]:
    require(principal, "facility", "finance", "agency")
    if not principal.may_see_agency(body.agency):
        raise HTTPException(403, "an agency key books only for its own agency")
    booking = Booking(
        id=bookings_m.scoped_id(body.agency, body.id),
        site=site.id,
        space=body.space,
        agency=body.agency,
        start=body.start,
        end=body.end,
        title=body.title,
        source="api",
    )
    try:
        with ctx.sessions() as session:
            stored = changes_m.create_bookings(
                session, site=site, new=[booking], actor=_actor(principal), agency=principal.agency
            )
    except BookingError as exc:
        raise HTTPException(422, "; ".join(exc.problems)) from None
    return {"stored": len(stored), "ids": [b.id for b in stored]}


@router.get("/{booking_id:path}/history", summary="Every change of a booking (agency: its own)")
def history(
    site: SiteDep, ctx: Ctx, principal: CurrentPrincipal, booking_id: str
) -> list[dict[str, Any]]:
    require(principal, "facility", "finance", "agency")
    with _changing(), ctx.sessions() as session:
        return changes_m.history(session, site=site, booking_id=booking_id, agency=principal.agency)


@router.patch("/{booking_id:path}", summary="Change a booking (agency: its own)")
def update(
    site: SiteDep, ctx: Ctx, principal: CurrentPrincipal, booking_id: str, body: BookingPatch
) -> dict[str, Any]:
    require(principal, "facility", "finance", "agency")
    patch = body.model_dump(exclude_unset=True)
    if not patch:
        raise HTTPException(422, "give at least one of space, agency, start, end, title")
    with _changing(), ctx.sessions() as session:
        row = changes_m.update_booking(
            session,
            site=site,
            booking_id=booking_id,
            patch=patch,
            actor=_actor(principal),
            agency=principal.agency,
        )
        return bookings_m.booking_json(row)


@router.delete(
    "/{booking_id:path}",
    summary="Cancel a booking: kept in the history, no longer charged (agency: its own)",
)
def cancel(
    site: SiteDep,
    ctx: Ctx,
    principal: CurrentPrincipal,
    booking_id: str,
    reason: Annotated[str, Query(max_length=500, description="why, for the history")] = "",
) -> dict[str, Any]:
    require(principal, "facility", "finance", "agency")
    with _changing(), ctx.sessions() as session:
        row = changes_m.cancel_booking(
            session,
            site=site,
            booking_id=booking_id,
            actor=_actor(principal),
            agency=principal.agency,
            reason=reason,
        )
        return bookings_m.booking_json(row)


@contextmanager
def _changing() -> Iterator[None]:
    """The change errors as HTTP answers."""
    try:
        yield
    except changes_m.BookingNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except changes_m.BookingCancelled as exc:
        raise HTTPException(409, str(exc)) from None
    except PermissionError as exc:
        raise HTTPException(403, str(exc)) from None
    except BookingError as exc:
        raise HTTPException(422, "; ".join(exc.problems)) from None
    except ValidationError as exc:
        raise HTTPException(422, _first_error(exc)) from None


def _first_error(exc: ValidationError) -> str:
    e = exc.errors()[0]
    return f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"


@router.post(
    "/import",
    summary="Import bookings: a CSV (text/csv) or an iCalendar feed (text/calendar)",
)
async def import_(
    site: SiteDep,
    ctx: Ctx,
    principal: CurrentPrincipal,
    request: Request,
    from_: Annotated[
        ApiDate | None, Query(alias="from", description="iCalendar: first day")
    ] = None,
    to: Annotated[ApiDate | None, Query(description="iCalendar: day after the last")] = None,
) -> dict[str, Any]:
    require(principal, "facility", "finance")
    body = await request.body()
    ctype = request.headers.get("content-type", "").split(";")[0].strip()
    try:
        if ctype == "text/csv":
            name = "upload.csv"
            new, rejected = csv_rows(body.decode("utf-8-sig"), site=site, name=name)
        elif ctype == "text/calendar":
            if from_ is None or to is None:
                raise HTTPException(422, "from: an iCalendar import needs from and to")
            name = "upload.ics"
            new, rejected = ics_events(
                body,
                site=site,
                start=local_day_bounds(site, from_)[0],
                end=local_day_bounds(site, to)[0],
                name=name,
            )
        else:
            raise HTTPException(415, f"send text/csv or text/calendar, not {ctype or 'nothing'}")
    except BookingError as exc:
        raise HTTPException(422, "; ".join(exc.problems)) from None
    except UnicodeDecodeError:
        raise HTTPException(422, "the CSV is not UTF-8") from None
    return await run_in_threadpool(_import, ctx, site, new, rejected, principal, name)


def _import(
    ctx: Any, site: Any, new: list[Booking], rejected: list[Any], principal: Principal, name: str
) -> dict[str, Any]:
    try:
        with ctx.sessions() as session:
            summary = import_m.import_bookings(
                session,
                site=site,
                candidates=new,
                rejected=rejected,
                actor=_actor(principal),
                via=f"import:{name}",
            )
    except IntegrityError:
        # another import stored some of the same ids meanwhile; this one
        # stored nothing, and a retry reconciles with what is there now
        raise HTTPException(
            409, "another import stored the same bookings meanwhile; retry"
        ) from None
    if summary.rejected and not summary.accepted:
        # nothing usable: an error, whose detail lists every row (capped, with
        # the whole text behind the problem's report link)
        reasons = "; ".join(r.reason for r in summary.rejected)
        raise HTTPException(422, f"nothing imported, {len(summary.rejected)} rejected: {reasons}")
    return summary.as_json()
