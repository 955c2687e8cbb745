"""The real API under uvicorn with its live feed on the real Mosquitto, a
rules file, the alert engine ticking every 0.1 s, e-mail to a real local
SMTP server (tests/alerts/smtp.py) and a sink that records published events."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from alerts.config import AlertSettings
from api.app import create_app
from api.auth import create_key
from api.config import ApiSettings
from api.records import make_engine, make_sessionmaker
from core.registry import Registry, load_registry
from storage import StoreSettings, open_store
from tests.alerts.smtp import USER, SmtpServer, smtp_server
from tests.api.served import run_uvicorn
from tests.api.ui.harness import EXAMPLE_SITE, Publisher, wait_feed_connected
from tests.servers import MosquittoServer, free_port
from webhooks.events import Event

SITE = "virastotalo"
DIGEST_S = 2.0
SILENT_S = 1.5

RULES = f"""
rules:
  - id: silent-f2
    kind: sensor_silent
    site: {SITE}
    floor: f2
    threshold: {SILENT_S}
    notify:
      - {{email: fm@example.org, lang: fi}}
      - {{email: ops@example.org, lang: en}}
"""


class Recorder:
    """An EventSink that keeps what it is given."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.lock = threading.Lock()

    def publish(self, event: Event) -> None:
        with self.lock:
            self.events.append(event)

    def of(self, type_: str) -> list[Event]:
        with self.lock:
            return [e for e in self.events if e.type == type_]


@dataclass
class AlertApi:
    base_url: str
    keys: dict[str, str]
    registry: Registry
    sink: Recorder
    smtp: SmtpServer
    publisher: Publisher
    app: Any

    def seen(self, space: str) -> Any:
        """The space's last_seen on the API's live board."""
        live = {s.space: s for s in self.app.state.ctx.hub.board(SITE).spaces()}
        return live[space].last_seen

    def present(self, space: str) -> None:
        """Publish one presence of ``space`` as its agent and wait until the
        API's live board has it (the feed's SUBACK may trail its CONNACK, so a
        first message is sent again until it arrives)."""
        s = self.registry.site(SITE).space(space)
        assert s.sensor is not None
        before = self.seen(space)
        for _ in range(20):
            self.publisher.presence(space, agent=s.sensor.agent, sensor=s.sensor.id, occupied=False)
            deadline = time.monotonic() + 0.5
            while time.monotonic() < deadline:
                if self.seen(space) != before:
                    return
                time.sleep(0.01)
        raise AssertionError(f"presence of {space} did not reach the API")

    def get(self, path: str, role: str = "facility", **params: Any) -> httpx.Response:
        return httpx.get(self.base_url + path, headers=self._h(role), params=params, timeout=10)

    def post(self, path: str, body: Any, role: str = "facility") -> httpx.Response:
        return httpx.post(self.base_url + path, headers=self._h(role), json=body, timeout=10)

    def request(
        self, method: str, path: str, body: Any = None, role: str = "facility"
    ) -> httpx.Response:
        return httpx.request(
            method, self.base_url + path, headers=self._h(role), json=body, timeout=10
        )

    def _h(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def alerts(self, role: str = "facility", state: str = "all") -> list[dict[str, Any]]:
        r = self.get(f"/v1/sites/{SITE}/alerts", role, state=state)
        assert r.status_code == 200, r.text
        return r.json()["alerts"]

    def wait(self, what: Callable[[], Any], timeout: float = 8.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = what()
            if got:
                return got
            time.sleep(0.05)
        raise AssertionError("condition not reached in time")


@pytest.fixture
def alert_api(tmp_path: Path, mosquitto: MosquittoServer) -> Iterator[AlertApi]:
    rules = tmp_path / "alerts.yaml"
    rules.write_text(RULES)
    records_url = f"sqlite:///{tmp_path / 'api.db'}"
    with smtp_server(tmp_path) as smtp:
        settings = ApiSettings(
            registry=EXAMPLE_SITE,
            store=StoreSettings(url=f"sqlite:///{tmp_path / 'occupancy.db'}"),
            records_url=records_url,
            broker_url=mosquitto.url,
            rollup_interval_s=0,
            summaries_interval_s=0,
            alerts=AlertSettings(
                rules=rules,
                tick_s=0.1,
                digest_s=DIGEST_S,
                smtp_host="127.0.0.1",
                smtp_port=smtp.port,
                smtp_user=USER,
                smtp_password_file=smtp.password_file,
                smtp_ca_file=smtp.ca_file,
                smtp_from="occupancy@example.org",
            ),
        )
        registry = load_registry(settings.registry)
        engine = make_engine(records_url)
        with make_sessionmaker(engine)() as session:
            keys = {
                role: create_key(session, role=role, name=f"{role} key")
                for role in ("facility", "agency:vero", "agency:dvv")
            }
        engine.dispose()
        app = create_app(settings, registry=registry, store=open_store(settings.store))
        sink = Recorder()
        app.state.ctx.events = sink
        port = free_port()
        server, thread = run_uvicorn(app, port, name="alerts-test-api", log_level="warning")
        publisher = Publisher(mosquitto.url, SITE)
        api = AlertApi(f"http://127.0.0.1:{port}", keys, registry, sink, smtp, publisher, app)
        try:
            wait_feed_connected(api)  # type: ignore[arg-type]  # needs .app only
            yield api
        finally:
            publisher.close()
            app.state.ctx.closing.set()
            server.should_exit = True
            thread.join(15)
