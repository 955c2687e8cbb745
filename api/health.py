"""Sensor and agent health for facility managers: what needs a visit.

A sensor is reported when its space is unknown (its agent is offline, it has
been silent past the heartbeat rule, or it never reported), when its battery
is low, or when it has reported occupied without a break for longer than any
real stay (a stuck sensor: 12 hours by default).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from api.live import SpaceLive
from core.registry import Site
from storage import SENSOR_HEALTH, Store, StoreUnavailable


def _iso(ts: datetime | None) -> str | None:
    return ts.isoformat().replace("+00:00", "Z") if ts is not None else None


def last_batteries(store: Store, site: Site) -> dict[str, float]:
    """The latest battery level reported per sensor (agents' health messages)."""
    try:
        frame = store.last(SENSOR_HEALTH, by="sensor", where={"site": site.id})
    except StoreUnavailable:
        return {}
    if frame.empty or "battery_pct" not in frame.columns:
        return {}
    out = {}
    for sensor, pct in zip(frame["sensor"], frame["battery_pct"], strict=True):
        if pct is not None and not (isinstance(pct, float) and math.isnan(pct)):
            out[str(sensor)] = float(pct)
    return out


def sensor_problems(
    spaces: Iterable[SpaceLive],
    *,
    batteries: dict[str, float],
    now: datetime,
    low_battery_pct: float,
    stuck_after_s: float,
) -> list[dict[str, Any]]:
    out = []
    for s in spaces:
        problems = []
        if s.state == "unknown":
            problems.append(s.reason or "unknown")
        battery = batteries.get(s.sensor or "")
        if battery is not None and battery < low_battery_pct:
            problems.append("low battery")
        if (
            s.state == "occupied"
            and s.since is not None
            and (now - s.since).total_seconds() > stuck_after_s
        ):
            problems.append("stuck occupied")
        if not problems:
            continue
        out.append(
            {
                "space": s.space,
                "sensor": s.sensor,
                "agent": s.agent,
                "zone": s.zone,
                "floor": s.floor,
                "problem": problems[0],
                "problems": problems,
                "battery_pct": battery,
                "since": _iso(s.since),
                "last_seen": _iso(s.last_seen),
            }
        )
    return out
