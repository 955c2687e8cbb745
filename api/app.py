"""The FastAPI application: wiring only. Logic lives in plain modules
(``api.live``, ``metrics``, ``charging``) and routes stay thin."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from alerts import records as alert_records  # noqa: F401  (its tables join the records DB)
from alerts import runtime as alerts_runtime
from api import docs_pages, problems
from api.auth import KeyCache, redact_access_log
from api.booking_marks import mark_booking_days
from api.config import ApiSettings
from api.deps import AppContext
from api.limits import ConcurrencyLimiter, FailureLimiter
from api.live import LiveHub, apply_raw
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
from core.topics import Topics
from storage import AGENT_STATUS, PRESENCE, Store, StoreUnavailable
from webhooks import tables as _webhook_tables  # noqa: F401  (its tables join the records DB)
from webhooks.events import EventSink
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


class _Rollups(threading.Thread):
    """Rolls up today (and, at start, yesterday) of every site on a schedule,
    so Grafana's utilisation panels stay current without anyone asking."""

    def __init__(self, ctx: AppContext, interval_s: float):
        super().__init__(name="api-rollups", daemon=True)
        self.ctx = ctx
        self.interval_s = interval_s
        self.stopped = threading.Event()

    def run_once(self, *, days_back: int) -> None:
        from datetime import timedelta

        from api.reports import resolve_period, rollup
        from core.timeutil import utcnow

        for site in self.ctx.registry:
            today = utcnow().astimezone(site.tz).date()
            period = resolve_period(
                site,
                from_=today - timedelta(days=days_back),
                to=today + timedelta(days=1),
                month=None,
            )
            try:
                rollup(
                    self.ctx.store,
                    site,
                    period,
                    silence_factor=self.ctx.settings.silence_factor,
                    merge_gap_s=self.ctx.settings.merge_gap_s,
                )
            except Exception:  # a failed run is retried at the next interval
                log.exception("scheduled rollup of %s failed", site.id)

    def run(self) -> None:
        self.run_once(days_back=1)
        while not self.stopped.wait(self.interval_s):
            self.run_once(days_back=0)


class _Sweeper(threading.Thread):
    """Marks silent sensors unknown once a second."""

    def __init__(self, hub: LiveHub):
        super().__init__(name="api-live-sweeper", daemon=True)
        self.hub = hub
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(1.0):
            self.hub.sweep()


def _summariser(
    settings: ApiSettings, registry: Registry, store: Store, events: EventSink, sessions: Any
) -> Any:
    """The summariser thread, unless disabled (``summaries_interval_s`` 0);
    it reads the bookings (agency presence) from the API's records."""
    if not settings.summaries_interval_s:
        return None
    from api.booking_marks import SessionBookings
    from summaries.service import SummariserThread, default_metrics
    from summaries.summariser import SummaryParams

    thread = SummariserThread(
        store,
        list(registry),
        SummaryParams(silence_factor=settings.silence_factor, merge_gap_s=settings.merge_gap_s),
        interval_s=settings.summaries_interval_s,
        metrics=default_metrics(),
        raw_retention_days=settings.store.raw_retention_days,
        events=events,
        bookings=SessionBookings(sessions),
    )
    thread.start()
    return thread


def _feed_poller(ctx: AppContext) -> Any:
    """The booking-feed poller thread, unless disabled (``feeds_poll_interval_s`` 0)."""
    if not ctx.settings.feeds_poll_interval_s:
        return None
    from api.feeds import FeedPoller, PollSettings

    poller = FeedPoller(ctx.sessions, ctx.registry, PollSettings.of(ctx.settings))
    poller.start()
    return poller


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
        if hooks is not None:
            hooks.start()
        feed = None
        if start_feed and settings.broker_url:
            from api.mqtt import LiveFeed

            topics = Topics(settings.topic_prefix)
            feed = LiveFeed(
                url=settings.broker_url,
                topics=topics.subscriptions()[:2],
                handler=lambda raw: apply_raw(hub, topics, raw),
                protocol=settings.mqtt_protocol,
                username=settings.mqtt_username,
                password=(
                    settings.mqtt_password.get_secret_value() if settings.mqtt_password else None
                ),
                ca_file=str(settings.mqtt_ca_file) if settings.mqtt_ca_file else None,
            )
            feed.start()
        ctx.feed = feed
        sweeper = _Sweeper(hub)
        sweeper.start()
        rollups = _Rollups(ctx, settings.rollup_interval_s) if settings.rollup_interval_s else None
        if rollups is not None:
            rollups.start()
        summariser = _summariser(settings, registry, store, ctx.events, ctx.sessions)
        alert_thread = alerts_runtime.start(ctx, alert_rules, summariser=summariser)
        poller = _feed_poller(ctx)
        try:
            yield
        finally:
            ctx.closing.set()
            if alert_thread is not None:
                alert_thread.stop()
            sweeper.stopped.set()
            if rollups is not None:
                rollups.stopped.set()
            if summariser is not None:
                summariser.stop()
            if poller is not None:
                poller.stop()
            if feed is not None:
                feed.stop()
            if hooks is not None:
                hooks.stop()  # last: what the others published reaches the outbox
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
