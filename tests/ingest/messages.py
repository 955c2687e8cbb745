"""Contract messages for ingest tests, built by hand (not by the code under test)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml

from core.registry import Site
from tests.conftest import EXAMPLE_SITES

PREFIX = "occupancy/v1"
SITE = "virastotalo"


def _bindings() -> dict[str, tuple[str, str]]:
    # read from the YAML itself, not through the registry code under test
    data = yaml.safe_load((EXAMPLE_SITES / f"{SITE}.yaml").read_text(encoding="utf-8"))
    return {
        s["id"]: (s["sensor"]["id"], s["sensor"]["agent"]) for s in data["spaces"] if "sensor" in s
    }


_BINDINGS = _bindings()


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def presence_topic(space: str, site: str = SITE) -> str:
    return f"{PREFIX}/{site}/spaces/{space}/presence"


def presence_payload(
    space: str,
    when: datetime,
    *,
    occupied: bool = True,
    seq: int = 0,
    agent: str | None = None,
    sensor: str | None = None,
    **extra: Any,
) -> bytes:
    """``agent`` and ``sensor`` default to the example registry's binding of
    ``space`` (the ingest dead-letters any other pair as identity_mismatch)."""
    bound = _BINDINGS.get(space, ("agent-f1", "s-1"))
    agent = bound[1] if agent is None else agent
    sensor = bound[0] if sensor is None else sensor
    body = {
        "schema_version": 1,
        "space_id": space,
        "agent_id": agent,
        "sensor_id": sensor,
        "occupied": occupied,
        "event_time": iso(when),
        "seq": seq,
        "kind": "change",
        **extra,
    }
    return json.dumps(body).encode()


def stream(site: Site, n: int, *, start: datetime, step: timedelta) -> list[tuple[str, bytes]]:
    """``n`` valid presence messages, one per distinct event time, round-robin over spaces.

    Message i has event time ``start + i*step``, so every point identity
    (measurement, tags, time) is distinct and the expected count is ``n``.
    """
    spaces = [s.id for s in site.spaces]
    out = []
    for i in range(n):
        space = spaces[i % len(spaces)]
        out.append(
            (
                presence_topic(space, site.id),
                presence_payload(space, start + i * step, occupied=bool(i % 2), seq=i),
            )
        )
    return out


def recent_start(n: int, step: timedelta) -> datetime:
    """A start time such that all ``n`` events lie in the last hour or so, never in the future."""
    return datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1) - n * step


def _counters() -> dict[str, tuple[str, str]]:
    data = yaml.safe_load((EXAMPLE_SITES / f"{SITE}.yaml").read_text(encoding="utf-8"))
    return {
        e["id"]: (e["counter"]["id"], e["counter"]["agent"])
        for e in data.get("entrances", [])
        if "counter" in e
    }


_COUNTERS = _counters()


def counts_topic(entrance: str, site: str = SITE) -> str:
    return f"{PREFIX}/{site}/entrances/{entrance}/counts"


def counts_payload(
    entrance: str,
    end: datetime,
    *,
    in_count: int = 0,
    out_count: int = 0,
    interval_s: float = 600.0,
    seq: int = 0,
    agent: str | None = None,
    sensor: str | None = None,
    **extra: Any,
) -> bytes:
    """An entrance_counts message; ``agent``/``sensor`` default to the example
    registry's counter binding of ``entrance``."""
    bound = _COUNTERS.get(entrance, ("c-1", "agent-f1-lora"))
    body = {
        "schema_version": 1,
        "entrance_id": entrance,
        "agent_id": bound[1] if agent is None else agent,
        "sensor_id": bound[0] if sensor is None else sensor,
        "in_count": in_count,
        "out_count": out_count,
        "interval_s": interval_s,
        "event_time": iso(end),
        "seq": seq,
        **extra,
    }
    return json.dumps(body).encode()
