"""The API's background services (live feed, sweeper, rollups, summariser,
alerts, feed poller, webhooks) under one lifecycle: started in order in the
app's lifespan, stopped together in reverse order when it ends, each one
joined, so a test client's exit or a server's shutdown leaves no thread of
the app running (``tests/api/test_background.py``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from api.live import apply_raw
from core.topics import Topics

if TYPE_CHECKING:
    from alerts.rules import Rule
    from api.deps import AppContext
    from api.live import LiveHub
    from webhooks.service import Webhooks

log = logging.getLogger(__name__)


class Service(Protocol):
    """Something that runs in the background; ``stop`` returns once it has
    ended (its threads joined), or gives up after its own timeout."""

    def stop(self) -> None: ...


class Background:
    """The running services of one lifespan, in the order they started.

    Stopped in reverse order: a service may rely on those started before it
    (the alerts read the summariser; everything publishes to the webhooks'
    outbox, started first and so stopped last)."""

    def __init__(self) -> None:
        self._running: list[tuple[str, Service]] = []

    def add(self, name: str, service: Service | None) -> None:
        """Register a started ``service`` (None: disabled by its setting)."""
        if service is not None:
            self._running.append((name, service))

    def start(self, name: str, start: Callable[[], Service | None]) -> Service | None:
        """Call ``start`` (which starts and returns the service, or None when
        its setting disables it) and register what it returns. If it raises,
        the services already running are stopped before the error goes on."""
        try:
            service = start()
        except BaseException:
            self.stop()
            raise
        self.add(name, service)
        return service

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self._running]

    def stop(self) -> None:
        """Stop every service, newest first; one that fails to stop is logged
        and the others are still stopped."""
        while self._running:
            name, service = self._running.pop()
            try:
                service.stop()
            except Exception:
                log.exception("background service %s failed to stop", name)


_T = TypeVar("_T", bound=threading.Thread)


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
            if self.stopped.is_set():  # shutting down: the rest waits for the next start
                return
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

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=60)  # a site's rollup in progress is finished, not cut


class _Sweeper(threading.Thread):
    """Marks silent sensors unknown once a second."""

    def __init__(self, hub: LiveHub):
        super().__init__(name="api-live-sweeper", daemon=True)
        self.hub = hub
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(1.0):
            self.hub.sweep()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)


def _started(thread: _T) -> _T:
    thread.start()
    return thread


def _summariser(ctx: AppContext) -> Any:
    """The summariser thread, unless disabled (``summaries_interval_s`` 0);
    it reads the bookings (agency presence) from the API's records."""
    settings = ctx.settings
    if not settings.summaries_interval_s:
        return None
    from api.booking_marks import SessionBookings
    from summaries.service import SummariserThread, default_metrics
    from summaries.summariser import SummaryParams

    thread = SummariserThread(
        ctx.store,
        list(ctx.registry),
        SummaryParams(silence_factor=settings.silence_factor, merge_gap_s=settings.merge_gap_s),
        interval_s=settings.summaries_interval_s,
        metrics=default_metrics(),
        raw_retention_days=settings.store.raw_retention_days,
        events=ctx.events,
        bookings=SessionBookings(ctx.sessions),
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


def _live_feed(ctx: AppContext) -> Any:
    """The broker subscription that keeps the live boards current (none
    without ``broker_url``)."""
    settings = ctx.settings
    if not settings.broker_url:
        return None
    from api.mqtt import LiveFeed

    topics = Topics(settings.topic_prefix)
    feed = LiveFeed(
        url=settings.broker_url,
        topics=topics.subscriptions()[:2],
        handler=lambda raw: apply_raw(ctx.hub, topics, raw),
        protocol=settings.mqtt_protocol,
        username=settings.mqtt_username,
        password=(settings.mqtt_password.get_secret_value() if settings.mqtt_password else None),
        ca_file=str(settings.mqtt_ca_file) if settings.mqtt_ca_file else None,
    )
    feed.start()
    return feed


def start_services(
    ctx: AppContext, *, hooks: Webhooks | None, alert_rules: list[Rule], start_feed: bool
) -> Background:
    """Start the app's background services, each as its settings say; the
    returned ``Background`` stops them all."""
    from alerts import runtime as alerts_runtime

    services = Background()

    def webhooks() -> Webhooks | None:
        if hooks is not None:
            hooks.start()
        return hooks

    services.start("webhooks", webhooks)  # first: what the others publish reaches the outbox
    ctx.feed = services.start("live-feed", lambda: _live_feed(ctx) if start_feed else None)
    services.start("live-sweeper", lambda: _started(_Sweeper(ctx.hub)))
    interval = ctx.settings.rollup_interval_s
    services.start("rollups", lambda: _started(_Rollups(ctx, interval)) if interval else None)
    summariser = services.start("summariser", lambda: _summariser(ctx))
    services.start("alerts", lambda: alerts_runtime.start(ctx, alert_rules, summariser=summariser))
    services.start("feed-poller", lambda: _feed_poller(ctx))
    return services
