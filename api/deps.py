"""Dependencies shared by the route modules (``Annotated`` style)."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import AfterValidator
from sqlalchemy.orm import sessionmaker

from api.auth import KeyCache, Principal, key_active, verify_key
from api.config import ApiSettings
from api.limits import ConcurrencyLimiter, FailureLimiter, LimitReached
from api.live import LiveHub
from api.reports import FIRST_DAY, LAST_DAY
from api.whatif_cache import IntervalCache
from core.registry import Registry, Site
from storage import Store
from webhooks.events import EventSink, NullSink


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
    reports: ConcurrencyLimiter = field(
        default_factory=lambda: ConcurrencyLimiter(per_key=2, per_server=4)
    )
    auth_failures: FailureLimiter = field(default_factory=lambda: FailureLimiter(per_window=20))
    # where emitters hand events (webhooks/events.py); the webhook outbox when
    # integrations are configured
    events: EventSink = field(default_factory=NullSink)
    # the alert engine (alerts.engine.AlertEngine), when alerts are enabled
    alerts: Any = None
    # the what-if's clipped intervals of summarised days (api/whatif_cache.py)
    whatif_intervals: IntervalCache = field(default_factory=IntervalCache)


# The light dependencies are async so they run on the event loop, not through
# the thread pool (which costs more than they do).
async def get_ctx(request: Request) -> AppContext:
    return request.app.state.ctx


Ctx = Annotated[AppContext, Depends(get_ctx)]


def _in_calendar(day: date) -> date:
    # near the ends of the calendar a local day's UTC bounds overflow (issue 20)
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"must lie between {FIRST_DAY} and {LAST_DAY}")
    return day


ApiDate = Annotated[date, AfterValidator(_in_calendar)]
"""A local date a route may turn into UTC bounds: 422 outside the supported years."""

UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}
REPORT_RETRY_AFTER_S = 5


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return (header[7:].strip() or None) if header.lower().startswith("bearer ") else None


async def authenticate(request: Request, ctx: AppContext, token: str | None) -> Principal:
    """The key's principal; 401 without a valid key, 429 for an address that
    has failed too often (every attempt from it, so guessing learns nothing)."""
    client = request.client.host if request.client else "-"
    wait = ctx.auth_failures.retry_after(client)
    if wait is not None:
        raise HTTPException(
            429,
            "too many failed authentications from this address; retry later",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    if not token:
        raise HTTPException(
            401, "an API key is required (Authorization: Bearer <key>)", headers=UNAUTHORIZED
        )
    principal = ctx.keys.get(token)
    if principal is None:
        principal = await run_in_threadpool(_verify, ctx, token)
    if principal is None:
        ctx.auth_failures.failed(client)
        raise HTTPException(401, "the API key is not valid", headers=UNAUTHORIZED)
    return principal


async def get_principal(request: Request, ctx: Ctx) -> Principal:
    # Only the header: a key in a URL ends up in logs, histories and Referer
    # headers, and would let a link trigger a POST with someone's key (issue 14).
    return await authenticate(request, ctx, _bearer(request))


async def get_stream_principal(
    request: Request,
    ctx: Ctx,
    access_token: Annotated[
        str | None,
        Query(
            description="The API key, for EventSource clients that cannot send headers "
            "(accepted on this route only; redacted from the access log)."
        ),
    ] = None,
) -> Principal:
    return await authenticate(request, ctx, _bearer(request) or access_token)


def _verify(ctx: AppContext, token: str) -> Principal | None:
    with ctx.sessions() as session:
        principal = verify_key(session, token)
    if principal is not None:
        ctx.keys.put(token, principal)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
StreamPrincipal = Annotated[Principal, Depends(get_stream_principal)]


async def report_slot(ctx: Ctx, principal: CurrentPrincipal) -> AsyncIterator[None]:
    """Holds one of the expensive-report slots (``api.limits``) while the route runs."""
    try:
        ctx.reports.acquire(principal.key_id)
    except LimitReached as exc:
        who = "this key" if exc.scope == "key" else "the server"
        raise HTTPException(
            429,
            f"too many reports running at once for {who}; retry shortly",
            headers={"Retry-After": str(REPORT_RETRY_AFTER_S)},
        ) from None
    try:
        yield
    finally:
        ctx.reports.release(principal.key_id)


ReportSlot = Annotated[None, Depends(report_slot)]


async def get_site(site_id: str, ctx: Ctx) -> Site:
    site = ctx.registry.get(site_id)
    if site is None:
        raise HTTPException(404, f"unknown site {site_id!r}")
    return site


SiteDep = Annotated[Site, Depends(get_site)]


def require(principal: Principal, *roles: str) -> None:
    if not principal.has(*roles):
        raise HTTPException(403, f"role {principal.role!r} may not use this resource")


class KeyWatch:
    """Re-checks an open stream's key, so that revoking (or the expiry of) a
    key ends its event streams within the key-cache time, as it ends its
    requests (issue 20). One lookup per ``every_s``, not per event."""

    def __init__(self, ctx: AppContext, principal: Principal, every_s: float | None = None):
        self.ctx = ctx
        self.principal = principal
        # half the cache time, so the stream ends within it; at least 0.5 s
        self.every_s = every_s if every_s is not None else max(0.5, ctx.settings.key_cache_s / 2)
        self._next = time.monotonic() + self.every_s

    async def still_valid(self) -> bool:
        now = time.monotonic()
        if now < self._next:
            return True
        self._next = now + self.every_s
        expires = self.principal.expires_at
        if expires is not None and expires <= datetime.now(UTC):
            return False
        return await run_in_threadpool(self._lookup)

    def _lookup(self) -> bool:
        with self.ctx.sessions() as session:
            return key_active(session, self.principal.key_id)
