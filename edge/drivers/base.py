"""What every sensor driver shares: its reading, its config base and its life cycle.

A driver turns one physical (or simulated) sensor into ``Reading``s and hands
them to a sink. It never decides occupancy: debounce, hold time and heartbeats
live in ``edge.presence`` so every sensor type gets the same, tested rules.
Drivers may run hardware callbacks or reader threads; the sink they are given
is thread-safe (it enqueues for the agent's single main loop).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from core.ids import Ident


@dataclass(frozen=True, slots=True)
class Reading:
    """One observation of a sensor at sensor time ``at`` (UTC).

    ``active`` is None when the message carried no presence information (for
    example a Zigbee battery report): it still proves the sensor is alive.
    """

    sensor_id: str
    at: datetime
    active: bool | None
    people: int | None = None
    battery_pct: float | None = None
    ok: bool = True
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class CounterReading:
    """People across one entrance over ``interval_s`` ending at ``at`` (UTC)."""

    sensor_id: str
    entrance: str
    at: datetime
    in_count: int
    out_count: int
    interval_s: float
    total_in: int | None = None
    total_out: int | None = None


Sink = Callable[[Reading], None]
Clock = Callable[[], datetime]


class SensorConfigBase(BaseModel):
    """Fields every sensor entry has; each driver adds its own and a ``type`` literal."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Ident = Field(description="Sensor id (as bound in the site registry).")
    space: Ident = Field(description="Space id this sensor reports for.")
    debounce_s: float = Field(
        default=0.0, ge=0, le=600, description="A raw change must last this long to count."
    )
    hold_s: float = Field(
        default=0.0,
        ge=0,
        le=86_400,
        description="Stay occupied this long after the last activity (PIR: minutes).",
    )


class Driver:
    """Base class of drivers. Subclasses set ``type_name`` and override what they need."""

    type_name: ClassVar[str] = ""

    def __init__(self, config: Any, sink: Sink, clock: Clock):
        self.config = config
        self.sink = sink
        self.clock = clock

    @property
    def sensor_id(self) -> str:
        return str(self.config.id)

    def start(self) -> None:
        """Open the hardware; called once before the first ``poll``."""

    def poll(self, now: datetime) -> None:
        """Called on every tick of the agent's main loop (event-driven drivers ignore it)."""

    def stop(self) -> None:
        """Release the hardware; must be safe to call twice."""
