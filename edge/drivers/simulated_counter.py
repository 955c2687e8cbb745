"""A simulated people counter, for development, demos and tests without hardware.

Like the simulated presence sensor, it runs on the agent's clock: a clock that
jumps ahead produces every interval in between, each with its own end time.
Each interval of ``interval_s`` (on a grid aligned to the epoch, so to the
hour) has Poisson arrivals at ``per_hour`` people an hour; everyone inside
leaves in an interval with probability 1 - exp(-interval / dwell_s), so in and
out balance over a day. It keeps running totals, as a real counter does.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.ids import Ident
from edge.drivers.base import CounterReading


class SimulatedCounterConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["simulated"]
    id: Ident = Field(description="Counter id, as bound to the entrance in the site registry.")
    entrance: Ident = Field(description="Entrance id this counter reports for.")
    interval_s: float = Field(default=600.0, ge=10, le=86_400)
    per_hour: float = Field(default=30.0, ge=0, le=10_000, description="Mean arrivals an hour.")
    dwell_s: float = Field(default=900.0, gt=0, description="Mean stay inside.")
    seed: int | None = None

    @model_validator(mode="after")
    def _within_the_contract(self) -> SimulatedCounterConfig:
        # an interval's count must stay under the contract's 100,000 with room to spare
        if self.per_hour * self.interval_s / 3600.0 > 10_000:
            raise ValueError("per_hour x interval_s gives over 10,000 arrivals an interval")
        return self


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method for small means, a rounded normal for large ones
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


class SimulatedCounter:
    def __init__(self, config: SimulatedCounterConfig, clock_start: datetime):
        self.config = config
        seed = config.seed if config.seed is not None else hash(config.id) & 0xFFFF_FFFF
        self._rng = random.Random(seed)
        step = config.interval_s
        epoch = clock_start.timestamp()
        self._next = datetime.fromtimestamp((epoch // step + 1) * step, UTC)
        self.inside = 0
        self.total_in = 0
        self.total_out = 0

    def poll(self, now: datetime) -> list[CounterReading]:
        """Readings of every interval that ended by ``now``."""
        cfg = self.config
        out: list[CounterReading] = []
        leave_p = 1.0 - math.exp(-cfg.interval_s / cfg.dwell_s)
        while self._next <= now:
            came = _poisson(self._rng, cfg.per_hour * cfg.interval_s / 3600.0)
            left = sum(1 for _ in range(self.inside) if self._rng.random() < leave_p)
            self.inside += came - left
            self.total_in += came
            self.total_out += left
            reading = CounterReading(
                cfg.id, cfg.entrance, self._next, came, left, cfg.interval_s,
                self.total_in, self.total_out,
            )  # fmt: skip
            out.append(reading)
            self._next += timedelta(seconds=cfg.interval_s)
        return out
