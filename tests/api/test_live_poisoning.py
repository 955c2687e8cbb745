"""The live view cannot be poisoned (issue 20, item 4), on a real Mosquitto.

The API's live feed applies the contract's checks (``core.validation``), the
same as the ingest: a retained presence dated 2099 does not freeze a desk (not
even after an API restart, when the broker hands it over again), and presence
or status from made-up agent ids adds no agent to /live or /sensors/health.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import create_key
from api.config import ApiSettings
from api.records import make_engine, make_sessionmaker
from core.registry import Registry, Site, load_site
from storage import StoreSettings, open_store
from tests.conftest import EXAMPLE_SITES
from tests.servers import MosquittoServer

SITE_FILE = EXAMPLE_SITES / "virastotalo.yaml"
P = "occupancy/v1/virastotalo"


def iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def presence(
    site: Site, space: str, *, occupied: bool, at: datetime, agent: str | None = None
) -> str:
    binding = site.space(space).sensor
    assert binding is not None
    return json.dumps(
        {
            "schema_version": 1, "space_id": space, "agent_id": agent or binding.agent,
            "sensor_id": binding.id, "occupied": occupied, "event_time": iso(at),
            "seq": 1, "kind": "change",
        }
    )  # fmt: skip


class Pub:
    def __init__(self, broker: MosquittoServer):
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="poison-test")
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()

    def send(self, topic: str, payload: str, *, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(10)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@contextmanager
def running_api(broker: MosquittoServer, tmp: Path) -> Iterator[Callable[[str], Any]]:
    site = load_site(SITE_FILE)
    store = open_store(StoreSettings(url=f"sqlite:///{tmp}/store.db"))
    records = f"sqlite:///{tmp}/api.db"
    with make_sessionmaker(make_engine(records))() as session:
        key = create_key(session, role="facility", name="facility")
    settings = ApiSettings(
        registry=SITE_FILE,
        store=StoreSettings(url=f"sqlite:///{tmp}/store.db"),
        records_url=records,
        broker_url=broker.url,
        rollup_interval_s=0,
    )
    app = create_app(settings, registry=Registry({site.id: site}), store=store)
    with TestClient(app) as client:

        def get(path: str) -> Any:
            r = client.get(
                f"/v1/sites/virastotalo{path}", headers={"Authorization": f"Bearer {key}"}
            )
            assert r.status_code == 200, r.text
            return r.json()

        yield get
    store.close()


def space_of(get: Callable[[str], Any], space: str) -> dict[str, Any]:
    return next(s for s in get("/live")["spaces"] if s["space"] == space)


def wait_for(check: Callable[[], bool], what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def warm_up(get: Callable[[str], Any], pub: Pub, site: Site) -> None:
    """Until the feed shows a first valid message: its subscription is live."""
    space = "f1-odotus"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        pub.send(
            f"{P}/spaces/{space}/presence",
            presence(site, space, occupied=False, at=datetime.now(UTC)),
        )
        time.sleep(0.2)
        if space_of(get, space)["last_event"] is not None:
            return
    raise AssertionError("the live feed never subscribed")


@pytest.fixture
def broker(mosquitto_factory: Callable[..., MosquittoServer]) -> MosquittoServer:
    return mosquitto_factory()


@pytest.fixture
def site() -> Site:
    return load_site(SITE_FILE)


def test_a_retained_presence_from_2099_does_not_freeze_a_desk(
    broker: MosquittoServer, site: Site, tmp_path: Path
) -> None:
    desk = "f2-c-d001"
    pub = Pub(broker)
    future = datetime(2099, 1, 1, 9, tzinfo=UTC)
    pub.send(
        f"{P}/spaces/{desk}/presence", presence(site, desk, occupied=True, at=future), retain=True
    )
    for attempt in ("first start", "after a restart"):  # the broker replays the retained one
        with running_api(broker, tmp_path / attempt.replace(" ", "-")) as get:
            warm_up(get, pub, site)
            now = datetime.now(UTC)
            pub.send(f"{P}/spaces/{desk}/presence", presence(site, desk, occupied=False, at=now))
            wait_for(lambda: space_of(get, desk)["state"] == "free", f"{desk} free ({attempt})", 5)
            shown = space_of(get, desk)
            assert shown["last_event"] == iso(now).replace(".000000Z", "Z") or shown[
                "last_event"
            ].startswith(iso(now)[:19]), shown
    pub.close()


def test_made_up_agents_do_not_appear(broker: MosquittoServer, site: Site, tmp_path: Path) -> None:
    with running_api(broker, tmp_path) as get:
        pub = Pub(broker)
        warm_up(get, pub, site)
        now = datetime.now(UTC)
        spaces = [s.id for s in site.spaces]
        for i in range(2000):
            space = spaces[i % len(spaces)]
            ghost = f"ghost-{i:04d}"
            pub.client.publish(
                f"{P}/spaces/{space}/presence",
                presence(site, space, occupied=True, at=now, agent=ghost),
                qos=1,
            )
            if i % 10 == 0:  # made-up agents' status too
                status = json.dumps({"schema_version": 1, "agent_id": ghost, "state": "online"})
                pub.client.publish(f"{P}/agents/{ghost}/status", status, qos=1)
        # one valid message last: the feed applies messages in order
        sentinel = "f1-palvelu-01"
        pub.send(f"{P}/spaces/{sentinel}/presence", presence(site, sentinel, occupied=True, at=now))
        wait_for(lambda: space_of(get, sentinel)["state"] == "occupied", "the sentinel", 30)
        live = get("/live")
        health = get("/sensors/health")
        pub.close()
    agents = sorted(site.agents())
    assert [a["agent"] for a in live["agents"]] == agents
    assert [a["agent"] for a in health["agents"]] == agents
    occupied = [s["space"] for s in live["spaces"] if s["state"] == "occupied"]
    assert occupied == [sentinel]  # no ghost's presence was applied either
    assert {s["agent"] for s in live["spaces"]} <= set(agents)
