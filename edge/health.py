"""What the agent knows about its sensors' health, and the AgentHealth it reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.messages import AgentHealth, SensorHealth
from edge.drivers.base import Reading


@dataclass
class SensorStatus:
    sensor_id: str
    space_id: str
    battery_pct: float | None = None
    last_seen: datetime | None = None
    ok: bool = True
    detail: str | None = None

    def update(self, reading: Reading) -> None:
        if reading.battery_pct is not None:
            self.battery_pct = reading.battery_pct
        if reading.ok:
            # an availability "offline" is not a sign of life
            self.last_seen = (
                reading.at if self.last_seen is None else max(self.last_seen, reading.at)
            )
        self.ok = reading.ok
        self.detail = reading.detail


def build_health(
    *,
    agent_id: str,
    now: datetime,
    version: str,
    uptime_s: float,
    outbox_depth: int,
    outbox_dropped: int,
    sensors: list[SensorStatus],
    outbox_unconfirmed: int = 0,
    outbox_dropped_unconfirmed: int = 0,
) -> AgentHealth:
    return AgentHealth(
        agent_id=agent_id,
        event_time=now,
        version=version,
        uptime_s=max(0.0, uptime_s),
        outbox_depth=outbox_depth,
        outbox_dropped=outbox_dropped,
        outbox_unconfirmed=outbox_unconfirmed,
        outbox_dropped_unconfirmed=outbox_dropped_unconfirmed,
        sensors=[
            SensorHealth(
                sensor_id=s.sensor_id,
                space_id=s.space_id,
                battery_pct=s.battery_pct,
                last_seen=s.last_seen,
                ok=s.ok,
                detail=s.detail,
            )
            for s in sensors
        ],
    )
