"""Synthetic sites of any size (for benchmarks and scale tests): floors of desks
and meeting rooms, dedicated and shared zones, one agent per floor."""

from __future__ import annotations

import math
from typing import Any

from core.registry import Site


def synthetic_site(
    desks: int,
    *,
    desks_per_floor: int = 250,
    rooms_per_floor: int = 10,
    agencies: int = 5,
    staff_per_desk: float = 2.2,
    site_id: str = "synthetic",
    heartbeat_s: float = 300.0,
) -> Site:
    """A site with ``desks`` desks (plus meeting rooms), sized like the example:
    about 2.2 staff per desk, so a third present fills most desks midweek."""
    floors = max(1, math.ceil(desks / desks_per_floor))
    plan_w = 10.0 + 2.2 * 25
    plan_h = 6.0 + 1.4 * math.ceil(desks_per_floor / 25) + 6.0
    staff = round(desks * staff_per_desk)
    agency_list = [
        {
            "id": f"ag{k + 1}",
            "name": f"Agency {k + 1}",
            "headcount_htv": staff / agencies * 0.95,
            "persons": staff // agencies,
        }
        for k in range(agencies)
    ]
    floor_list: list[dict[str, Any]] = []
    zones: list[dict[str, Any]] = []
    spaces: list[dict[str, Any]] = []
    left = desks
    for f in range(floors):
        fid = f"f{f + 1}"
        agent = f"agent-{fid}"
        floor_list.append(
            {
                "id": fid,
                "name": f"Floor {f + 1}",
                "level": f + 1,
                "plan": {"width": plan_w, "height": plan_h},
            }
        )
        owner = agency_list[f % agencies]["id"]
        zones.append(
            {"id": f"{fid}-own", "name": f"{fid} dedicated", "floor": fid, "agency": owner}
        )
        zones.append({"id": f"{fid}-shared", "name": f"{fid} shared", "floor": fid})
        n = min(desks_per_floor, left)
        left -= n
        for i in range(n):
            row, col = divmod(i, 25)
            spaces.append(
                {
                    "id": f"{fid}-d{i + 1:04d}",
                    "type": "desk",
                    "zone": f"{fid}-own" if i < n * 0.6 else f"{fid}-shared",
                    "capacity": 1,
                    "area_m2": 6.0,
                    "geometry": {"x": 1.0 + col * 2.2, "y": 2.0 + row * 1.4, "w": 1.6, "h": 0.8},
                    "sensor": {"id": f"s-{fid}-d{i + 1:04d}", "agent": agent, "model": "pir"},
                }
            )
        for r in range(rooms_per_floor):
            spaces.append(
                {
                    "id": f"{fid}-r{r + 1:02d}",
                    "type": "meeting_room",
                    "zone": f"{fid}-shared",
                    "capacity": (4, 6, 8, 12)[r % 4],
                    "area_m2": 16.0,
                    "geometry": {"x": 1.0 + r * 5.0, "y": plan_h - 5.0, "w": 4.5, "h": 4.0},
                    "sensor": {"id": f"s-{fid}-r{r + 1:02d}", "agent": agent, "model": "ld2410"},
                }
            )
    return Site.model_validate(
        {
            "id": site_id,
            "name": f"Synthetic site, {desks} desks",
            "timezone": "Europe/Helsinki",
            "opening_hours": {d: ["07:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
            "area_m2": desks * 10.0,
            "heartbeat_s": heartbeat_s,
            "agencies": agency_list,
            "floors": floor_list,
            "zones": zones,
            "spaces": spaces,
        }
    )
