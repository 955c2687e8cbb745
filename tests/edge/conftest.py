"""Helpers for the edge agent's tests: a hand-driven clock, a recording MQTT
subscriber (paho, against the real Mosquitto fixtures) and config writing."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion

T0 = datetime(2026, 1, 5, 8, 0, 0, tzinfo=UTC)


class FakeClock:
    """The agent's injectable clock: moves only when the test says so."""

    def __init__(self, start: datetime = T0):
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


class Recorder:
    """A QoS 1 subscriber with a persistent session, recording every message."""

    def __init__(self, port: int, topics: list[str], client_id: str, *, clean: bool = False):
        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean
        )
        self.client.reconnect_delay_set(1, 1)

        def on_connect(client, userdata, flags, rc, props):
            client.subscribe([(t, 1) for t in topics])

        def on_subscribe(client, userdata, mid, rcs, props):
            self._subscribed.set()

        def on_message(client, userdata, msg):
            with self._lock:
                self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

        def on_disconnect(client, userdata, flags, rc, props):
            self._subscribed.clear()

        self.client.on_connect = on_connect
        self.client.on_disconnect = on_disconnect
        self.client.on_subscribe = on_subscribe
        self.client.on_message = on_message
        self.client.connect_async("127.0.0.1", port, 5)
        self.client.loop_start()
        assert self._subscribed.wait(10), "subscriber did not get its subscription"

    def ready(self, timeout: float = 20.0) -> bool:
        """Connected and subscribed again (after a broker restart).

        Tests wait for this before publishers resume: when Mosquitto runs as
        root it drops privileges and may not be able to write its persistence
        file in the test's folder, so a persistent session is not guaranteed
        to survive a broker restart.
        """
        return self._subscribed.wait(timeout)

    def payloads(self, suffix: str) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(p) for t, p, _ in self.messages if t.endswith(suffix)]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return predicate()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def recorders() -> Iterator[Callable[..., Recorder]]:
    made: list[Recorder] = []

    def make(port: int, topics: list[str], client_id: str, **kw: Any) -> Recorder:
        r = Recorder(port, topics, client_id, **kw)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def write_config(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def base_config(
    port: int, tmp: Path, sensors: list[dict[str, Any]], *, confirm: bool = False, **extra: Any
) -> dict[str, Any]:
    """An agent config for the broker at ``port``. ``confirm`` is off by
    default here: these tests run no ingest, so nothing would confirm, and
    they are about the agent-to-broker leg (a row leaves on its PUBACK)."""
    data: dict[str, Any] = {
        "site": "virastotalo",
        "agent_id": "agent-t",
        "heartbeat_s": 300,
        "health_s": 60,
        "tick_s": 0.1,
        "broker": {"url": f"mqtt://127.0.0.1:{port}", "keepalive_s": 2, "reconnect_max_s": 1},
        "outbox": {"path": str(tmp / "outbox.sqlite3"), "confirm": confirm},
        "sensors": sensors,
    }
    data.update(extra)
    return data
