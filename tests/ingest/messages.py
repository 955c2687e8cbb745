"""Contract messages for ingest tests, built by hand (not by the code under test)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from core.registry import Site

PREFIX = "occupancy/v1"
SITE = "virastotalo"


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
    agent: str = "agent-f1",
    sensor: str = "s-1",
    **extra: Any,
) -> bytes:
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
