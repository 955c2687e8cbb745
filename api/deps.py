"""Dependencies shared by the route modules (``Annotated`` style)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import sessionmaker

from api.auth import KeyCache, Principal, verify_key
from api.config import ApiSettings
from api.live import LiveHub
from core.registry import Registry, Site
from storage import Store


@dataclass
class AppContext:
    settings: ApiSettings
    registry: Registry
    store: Store
    sessions: sessionmaker
    hub: LiveHub
    # set when the server is asked to stop, so open event streams end at once
    # instead of holding the shutdown up
    closing: threading.Event = field(default_factory=threading.Event)
    keys: KeyCache = field(default_factory=lambda: KeyCache(0))
    feed: Any = None


# The light dependencies are async so they run on the event loop, not through
# the thread pool (which costs more than they do).
async def get_ctx(request: Request) -> AppContext:
    return request.app.state.ctx


Ctx = Annotated[AppContext, Depends(get_ctx)]


async def get_principal(
    request: Request,
    ctx: Ctx,
    access_token: Annotated[
        str | None,
        Query(description="The API key, for clients that cannot send headers (EventSource)."),
    ] = None,
) -> Principal:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else access_token
    if not token:
        raise HTTPException(
            401,
            "an API key is required (Authorization: Bearer <key>)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = ctx.keys.get(token)
    if principal is None:
        principal = await run_in_threadpool(_verify, ctx, token)
    if principal is None:
        raise HTTPException(401, "the API key is not valid", headers={"WWW-Authenticate": "Bearer"})
    return principal


def _verify(ctx: AppContext, token: str) -> Principal | None:
    with ctx.sessions() as session:
        principal = verify_key(session, token)
    if principal is not None:
        ctx.keys.put(token, principal)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


async def get_site(site_id: str, ctx: Ctx) -> Site:
    site = ctx.registry.get(site_id)
    if site is None:
        raise HTTPException(404, f"unknown site {site_id!r}")
    return site


SiteDep = Annotated[Site, Depends(get_site)]


def require(principal: Principal, *roles: str) -> None:
    if not principal.has(*roles):
        raise HTTPException(403, f"role {principal.role!r} may not use this resource")
