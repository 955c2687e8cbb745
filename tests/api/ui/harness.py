"""A real API server for browser tests: uvicorn on a free loopback port, in a
thread of the test process, with a SQLite store and records database and the
live feed subscribed to a real Mosquitto broker. Also publishes presence
messages as an edge agent would (paho, QoS 1, the contract's topics)."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import uvicorn
from fastapi import FastAPI

from api.app import create_app
from api.auth import create_key
from api.config import ApiSettings
from api.records import make_engine, make_sessionmaker
from core.broker_url import parse_broker_url
from core.messages import AgentState, AgentStatus, Presence, PresenceKind
from core.registry import Registry, load_registry
from core.topics import Topics
from storage import StoreSettings, open_store
from tests.api.served import run_uvicorn
from tests.servers import free_port

REPO = Path(__file__).resolve().parents[3]
EXAMPLE_SITE = REPO / "examples" / "sites" / "virastotalo.yaml"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class LiveApi:
    base_url: str
    key: str
    registry: Registry
    app: FastAPI
    server: uvicorn.Server
    thread: threading.Thread
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def page_url(self, key: str | None = None) -> str:
        return f"{self.base_url}/ui/#key={key or self.key}"

    def stop(self) -> None:
        # as api.serve does on Ctrl-C: open event streams end, then uvicorn stops
        self.server.config.app.state.ctx.closing.set()
        self.server.should_exit = True
        self.thread.join(15)


def start_api(
    workdir: Path,
    broker_url: str,
    *,
    registry_path: Path = EXAMPLE_SITE,
    port: int | None = None,
    keys: dict[str, str] | None = None,
) -> LiveApi:
    """Serve the API like ``occupancy api`` does. Creates a facility key and an
    agency key unless ``keys`` (from an earlier server on the same workdir) is given."""
    port = port or free_port()
    records_url = f"sqlite:///{workdir / 'api.db'}"
    settings = ApiSettings(
        registry=registry_path,
        store=StoreSettings(url=f"sqlite:///{workdir / 'occupancy.db'}"),
        records_url=records_url,
        host="127.0.0.1",
        port=port,
        broker_url=broker_url,
        rollup_interval_s=0,
    )
    registry = load_registry(settings.registry)
    if keys is None:
        engine = make_engine(records_url)
        with make_sessionmaker(engine)() as session:
            keys = {
                "facility": create_key(session, role="facility", name="browser test"),
                "agency:vero": create_key(session, role="agency:vero", name="browser test"),
            }
        engine.dispose()
    app = create_app(settings, registry=registry, store=open_store(settings.store))
    server, thread = run_uvicorn(app, port, name="ui-test-api", log_level="warning")
    return LiveApi(
        f"http://127.0.0.1:{port}", keys["facility"], registry, app, server, thread, keys
    )


class Publisher:
    """Publishes contract messages as edge agents would (QoS 1)."""

    def __init__(self, broker_url: str, site: str):
        addr = parse_broker_url(broker_url)
        self.site = site
        self.topics = Topics()
        self.seq = 0
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"ui-test-{uuid.uuid4().hex[:8]}"
        )
        self.client.connect(addr.host, addr.port, keepalive=30)
        self.client.loop_start()

    def presence(
        self,
        space_id: str,
        *,
        agent: str,
        sensor: str,
        occupied: bool,
        count: int | None = None,
        at: datetime | None = None,
        heartbeat_s: float = 300,
    ) -> None:
        self.seq += 1
        msg = Presence(
            space_id=space_id,
            agent_id=agent,
            sensor_id=sensor,
            occupied=occupied,
            people_count=count,
            event_time=at or datetime.now(UTC),
            seq=self.seq,
            kind=PresenceKind.CHANGE,
            heartbeat_interval_s=heartbeat_s,
        )
        self._publish(self.topics.presence(self.site, space_id), msg.model_dump_json())

    def agent_offline(self, agent: str) -> None:
        msg = AgentStatus(agent_id=agent, state=AgentState.OFFLINE)
        self._publish(self.topics.status(self.site, agent), msg.model_dump_json())

    def _publish(self, topic: str, payload: str) -> None:
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def wait_feed_connected(api: LiveApi, timeout: float = 10) -> None:
    """The API's MQTT session is up. Its SUBACK may still trail: callers confirm
    the path end to end with a first message they wait for generously."""
    ctx: Any = api.app.state.ctx
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        feed = getattr(ctx, "feed", None)
        if feed is not None and feed.connected.is_set():
            return
        time.sleep(0.05)
    raise TimeoutError("the API's live feed did not connect to the broker")
