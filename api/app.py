"""The FastAPI application: wiring only. Logic lives in plain modules
(``api.live``, ``metrics``, ``charging``) and routes stay thin."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from alerts import records as alert_records  # noqa: F401  (its tables join the records DB)
from alerts import runtime as alerts_runtime
from api import docs_pages, problems
from api.auth import KeyCache, redact_access_log
from api.background import start_services
from api.booking_marks import mark_booking_days
from api.config import ApiSettings
from api.deps import AppContext
from api.limits import ConcurrencyLimiter, FailureLimiter
from api.live import LiveHub
from api.records import make_engine, make_sessionmaker
from api.routes import (
    agency_report,
    alerts,
    bookings,
    charges,
    energy,
    feeds,
    health,
    health_history,
    live,
    portfolio,
    reports,
    sites,
)
from api.routes import service as service_routes  # service points (issue 19, item 3)
from api.routes import webhooks as webhooks_routes
from core.registry import Registry
from core.timeutil import utcnow
from storage import AGENT_STATUS, PRESENCE, Store, StoreUnavailable
from webhooks import tables as _webhook_tables  # noqa: F401  (its tables join the records DB)
from webhooks.service import Webhooks

log = logging.getLogger(__name__)

UI_DIR = Path(__file__).parent / "ui"


def seed_live(hub: LiveHub, store: Store) -> None:
    for site_id, board in hub.boards.items():
        try:
            presence = store.last(PRESENCE, by="space", where={"site": site_id})
            status = store.last(AGENT_STATUS, by="agent", where={"site": site_id})
        except StoreUnavailable as exc:
            log.warning(
                "live state not seeded from the store (%s); it fills as messages arrive", exc
            )
            continue
        board.seed(presence=presence, status=status)


def create_app(
    settings: ApiSettings,
    *,
    registry: Registry,
    store: Store,
    start_feed: bool = True,
    clock: Callable[[], datetime] = utcnow,
) -> FastAPI:
    """Build the app from validated settings and opened resources (``clock``:
    the time the live webhook events are judged at; tests pass their own)."""
    alert_rules = alerts_runtime.file_rules(settings.alerts, registry)
    engine = make_engine(settings.records_url)
    hub = LiveHub(registry, silence_factor=settings.silence_factor)
    ctx = AppContext(
        settings=settings,
        registry=registry,
        store=store,
        sessions=make_sessionmaker(engine),
        hub=hub,
        keys=KeyCache(settings.key_cache_s),
        reports=ConcurrencyLimiter(
            per_key=settings.reports_per_key, per_server=settings.reports_per_server
        ),
        auth_failures=FailureLimiter(per_window=settings.auth_failures_per_min, window_s=60),
    )
    # a booking change makes its days' summaries dirty (agency presence)
    mark_booking_days(ctx.sessions, store, {s.id: s.tz for s in registry})
    hooks = None
    if settings.webhooks.enabled:
        hooks = Webhooks(
            settings.webhooks,
            sessions=ctx.sessions,
            registry=registry,
            hub=hub,
            min_group=settings.min_group_spaces,
            outbound=settings.outbound_policy(),
            clock=clock,
        )
        ctx.events = hooks.sink
    redact_access_log()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        seed_live(hub, store)
        # every background thread of the app, started and stopped together
        services = start_services(ctx, hooks=hooks, alert_rules=alert_rules, start_feed=start_feed)
        app.state.background = services
        try:
            yield
        finally:
            ctx.closing.set()
            services.stop()
            engine.dispose()

    app = FastAPI(
        title="Occupancy platform API",
        version="1.0",
        description=(
            "Live occupancy, utilisation, space efficiency and usage-based charges for "
            "shared premises. Every figure follows the published definitions in docs/metrics.md."
        ),
        lifespan=lifespan,
        # --- offline API docs (issue 14, item 7): api/docs_pages.py serves them
        docs_url=None,
        redoc_url=None,
    )
    docs_pages.install(app)
    # --- end offline API docs
    app.state.ctx = ctx
    problems.install(app)
    app.include_router(health.router)
    app.include_router(sites.router)
    app.include_router(live.router)
    app.include_router(reports.router)
    app.include_router(health_history.router)  # analytics pages (issue 17, item 5)
    app.include_router(portfolio.router)
    app.include_router(agency_report.router)  # issue 15, item 5
    app.include_router(energy.router)  # issue 19, item 4
    app.include_router(bookings.router)
    app.include_router(feeds.router)
    app.include_router(charges.router)
    app.include_router(webhooks_routes.router)
    app.include_router(alerts.router)
    app.include_router(service_routes.router)
    if UI_DIR.is_dir():
        app.mount("/ui", StaticFiles(directory=UI_DIR, html=True), name="ui")

        @app.get("/", include_in_schema=False)
        def _root() -> RedirectResponse:
            return RedirectResponse("/ui/")

    return app
