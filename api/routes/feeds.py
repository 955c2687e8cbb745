"""Booking feeds: iCalendar feeds subscribed by URL and polled (facility, finance)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field

from api import feeds as feeds_m
from api.booking_changes import Actor
from api.deps import Ctx, CurrentPrincipal, SiteDep, require

router = APIRouter(prefix="/v1/sites/{site_id}/booking-feeds", tags=["bookings"])

FeedId = Annotated[int, Path(ge=1, le=2**31 - 1, description="the feed's id")]

# a feed holds every agency's bookings of the site: no agency keys
ROLES = ("facility", "finance")


class FeedIn(BaseModel):
    url: str = Field(max_length=2000, description="http:// or https:// address of the feed")
    name: str = Field("", max_length=200)
    interval_s: float | None = Field(
        None, ge=30, description="seconds between polls; default: feeds_poll_interval_s"
    )


@router.get("", summary="The site's subscribed booking feeds, with their last poll and error")
def list_(site: SiteDep, ctx: Ctx, principal: CurrentPrincipal) -> list[dict[str, Any]]:
    require(principal, *ROLES)
    with ctx.sessions() as session:
        return [feeds_m.feed_json(f) for f in feeds_m.list_feeds(session, site=site)]


@router.post("", status_code=201, summary="Subscribe an iCalendar feed (polled from now on)")
def create(site: SiteDep, ctx: Ctx, principal: CurrentPrincipal, body: FeedIn) -> dict[str, Any]:
    require(principal, *ROLES)
    try:
        with ctx.sessions() as session:
            row = feeds_m.add_feed(
                session,
                site=site,
                url=body.url,
                name=body.name,
                interval_s=body.interval_s,
                actor=Actor(principal.name, principal.role),
                outbound=ctx.settings.outbound_policy(),
            )
            return feeds_m.feed_json(row)
    except feeds_m.FeedError as exc:
        raise HTTPException(422, str(exc)) from None


@router.delete("/{feed_id}", status_code=204, summary="Unsubscribe (its bookings stay)")
def delete(site: SiteDep, ctx: Ctx, principal: CurrentPrincipal, feed_id: FeedId) -> None:
    require(principal, *ROLES)
    try:
        with ctx.sessions() as session:
            feeds_m.delete_feed(session, site=site, feed_id=feed_id)
    except feeds_m.FeedError as exc:
        raise HTTPException(404, str(exc)) from None


@router.post("/{feed_id}/poll", summary="Poll a feed now; answers its record after the poll")
def poll(site: SiteDep, ctx: Ctx, principal: CurrentPrincipal, feed_id: FeedId) -> dict[str, Any]:
    require(principal, *ROLES)
    cfg = feeds_m.PollSettings.of(ctx.settings)
    try:
        with ctx.sessions() as session, cfg.client() as client:
            row = feeds_m.get_feed(session, site=site, feed_id=feed_id)
            feeds_m.poll_feed(session, row, site=site, client=client, cfg=cfg)
            return feeds_m.feed_json(row)
    except feeds_m.FeedError as exc:
        raise HTTPException(404, str(exc)) from None
