"""Live occupancy: current state per space, counts per zone and floor, and a
Server-Sent Events stream of changes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from api import health as health_m
from api.access import agency_spaces, visible_group
from api.auth import Principal
from api.deps import Ctx, CurrentPrincipal, SiteDep, require
from api.live import LiveBoard, SpaceLive
from core.registry import Site
from core.timeutil import utcnow

router = APIRouter(prefix="/v1/sites/{site_id}", tags=["live"])

KEEPALIVE_S = 15.0
POLL_S = 0.5  # how soon a stream notices a client gone or a server stopping


def _visible_spaces(site: Site, principal: Principal) -> set[str] | None:
    """None: everything. An agency sees the spaces of the zones dedicated to it."""
    return None if principal.agency is None else agency_spaces(site, principal.agency)


def live_snapshot(board: LiveBoard, principal: Principal, min_group: int) -> dict[str, Any]:
    visible = _visible_spaces(board.site, principal)
    spaces = [s for s in board.spaces() if visible is None or s.space in visible]

    def groups(key: Literal["zone", "floor"]) -> dict[str, dict[str, int]]:
        return {
            k: v
            for k, v in board.counts(key).items()
            if visible_group(
                site=board.site,
                principal=principal,
                by=key,
                group=k,
                size=v["total"],
                min_group=min_group,
            )
        }

    totals = {"occupied": 0, "free": 0, "unknown": 0, "total": 0}
    for s in board.spaces():
        totals[s.state] += 1
        totals["total"] += 1
    if not visible_group(
        site=board.site,
        principal=principal,
        by="site",
        group=board.site.id,
        size=totals["total"],
        min_group=min_group,
    ):
        totals = {}
    agents = board.agents()
    return {
        "site": board.site.id,
        "at": utcnow().isoformat().replace("+00:00", "Z"),
        "totals": totals,
        "floors": groups("floor"),
        "zones": groups("zone"),
        "spaces": [s.as_json() for s in spaces],
        "agents": (
            [{"agent": a, "online": on} for a, on in sorted(agents.items())]
            if visible is None
            else []
        ),
    }


@router.get("/live", summary="Current state of every space, with counts per zone and floor")
def live(site: SiteDep, ctx: Ctx, principal: CurrentPrincipal) -> dict[str, Any]:
    require(principal, "facility", "agency")
    return live_snapshot(ctx.hub.board(site.id), principal, ctx.settings.min_group_spaces)


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


@router.get(
    "/live/stream",
    summary="Server-Sent Events: a snapshot, then every change of a space's state",
    response_class=StreamingResponse,
)
async def live_stream(
    site: SiteDep, ctx: Ctx, principal: CurrentPrincipal, request: Request
) -> StreamingResponse:
    require(principal, "facility", "agency")
    visible = _visible_spaces(site, principal)
    loop = asyncio.get_running_loop()
    queue, push = ctx.hub.subscribe(site.id, loop)
    board = ctx.hub.board(site.id)
    min_group = ctx.settings.min_group_spaces

    async def events() -> AsyncIterator[str]:
        try:
            yield "retry: 2000\n\n"
            yield _sse("snapshot", live_snapshot(board, principal, min_group))
            idle = 0.0
            while not ctx.closing.is_set():
                try:
                    item: SpaceLive = await asyncio.wait_for(queue.get(), POLL_S)
                except TimeoutError:
                    idle += POLL_S
                    if await request.is_disconnected():
                        return
                    if idle >= KEEPALIVE_S:
                        idle = 0.0
                        yield ": keepalive\n\n"
                    continue
                if visible is None or item.space in visible:
                    yield _sse("space", item.as_json())
        finally:
            ctx.hub.unsubscribe(site.id, push)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


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
