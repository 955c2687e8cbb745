"""Bookings: list, create, import from CSV or iCalendar."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import AwareDatetime, BaseModel, Field

from api import bookings as bookings_m
from api.deps import ApiDate, Ctx, CurrentPrincipal, SiteDep, require
from charging.bookings import Booking, BookingError, parse_bookings_csv, parse_bookings_ics
from core.calendar import local_day_bounds

router = APIRouter(prefix="/v1/sites/{site_id}/bookings", tags=["bookings"])


class BookingIn(BaseModel):
    space: str
    agency: str
    start: AwareDatetime
    end: AwareDatetime
    title: str = Field("", max_length=500)
    id: str | None = Field(None, max_length=200)


@router.get("", summary="Bookings overlapping a period (an agency sees its own)")
def list_(
    site: SiteDep,
    ctx: Ctx,
    principal: CurrentPrincipal,
    from_: Annotated[ApiDate | None, Query(alias="from")] = None,  # issue 20: 422, not 500
    to: ApiDate | None = None,
) -> list[dict[str, Any]]:
    require(principal, "facility", "finance", "agency")
    start = local_day_bounds(site, from_)[0] if from_ else None
    end = local_day_bounds(site, to)[0] if to else None
    with ctx.sessions() as session:
        found = bookings_m.list_bookings(
            session, site=site, start=start, end=end, agency=principal.agency
        )
    return [b.model_dump(mode="json") for b in found]


def _store(ctx: Any, site: Any, new: list[Booking], agency: str | None = None) -> dict[str, Any]:
    try:
        with ctx.sessions() as session:
            stored = bookings_m.add_bookings(session, site=site, new=new, agency=agency)
    except BookingError as exc:
        raise HTTPException(422, "; ".join(exc.problems)) from None
    return {"stored": len(stored), "ids": [b.id for b in stored]}


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
    return _store(ctx, site, [booking], principal.agency)


@router.post(
    "/import",
    status_code=201,
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
            new = parse_bookings_csv(body.decode("utf-8-sig"), site=site, name="upload.csv")
        elif ctype == "text/calendar":
            if from_ is None or to is None:
                raise HTTPException(422, "from: an iCalendar import needs from and to")
            new = parse_bookings_ics(
                body,
                site=site,
                start=local_day_bounds(site, from_)[0],
                end=local_day_bounds(site, to)[0],
                name="upload.ics",
            )
        else:
            raise HTTPException(415, f"send text/csv or text/calendar, not {ctype or 'nothing'}")
    except BookingError as exc:
        raise HTTPException(422, "; ".join(exc.problems)) from None
    except UnicodeDecodeError:
        raise HTTPException(422, "the CSV is not UTF-8") from None
    return _store(ctx, site, new)
