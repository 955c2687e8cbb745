"""A tiny site whose every simulated event can be worked out by hand."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.registry import Site
from tests.servers import MosquittoServer


def tiny_site_dict(heartbeat_s: float = 600) -> dict[str, Any]:
    def space(sid: str, stype: str, zone: str, agent: str, cap: int, x: float) -> dict[str, Any]:
        return {
            "id": sid,
            "type": stype,
            "zone": zone,
            "capacity": cap,
            "area_m2": 6.0,
            "geometry": {"x": x, "y": 1, "w": 2, "h": 2},
            "sensor": {"id": f"s-{sid}", "agent": agent},
        }

    return {
        "id": "tiny",
        "name": "Tiny office",
        "timezone": "Europe/Helsinki",
        "opening_hours": {d: ["07:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        "area_m2": 100.0,
        "heartbeat_s": heartbeat_s,
        "agencies": [{"id": "vero", "name": "Verohallinto", "headcount_htv": 3, "persons": 3}],
        "floors": [{"id": "f1", "name": "1", "level": 1, "plan": {"width": 20, "height": 10}}],
        "zones": [
            {"id": "z-vero", "name": "Vero", "floor": "f1", "agency": "vero"},
            {"id": "z-shared", "name": "Shared", "floor": "f1"},
        ],
        "spaces": [
            space("d1", "desk", "z-vero", "agent-a", 1, 1),
            space("r1", "meeting_room", "z-shared", "agent-a", 6, 5),
            space("d2", "desk", "z-shared", "agent-b", 1, 9),
        ],
    }


@pytest.fixture
def tiny_site() -> Site:
    return Site.model_validate(tiny_site_dict())


@pytest.fixture(scope="module")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoServer]:
    """A broker of this module's own: the session's shared broker carries other
    tests' retained statuses and sessions of the same agent ids."""
    server = MosquittoServer(tmp_path_factory.mktemp("mosquitto-sim")).start()
    yield server
    server.stop()
