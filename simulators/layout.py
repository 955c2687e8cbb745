"""The site as the simulator sees it: spaces, sensors and agents as index arrays.

Built once per run; every later step works on integer indices so that the
per-day generation can be vectorised with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property

import numpy as np

from core.registry import ROOM_TYPES, Site, SpaceType
from simulators.scenario import HeartbeatPhase, Scenario

MS = 1000
MINUTE_MS = 60 * MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

#: stream ids for numpy SeedSequence, so each part draws from its own stream
STREAM_PEOPLE = 1
STREAM_SENSING = 2
STREAM_FAULTS = 3
STREAM_VISITORS = 4
STREAM_SERIES = 5
STREAM_STATIC = 6
STREAM_DELIVERY = 7
STREAM_DESK_BOOKINGS = 8


def rng_for(seed: int, stream: int, *key: int) -> np.random.Generator:
    """An independent generator per (seed, stream, key...): days never share draws,
    so any day can be generated alone and always comes out the same."""
    return np.random.default_rng([seed, stream, *key])


def to_ms(ts: datetime) -> int:
    if ts.tzinfo is None:
        raise ValueError("naive datetime")
    delta = ts - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * MS + delta.microseconds // 1000


def from_ms(ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(ms))


def iso_ms(ms: int) -> str:
    """ISO 8601 UTC with milliseconds, e.g. ``2026-01-05T06:12:03.120Z``."""
    return from_ms(ms).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def local_ms(site: Site, day: date, t: time) -> int:
    """UTC ms of local time ``t`` on ``day`` (exact across DST changes)."""
    return to_ms(datetime.combine(day, t, tzinfo=site.tz))


def _frozen(a: np.ndarray) -> np.ndarray:
    """``a`` made read-only: a cached array is shared by every caller."""
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Layout:
    site: Site
    scenario: Scenario
    space_ids: list[str]
    sensor_ids: list[str]
    space_types: list[SpaceType]
    zone_ids: list[str]
    agent_ids: list[str]
    agent_of: np.ndarray  # int32 per space: index into agent_ids
    counting: np.ndarray  # bool per space: the sensor reports people_count
    capacity: np.ndarray  # int32 per space
    hb_ms: int
    hb_phase_ms: np.ndarray  # int64 per space, heartbeat grid offset
    health_phase_ms: np.ndarray  # int64 per agent
    battery_start: np.ndarray  # float per space, % at BATTERY_EPOCH
    battery_drain: np.ndarray  # float per space, % per day
    index: dict[str, int] = field(default_factory=dict)
    agent_index: dict[str, int] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.space_ids)

    def spaces_of_agent(self, agent: int) -> np.ndarray:
        return self._spaces_by_agent[agent]

    # Per-layout constants, computed once: the per-day generation asks for them
    # thousands of times. (``cached_property`` writes the instance ``__dict__``
    # directly, so it works on this frozen dataclass.) Callers must not mutate them.
    @cached_property
    def _spaces_by_agent(self) -> list[np.ndarray]:
        return [_frozen(np.flatnonzero(self.agent_of == g)) for g in range(len(self.agent_ids))]

    @cached_property
    def idle_count(self) -> np.ndarray:
        """Per space, the count a free sensor reports: 0 when it counts, else -1 (int32)."""
        return _frozen(np.where(self.counting, 0, -1).astype(np.int32))

    def desks(self) -> np.ndarray:
        return np.array(
            [i for i, t in enumerate(self.space_types) if t is SpaceType.DESK], dtype=np.int64
        )

    def rooms(self) -> list[int]:
        return [i for i, t in enumerate(self.space_types) if t in ROOM_TYPES]


BATTERY_EPOCH_MS = to_ms(datetime(2024, 1, 1, tzinfo=UTC))


def build_layout(site: Site, scenario: Scenario) -> Layout:
    """Spaces with a sensor (registry binding or scenario override), in registry order."""
    spaces = [s for s in site.spaces if s.sensor is not None or s.id in scenario.agents]
    if not spaces:
        raise ValueError(f"site {site.id!r} has no space with a sensor to simulate")
    agent_names: list[str] = []
    for i, s in enumerate(spaces):
        if scenario.sensors_per_agent:
            agent_names.append(f"sim-{site.id}-{i // scenario.sensors_per_agent:03d}"[:64])
        elif s.id in scenario.agents:
            agent_names.append(scenario.agents[s.id])
        else:
            assert s.sensor is not None
            agent_names.append(s.sensor.agent)
    agent_ids = sorted(set(agent_names))
    agent_index = {a: k for k, a in enumerate(agent_ids)}
    n = len(spaces)
    rng = rng_for(scenario.seed, STREAM_STATIC)
    hb_s = scenario.sensors.heartbeat_s or site.heartbeat_s
    hb_ms = round(hb_s * MS)
    if scenario.sensors.heartbeat_phase is HeartbeatPhase.ALIGNED:
        phase = np.zeros(n, dtype=np.int64)
        health_phase = np.zeros(len(agent_ids), dtype=np.int64)
    else:
        phase = rng.integers(0, hb_ms, n).astype(np.int64)
        health_ms = round(scenario.sensors.health_interval_s * MS)
        health_phase = rng.integers(0, health_ms, len(agent_ids)).astype(np.int64)
    lo, hi = scenario.sensors.battery_drain_pct_day
    counting_types = set(scenario.sensors.counting_types)
    return Layout(
        site=site,
        scenario=scenario,
        space_ids=[s.id for s in spaces],
        sensor_ids=[s.sensor.id if s.sensor else f"s-{s.id}"[:64] for s in spaces],
        space_types=[s.type for s in spaces],
        zone_ids=[s.zone for s in spaces],
        agent_ids=agent_ids,
        agent_of=np.array([agent_index[a] for a in agent_names], dtype=np.int32),
        counting=np.array([s.type.value in counting_types for s in spaces], dtype=bool),
        capacity=np.array([s.capacity for s in spaces], dtype=np.int32),
        hb_ms=hb_ms,
        hb_phase_ms=phase,
        health_phase_ms=health_phase,
        battery_start=rng.uniform(40.0, 100.0, n),
        battery_drain=rng.uniform(lo, hi, n),
        index={s.id: i for i, s in enumerate(spaces)},
        agent_index=agent_index,
    )


def battery_pct(layout: Layout, t_ms: int, spaces: np.ndarray | None = None) -> np.ndarray:
    """Battery of every sensor (or of ``spaces``) at ``t_ms``: a sawtooth, replaced
    when nearly empty. Element-wise, so a subset gives the same values."""
    floor = layout.scenario.sensors.battery_replace_below
    span = 100.0 - floor
    days = (t_ms - BATTERY_EPOCH_MS) / DAY_MS
    start, drain = layout.battery_start, layout.battery_drain
    if spaces is not None:
        start, drain = start[spaces], drain[spaces]
    used = (100.0 - start) + drain * days
    return np.round(100.0 - np.mod(used, span), 1)
