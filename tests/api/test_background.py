"""The app's background services share one lifecycle (``api.background``):
all started in the lifespan, all stopped and joined when it ends."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.background import Background
from api.config import ApiSettings
from core.registry import Registry, load_site
from storage import StoreSettings, open_store
from tests.api.conftest import SMALL_SITE
from tests.servers import MosquittoServer

EVERY_SERVICE = [
    "webhooks",
    "live-feed",
    "live-sweeper",
    "rollups",
    "summariser",
    "alerts",
    "feed-poller",
]


# AnyIO's worker threads run the sync endpoints for the test client's event
# loop (here /health); they are the server's pool, not a service of the app, and
# end on their own once idle, so they are not counted.
_SERVER_POOL = "AnyIO worker thread"


def _new_threads(before: set[threading.Thread]) -> list[str]:
    return sorted(
        t.name
        for t in threading.enumerate()
        if t not in before and t.is_alive() and t.name != _SERVER_POOL
    )


def test_no_thread_of_the_app_outlives_its_lifespan(
    tmp_path: Path, mosquitto: MosquittoServer
) -> None:
    site = load_site(SMALL_SITE)
    store_settings = StoreSettings(url=f"sqlite:///{tmp_path}/store.db")
    store = open_store(store_settings)
    settings = ApiSettings(
        registry=SMALL_SITE,
        store=store_settings,
        records_url=f"sqlite:///{tmp_path}/api.db",
        broker_url=mosquitto.url,  # a real broker: the live feed's paho thread runs
        rollup_interval_s=0.2,
        summaries_interval_s=0.2,
        feeds_poll_interval_s=0.2,
    )
    before = set(threading.enumerate())
    app = create_app(settings, registry=Registry({site.id: site}), store=store)
    try:
        # Twice: a lifespan may start again after a stop, with new threads.
        for _ in range(2):
            with TestClient(app) as client:
                assert app.state.background.names == EVERY_SERVICE
                running = _new_threads(before)
                for name in ("api-live-sweeper", "api-rollups", "api-alerts", "api-live-feed"):
                    assert name in running
                assert client.get("/health").status_code in (200, 503)
            assert app.state.background.names == []
            assert _new_threads(before) == []
    finally:
        store.close()


class _Recorder:
    def __init__(self, name: str, log: list[str], *, fail: bool = False):
        self.name, self.log, self.fail = name, log, fail

    def stop(self) -> None:
        self.log.append(self.name)
        if self.fail:
            raise RuntimeError(f"{self.name} broke")


def test_services_stop_newest_first_even_when_one_fails() -> None:
    stopped: list[str] = []
    services = Background()
    services.start("a", lambda: _Recorder("a", stopped))
    services.start("off", lambda: None)  # disabled by its setting: nothing to stop
    services.start("b", lambda: _Recorder("b", stopped, fail=True))
    services.start("c", lambda: _Recorder("c", stopped))
    assert services.names == ["a", "b", "c"]
    services.stop()
    assert stopped == ["c", "b", "a"]
    assert services.names == []


def test_a_service_that_fails_to_start_stops_those_already_running() -> None:
    stopped: list[str] = []
    services = Background()
    services.start("a", lambda: _Recorder("a", stopped))

    def broken() -> _Recorder:
        raise ValueError("bad settings")

    with pytest.raises(ValueError, match="bad settings"):
        services.start("b", broken)
    assert stopped == ["a"]
    assert services.names == []
