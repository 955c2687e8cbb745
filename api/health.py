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

import pandas as pd

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


def coverage_history(per_space: pd.DataFrame, *, ok_coverage: float) -> pd.DataFrame:
    """Sensor health over time, from the utilisation rows of every space per
    bucket (``by=space``, ``bucket=hour|day|...``): per bucket with opening
    time, how many sensors reported through it (coverage at least
    ``ok_coverage``), reported part of it, or were not heard at all (silent,
    never heard or behind an offline agent: their space was unknown the whole
    time); and the site's coverage (observed / opening seconds)."""
    columns = ["bucket", "sensors", "reporting", "partial", "silent"]
    columns += ["opening_s", "unknown_s", "observed_s", "coverage"]
    rows = per_space[per_space["opening_s"] > 0]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    cov = rows["observed_s"] / rows["opening_s"]
    flags = pd.DataFrame(
        {
            "bucket": rows["bucket"],
            "sensors": 1,
            "reporting": (cov >= ok_coverage).astype(int),
            "partial": ((cov > 0) & (cov < ok_coverage)).astype(int),
            "silent": (cov <= 0).astype(int),
            "opening_s": rows["opening_s"],
            "unknown_s": rows["unknown_s"],
            "observed_s": rows["observed_s"],
        }
    )
    out = flags.groupby("bucket", sort=True).sum().reset_index()
    out["coverage"] = out["observed_s"] / out["opening_s"]
    return out[columns]
