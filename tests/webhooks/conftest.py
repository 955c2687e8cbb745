"""An API with webhooks on fast settings over the small site of tests/api, a
key for every role, and a real local receiver."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import create_key
from api.config import ApiSettings
from api.deps import AppContext
from api.records import make_engine, make_sessionmaker
from core.registry import Registry, load_site
from storage import StoreSettings, open_store
from tests.webhooks.receiver import Receiver
from webhooks.events import Event
from webhooks.settings import WebhookSettings

SMALL_SITE = Path(__file__).parents[1] / "api" / "data" / "small.yaml"
ROLES = ("admin", "facility", "finance", "agency:aa", "agency:bb")

FAST = {
    "poll_s": 0.05,
    "timeout_s": 5,
    "max_attempts": 3,
    "backoff_base_s": 0.1,
    "backoff_max_s": 1.0,
    "backoff_jitter": 0.2,
    "live_tick_s": 0.05,
    "space_state_debounce_s": 0,
}


@dataclass
class HookApi:
    client: TestClient
    keys: dict[str, str]

    @property
    def ctx(self) -> AppContext:
        return self.client.app.state.ctx  # type: ignore[attr-defined]

    def call(self, method: str, path: str, role: str = "facility", **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.keys[role]}"}
        return self.client.request(method, path, headers=headers, **kw)

    def subscribe(self, role: str = "facility", **body: Any) -> dict[str, Any]:
        r = self.call("POST", "/v1/webhooks/subscriptions", role, json=body)
        assert r.status_code == 201, r.text
        return r.json()

    def deliveries(
        self, status: str, until: Callable[[list[Any]], bool], timeout: float = 10
    ) -> list[Any]:
        """The deliveries of ``status`` once ``until`` holds for them (the worker
        records an outcome just after the receiver has answered)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.call("GET", "/v1/webhooks/deliveries", params={"status": status}).json()
            if until(found) or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def publish(self, type_: str, n: int, *, agency: str | None = None, **data: Any) -> Event:
        event = Event(
            type=type_,
            site="pieni",
            occurred_at=datetime(2026, 3, 2, 9, 0, n % 60, tzinfo=UTC),
            data={"n": n, **data},
            agency=agency,
        )
        self.ctx.events.publish(event)
        return event


@dataclass
class Maker:
    tmp_path: Path
    keys: dict[str, str]
    allowed: str = "127.0.0.0/8"

    def __call__(
        self,
        clock: Callable[[], datetime] | None = None,
        allowed: str | None = None,
        **hooks: Any,
    ) -> Iterator[HookApi]:
        """``allowed``: outbound_allowed_networks (default: loopback)."""
        site = load_site(SMALL_SITE)
        settings = ApiSettings(
            registry=SMALL_SITE,
            store=StoreSettings(url=f"sqlite:///{self.tmp_path}/store.db"),
            records_url=self.records,
            broker_url=None,
            rollup_interval_s=0,
            summaries_interval_s=0,
            webhooks=WebhookSettings(**{**FAST, **hooks}),
            # the receivers listen on loopback, which the outbound address
            # policy refuses unless the administrator allows it
            outbound_allowed_networks=self.allowed if allowed is None else allowed,
        )
        store = open_store(settings.store)
        extra = {"clock": clock} if clock is not None else {}
        app = create_app(settings, registry=Registry({site.id: site}), store=store, **extra)
        with TestClient(app) as client:
            yield HookApi(client, self.keys)
        store.close()

    @property
    def records(self) -> str:
        return f"sqlite:///{self.tmp_path}/api.db"


@pytest.fixture
def make(tmp_path: Path) -> Maker:
    records = f"sqlite:///{tmp_path}/api.db"
    with make_sessionmaker(make_engine(records))() as session:
        keys = {role: create_key(session, role=role, name=role) for role in ROLES}
    return Maker(tmp_path, keys)


@pytest.fixture
def hooks(make: Maker) -> Iterator[HookApi]:
    yield from make()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()
