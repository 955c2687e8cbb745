"""The webhooks at run time inside the API: the outbox sink, the delivery
worker, and the live-events thread (space states, zone thresholds, no-shows),
started in the app's lifespan and stopped at its end."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import sessionmaker

from api.live import LiveHub
from core.outbound import OutboundPolicy
from core.registry import Registry
from core.timeutil import utcnow
from webhooks.live_events import SpaceStates, ZoneThresholds
from webhooks.no_shows import NoShowWatcher
from webhooks.outbox import OutboxSink
from webhooks.settings import WebhookSettings
from webhooks.worker import DeliveryWorker

log = logging.getLogger(__name__)


class LiveEvents(threading.Thread):
    """Ticks the live emitters every ``live_tick_s`` seconds with ``clock()``."""

    def __init__(
        self,
        hub: LiveHub,
        sink: OutboxSink,
        sessions: sessionmaker,
        settings: WebhookSettings,
        clock: Callable[[], datetime],
    ):
        super().__init__(name="webhooks-live", daemon=True)
        boards = list(hub.boards.values())
        self.clock = clock
        self.every_s = settings.live_tick_s
        self.stopped = threading.Event()
        self.emitters = (
            SpaceStates(boards, sink, debounce_s=settings.space_state_debounce_s),
            ZoneThresholds(
                boards,
                sink,
                threshold_pct=settings.zone_threshold_pct,
                hysteresis_pct=settings.zone_hysteresis_pct,
            ),
            NoShowWatcher(
                boards,
                sink,
                sessions,
                window_min=settings.no_show_window_min,
                grace_s=settings.no_show_grace_s,
            ),
        )

    def tick(self) -> None:
        now = self.clock()
        for emitter in self.emitters:
            try:
                emitter.tick(now)
            except Exception:  # one emitter's failure must not stop the others
                log.exception("webhook events of %s failed", type(emitter).__name__)

    def run(self) -> None:
        while not self.stopped.wait(self.every_s):
            self.tick()


class Webhooks:
    def __init__(
        self,
        settings: WebhookSettings,
        *,
        sessions: sessionmaker,
        registry: Registry,
        hub: LiveHub,
        min_group: int,
        outbound: OutboundPolicy,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.settings = settings
        self.sink = OutboxSink()
        self._new_worker = functools.partial(
            DeliveryWorker,
            sink=self.sink,
            sessions=sessions,
            registry=registry,
            settings=settings,
            min_group=min_group,
            outbound=outbound,
        )
        self._live_args = (hub, self.sink, sessions, settings, clock)
        self.live: LiveEvents | None = None
        self.worker: DeliveryWorker | None = None

    def start(self) -> None:
        """New threads at each start: an app may be started again after a stop."""
        # after the boards are seeded, so the states at start are taken as known
        self.live = LiveEvents(*self._live_args)
        self.live.start()
        self.worker = self._new_worker()
        self.worker.start()

    def stop_emitters(self) -> None:
        if self.live is not None:
            self.live.stopped.set()
            self.live.join(10)

    def stop(self) -> None:
        """After every emitter has stopped: the worker writes what is queued to the outbox."""
        self.stop_emitters()
        if self.worker is not None:
            self.worker.stop()
