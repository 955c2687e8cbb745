"""A simulated presence sensor, for development, demos and the benchmarks.

Its transitions are computed from the agent's clock, not from wall time, so a
test clock that jumps ahead produces every transition in between with its own
event time. Two modes: ``square`` (occupied ``occupied_s``, then vacant
``vacant_s``, repeating from ``start``: easy to work out by hand) and
``random`` (exponential spells with the given means, seeded).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Literal

from pydantic import Field

from edge.drivers.base import Clock, Driver, Reading, SensorConfigBase, Sink


class SimulatedConfig(SensorConfigBase):
    type: Literal["simulated"]
    mode: Literal["square", "random"] = "random"
    occupied_s: float = Field(
        default=1200.0, gt=0, description="(Mean) length of an occupied spell."
    )
    vacant_s: float = Field(default=1800.0, gt=0, description="(Mean) length of a vacant spell.")
    max_people: int | None = Field(default=None, ge=1, le=1000, description="Report counts 1..N.")
    battery_pct: float | None = Field(default=None, ge=0, le=100)
    seed: int | None = None


class SimulatedDriver(Driver):
    type_name = "simulated"
    config: SimulatedConfig

    def __init__(self, config: SimulatedConfig, sink: Sink, clock: Clock):
        super().__init__(config, sink, clock)
        seed = config.seed if config.seed is not None else hash(config.id) & 0xFFFF_FFFF
        self._rng = random.Random(seed)
        self._active = False
        self._next: datetime | None = None

    def start(self) -> None:
        now = self.clock()
        # square mode starts occupied; random starts vacant
        self._active = self.config.mode == "square"
        self._emit(now)
        self._next = now + self._spell()

    def _spell(self) -> timedelta:
        cfg = self.config
        mean = cfg.occupied_s if self._active else cfg.vacant_s
        if cfg.mode == "square":
            return timedelta(seconds=mean)
        return timedelta(seconds=max(1.0, self._rng.expovariate(1.0 / mean)))

    def _emit(self, at: datetime) -> None:
        people = None
        if self.config.max_people is not None:
            people = self._rng.randint(1, self.config.max_people) if self._active else 0
        self.sink(
            Reading(self.sensor_id, at, self._active, people, battery_pct=self.config.battery_pct)
        )

    def poll(self, now: datetime) -> None:
        while self._next is not None and self._next <= now:
            self._active = not self._active
            self._emit(self._next)
            self._next = self._next + self._spell()
