"""What the simulator simulates: people, sensors and faults, as one validated model.

Every default is calibrated (see ``docs/simulator.md``): on an average working
day about a third of an agency's staff come in, Tuesday to Thursday more than
Monday and Friday. A scenario file (YAML) overrides any of it; unknown keys are
errors with their line, like the site registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from core.ids import Ident
from core.timeutil import UtcDatetime
from core.yamlfile import YamlFileError, load_located, validation_problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WeekdayShare(_Strict):
    """Probability that a person comes to the office on each weekday."""

    # Placer.ai's weekday shares of US office visits in Q4/2022 (Mon 18.8 %,
    # Tue 24.3 %, Wed 23.0 %, Thu 20.9 %, Fri 13.0 %) scaled to a mean daily
    # presence of 0.36, which gives a measured use rate (share of staff
    # present at a moment) near the ministries' 32 %; see docs/simulator.md.
    mon: float = Field(default=0.34, ge=0, le=1)
    tue: float = Field(default=0.44, ge=0, le=1)
    wed: float = Field(default=0.41, ge=0, le=1)
    thu: float = Field(default=0.38, ge=0, le=1)
    fri: float = Field(default=0.23, ge=0, le=1)
    sat: float = Field(default=0.0, ge=0, le=1)
    sun: float = Field(default=0.0, ge=0, le=1)

    def of(self, weekday: int) -> float:
        return float(
            (self.mon, self.tue, self.wed, self.thu, self.fri, self.sat, self.sun)[weekday]
        )


class People(_Strict):
    office_day: WeekdayShare = Field(default_factory=WeekdayShare)
    #: per agency multiplier of the office-day probability (agency id -> factor)
    agency_factor: dict[str, float] = Field(default_factory=dict)
    arrival_mean: time = time(8, 15)
    arrival_sd_min: float = Field(default=45.0, ge=0)
    stay_mean_h: float = Field(default=7.4, gt=0)
    stay_sd_h: float = Field(default=1.1, ge=0)
    min_stay_h: float = Field(default=2.0, gt=0)
    lunch_share: float = Field(default=0.8, ge=0, le=1, description="Who leave the desk for lunch.")
    lunch_mean: time = time(11, 20)
    lunch_sd_min: float = Field(default=25.0, ge=0)
    lunch_min: float = Field(default=35.0, gt=0, description="Mean lunch absence, minutes.")
    breaks_per_day: float = Field(default=1.5, ge=0, description="Short breaks (Poisson mean).")
    break_min: tuple[float, float] = (4.0, 15.0)
    #: who book the shared desk they sit at, for the time they are in (desk
    #: booking); 0: nobody books a desk (the default, as before)
    shared_desk_booking: float = Field(default=0.0, ge=0, le=1)


class Meetings(_Strict):
    #: booked meetings per bookable room per open day (Poisson mean), by room type
    per_room_day: dict[str, float] = Field(
        default_factory=lambda: {
            "meeting_room": 3.0,
            "project_room": 1.5,
            "focus_room": 1.5,
            "phone_booth": 0.0,
        }
    )
    durations_min: list[int] = Field(default_factory=lambda: [30, 60, 60, 90, 120])
    day_start: time = time(8, 0)
    day_end: time = time(16, 30)
    no_show: float = Field(default=0.12, ge=0, le=1)
    late_start_max_min: float = Field(default=8.0, ge=0)
    early_end_max_min: float = Field(default=10.0, ge=0)
    #: walk-in uses without a booking per room per open day (Poisson mean), by room type
    walk_in_per_room_day: dict[str, float] = Field(
        default_factory=lambda: {
            "meeting_room": 0.8,
            "project_room": 0.5,
            "focus_room": 1.5,
            "phone_booth": 4.0,
        }
    )
    walk_in_min: tuple[float, float] = (10.0, 45.0)
    #: weekly recurring meetings per agency (one series each, in a room that fits)
    recurring_per_agency: int = Field(default=1, ge=0, le=5)
    #: attendees of a meeting are drawn from present staff, whose desks empty meanwhile
    attendees_leave_desks: bool = True


class VisitorWeekday(_Strict):
    """How busy the service point is on each weekday, relative to an average day
    (an assumption, docs/simulator.md: Monday busiest, Friday quietest)."""

    mon: float = Field(default=1.25, ge=0, le=5)
    tue: float = Field(default=1.05, ge=0, le=5)
    wed: float = Field(default=1.0, ge=0, le=5)
    thu: float = Field(default=0.95, ge=0, le=5)
    fri: float = Field(default=0.75, ge=0, le=5)
    sat: float = Field(default=0.0, ge=0, le=5)
    sun: float = Field(default=0.0, ge=0, le=5)

    def of(self, weekday: int) -> float:
        return float(
            (self.mon, self.tue, self.wed, self.thu, self.fri, self.sat, self.sun)[weekday]
        )


def _default_hourly() -> dict[int, float]:
    # relative arrival rate per local hour: a late-morning peak, a lunch-hour
    # dip, a smaller early-afternoon peak (an assumption, docs/simulator.md)
    return {9: 0.9, 10: 1.3, 11: 1.4, 12: 0.9, 13: 1.1, 14: 1.0, 15: 0.7}


class Visitors(_Strict):
    """Customers at the service point (spaces of type service_point and lounge),
    and the people counter at its door (the site's entrance serving that zone)."""

    per_counter_day: float = Field(default=22.0, ge=0)
    service_start: time = time(9, 0)
    service_end: time = time(16, 0)
    service_mean_min: float = Field(default=11.0, gt=0)
    party_of_two: float = Field(default=0.2, ge=0, le=1)
    #: arrivals per local hour, relative (hours left out get none)
    hourly: dict[int, float] = Field(default_factory=_default_hourly)
    #: customers per weekday, relative to per_counter_day
    weekday: VisitorWeekday = Field(default_factory=VisitorWeekday)
    #: the door counter's reporting interval (a VS133 reports every 5-60 min)
    counts_interval_s: int = Field(default=900, ge=60, le=3600)

    @field_validator("hourly")
    @classmethod
    def _hours(cls, value: dict[int, float]) -> dict[int, float]:
        for hour, weight in value.items():
            if not 0 <= hour <= 23 or weight < 0:
                raise ValueError(f"hourly: hour {hour} must be 0-23 and weight {weight} >= 0")
        return value

    @field_validator("counts_interval_s")
    @classmethod
    def _divides_the_hour(cls, value: int) -> int:
        if 3600 % value:
            raise ValueError("counts_interval_s must divide the hour (300, 600, 900, ...)")
        return value


class HeartbeatPhase(StrEnum):
    RANDOM = "random"
    ALIGNED = "aligned"


class Sensors(_Strict):
    latency_s: tuple[float, float] = Field(default=(1.0, 5.0), description="PIR detection delay.")
    hold_s: float = Field(default=60.0, ge=0, description="PIR hold time after the last motion.")
    #: None: the site's heartbeat_s. Each message states its interval, so a
    #: longer one is honest: the metrics treat silence past 2.5x it as unknown.
    heartbeat_s: float | None = Field(default=None, gt=0, le=86_400)
    heartbeat_phase: HeartbeatPhase = HeartbeatPhase.RANDOM
    health_interval_s: float = Field(default=3600.0, gt=0)
    battery_drain_pct_day: tuple[float, float] = (0.15, 0.35)
    battery_replace_below: float = Field(default=5.0, ge=0, le=100)
    #: space types whose sensors count people (people_count); others report presence only
    counting_types: list[str] = Field(
        default_factory=lambda: ["meeting_room", "project_room", "service_point", "lounge"]
    )
    agent_version: str = "sim-1"

    @model_validator(mode="after")
    def _latency_below_hold(self) -> Sensors:
        lo, hi = self.latency_s
        if not 0 <= lo <= hi:
            raise ValueError("latency_s must be (min, max) with 0 <= min <= max")
        if hi > self.hold_s and self.hold_s > 0:
            raise ValueError("latency_s max must not exceed hold_s")
        return self


class FaultKind(StrEnum):
    STUCK_OCCUPIED = "stuck_occupied"
    FLAPPING = "flapping"
    SILENT = "silent"
    AGENT_OFFLINE = "agent_offline"
    DUPLICATES = "duplicates"
    OUT_OF_ORDER = "out_of_order"
    CLOCK_SKEW = "clock_skew"


#: faults aimed at one sensor (space); the others at an agent
SPACE_FAULTS = frozenset({FaultKind.STUCK_OCCUPIED, FaultKind.FLAPPING, FaultKind.SILENT})


class Fault(_Strict):
    """One injected fault. ``target`` is a space id (sensor faults) or an agent id."""

    kind: FaultKind
    target: Ident
    start: UtcDatetime
    end: UtcDatetime
    #: flapping: mean seconds between toggles; duplicates: share duplicated;
    #: out_of_order: max delay s; clock_skew: skew s (sensor clock minus true time)
    param: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Fault:
        if self.end <= self.start:
            raise ValueError("fault end must be after its start")
        return self


class RandomFaults(_Strict):
    """Faults drawn from the seed: expected count per kind per 30 open days."""

    per_30_days: dict[FaultKind, float] = Field(
        default_factory=lambda: {
            FaultKind.STUCK_OCCUPIED: 1.0,
            FaultKind.FLAPPING: 1.0,
            FaultKind.SILENT: 1.0,
            FaultKind.AGENT_OFFLINE: 0.5,
            FaultKind.DUPLICATES: 1.0,
            FaultKind.OUT_OF_ORDER: 1.0,
            FaultKind.CLOCK_SKEW: 0.5,
        }
    )
    duration_h: tuple[float, float] = (0.5, 6.0)


class ScriptedSpell(_Strict):
    """A fixed true occupancy spell (for hand-checkable scenarios)."""

    space: Ident
    start: UtcDatetime
    end: UtcDatetime
    count: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> ScriptedSpell:
        if self.end <= self.start:
            raise ValueError("spell end must be after its start")
        return self


class ScriptedBooking(_Strict):
    space: Ident
    agency: Ident
    start: UtcDatetime
    end: UtcDatetime
    title: str = "Meeting"


class Scenario(_Strict):
    seed: int = Field(default=1, ge=0)
    #: "model": people are simulated; "script": only ``script`` spells happen
    occupancy: Literal["model", "script"] = "model"
    script: list[ScriptedSpell] = Field(default_factory=list)
    script_bookings: list[ScriptedBooking] = Field(default_factory=list)
    people: People = Field(default_factory=People)
    meetings: Meetings = Field(default_factory=Meetings)
    visitors: Visitors = Field(default_factory=Visitors)
    sensors: Sensors = Field(default_factory=Sensors)
    faults: list[Fault] = Field(default_factory=list)
    random_faults: RandomFaults | None = Field(default_factory=RandomFaults)
    #: space id -> agent id, overriding the registry's sensor binding
    agents: dict[str, Ident] = Field(default_factory=dict)
    #: when set, spaces are regrouped into simulated agents of this many sensors
    sensors_per_agent: int | None = Field(default=None, ge=1, le=1000)

    def with_seed(self, seed: int) -> Scenario:
        return self.model_copy(update={"seed": seed})

    def without_faults(self) -> Scenario:
        return self.model_copy(update={"faults": [], "random_faults": None})


def load_scenario(file: Path | str) -> Scenario:
    """Load a scenario YAML file; errors name the file, line and field."""
    path = Path(file)
    located = load_located(path)
    data = located.data if located.data is not None else {}
    if not isinstance(data, Mapping):
        raise YamlFileError(path, [(1, "", "a scenario file must be a mapping of keys to values")])
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise YamlFileError(path, validation_problems(located, exc.errors())) from None
