"""Live occupancy: current state per space, counts per zone and floor, and a
Server-Sent Events stream of changes."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from api import health as health_m
from api import reports
from api.access import agency_spaces, visible_group, visible_spaces
from api.auth import Principal
from api.deps import Ctx, CurrentPrincipal, KeyWatch, SiteDep, StreamPrincipal, require
from api.live import EVERYTHING, LiveBoard, LiveScope, SpaceLive
from api.replay import replay_day
from core.registry import Site
from core.timeutil import utcnow

router = APIRouter(prefix="/v1/sites/{site_id}", tags=["live"])

KEEPALIVE_S = 15.0
POLL_S = 0.5  # how soon a stream notices a client gone or a server stopping


def live_scope(site: Site, principal: Principal, min_group: int) -> LiveScope:
    """What a key may see of the snapshot. Only the agency matters: every other
    role sees everything, so they share one cached snapshot."""
    agency = principal.agency
    if agency is None:
        return EVERYTHING

    def group_visible(by: str, group: str, size: int) -> bool:
        return visible_group(
            site=site, principal=principal, by=by, group=group, size=size, min_group=min_group
        )

    return LiveScope(
        name=f"agency:{agency}:{min_group}",
        spaces=frozenset(agency_spaces(site, agency)),
        group_visible=group_visible,
        agents=False,
        counted=visible_spaces(site, principal),
    )


def live_snapshot(board: LiveBoard, principal: Principal, min_group: int) -> str:
    """The snapshot as JSON text (see ``LiveBoard.snapshot_json``)."""
    return board.snapshot_json(live_scope(board.site, principal, min_group), at=utcnow())


@router.get(
    "/live",
    summary="Current state of every space, with counts per zone and floor",
    response_class=JSONResponse,
    response_model=None,
    responses={
        200: {
            "description": "site, at (UTC), totals, floors and zones (counts by state), "
            "spaces (state, since, count, last_seen, reason...), agents (online)",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
def live(site: SiteDep, ctx: Ctx, principal: CurrentPrincipal) -> Response:
    require(principal, "facility", "agency")
    # already JSON: the cached snapshot text goes out as it is
    body = live_snapshot(ctx.hub.board(site.id), principal, ctx.settings.min_group_spaces)
    return Response(body, media_type="application/json")


@functools.lru_cache(maxsize=4096)
def space_event(item: SpaceLive) -> str:
    """One change as an SSE event; every stream sends the same text, so it is
    made once per change, not once per client."""
    return f"event: space\ndata: {json.dumps(item.as_json(), separators=(',', ':'))}\n\n"


@router.get(
    "/live/stream",
    summary="Server-Sent Events: a snapshot, then every change of a space's state",
    response_class=StreamingResponse,
)
async def live_stream(
    site: SiteDep, ctx: Ctx, principal: StreamPrincipal, request: Request
) -> StreamingResponse:
    require(principal, "facility", "agency")
    visible = live_scope(site, principal, ctx.settings.min_group_spaces).spaces
    sub = ctx.hub.subscribe(site.id, asyncio.get_running_loop())
    board = ctx.hub.board(site.id)
    min_group = ctx.settings.min_group_spaces
    watch = KeyWatch(ctx, principal)  # issue 20: a revoked key ends its streams

    async def events() -> AsyncIterator[str]:
        try:
            yield "retry: 2000\n\n"
            yield f"event: snapshot\ndata: {live_snapshot(board, principal, min_group)}\n\n"
            idle = 0.0
            while not ctx.closing.is_set():
                if not await watch.still_valid():
                    yield "event: revoked\ndata: {}\n\n"
                    return
                try:
                    # asyncio.timeout, not wait_for: no task per event and client
                    async with asyncio.timeout(POLL_S):
                        item: SpaceLive = await sub.queue.get()
                except TimeoutError:
                    idle += POLL_S
                    if await request.is_disconnected():
                        return
                    if idle >= KEEPALIVE_S:
                        idle = 0.0
                        yield ": keepalive\n\n"
                    continue
                if visible is None or item.space in visible:
                    yield space_event(item)
        finally:
            ctx.hub.unsubscribe(sub)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get(
    "/replay",
    summary="A past local day, space by space: the state intervals the reports use",
    responses={422: {"description": "a date that is not a day of the past or today"}},
)
def replay(
    site: SiteDep,
    ctx: Ctx,
    principal: CurrentPrincipal,
    date_: Annotated[date, Query(alias="date", description="A local date, e.g. 2026-11-30")],
) -> dict[str, Any]:
    require(principal, "facility", "agency")
    # The live disclosure rule: an agency replays the spaces it sees live.
    spaces = live_scope(site, principal, ctx.settings.min_group_spaces).spaces
    try:
        return replay_day(
            ctx.store,
            site,
            date_,
            spaces=spaces,
            silence_factor=ctx.settings.silence_factor,
            merge_gap_s=ctx.settings.merge_gap_s,
        )
    except reports.PeriodError as exc:
        raise HTTPException(422, f"{exc.param}: {exc}") from None


@router.get(
    "/sensors/health", summary="Offline agents, silent sensors, low batteries, stuck sensors"
)
def sensor_health(site: SiteDep, ctx: Ctx, principal: CurrentPrincipal) -> dict[str, Any]:
    require(principal, "facility")
    board = ctx.hub.board(site.id)
    batteries = health_m.last_batteries(ctx.store, site)
    report = health_m.sensor_problems(
        board.spaces(),
        batteries=batteries,
        now=utcnow(),
        low_battery_pct=ctx.settings.low_battery_pct,
        stuck_after_s=ctx.settings.stuck_after_h * 3600,
    )
    agents = board.agents()
    return {
        "site": site.id,
        "agents": [{"agent": a, "online": on} for a, on in sorted(agents.items())],
        "offline_agents": sorted(a for a, on in agents.items() if not on),
        "sensors": report,
    }
