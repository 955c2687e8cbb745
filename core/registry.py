"""Site registry: one strictly validated YAML file per site; a folder is a portfolio.

Every error names the file, the line and the field (see ``core.yamlfile``).
"""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, time
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from core.ids import Ident
from core.yamlfile import (
    ConfigError,
    YamlFileError,
    field_name,
    load_located,
    validation_problems,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class SpaceType(StrEnum):
    DESK = "desk"
    MEETING_ROOM = "meeting_room"
    PHONE_BOOTH = "phone_booth"
    FOCUS_ROOM = "focus_room"
    PROJECT_ROOM = "project_room"
    SERVICE_POINT = "service_point"
    LOUNGE = "lounge"


#: Space types that are booked as rooms (others are desks or drop-in spaces).
ROOM_TYPES = frozenset(
    {SpaceType.MEETING_ROOM, SpaceType.PROJECT_ROOM, SpaceType.FOCUS_ROOM, SpaceType.PHONE_BOOTH}
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Agency(_Strict):
    id: Ident
    name: str = Field(min_length=1)
    headcount_htv: float = Field(ge=0, description="Person-years (htv) of the agency at this site.")
    persons: int | None = Field(default=None, ge=0, description="Staff on the payroll, if known.")


class PlanSize(_Strict):
    width: float = Field(gt=0, description="metres")
    height: float = Field(gt=0, description="metres")


class Floor(_Strict):
    id: Ident
    name: str = Field(min_length=1)
    level: int
    plan: PlanSize
    area_m2: float | None = Field(default=None, ge=0)


class Zone(_Strict):
    id: Ident
    name: str = Field(min_length=1)
    floor: Ident
    agency: Ident | None = Field(default=None, description="Set when the zone is dedicated.")
    security_class: str | None = Field(default=None, max_length=40)


class Rect(_Strict):
    x: float = Field(ge=0)
    y: float = Field(ge=0)
    w: float = Field(gt=0)
    h: float = Field(gt=0)


class SensorBinding(_Strict):
    id: Ident
    agent: Ident
    model: str | None = Field(default=None, max_length=60)


class Space(_Strict):
    id: Ident
    name: str | None = None
    type: SpaceType
    zone: Ident
    capacity: int = Field(ge=0)
    area_m2: float = Field(ge=0)
    geometry: Rect
    sensor: SensorBinding | None = None


class HolidayCalendar(_Strict):
    country: str = Field(default="FI", min_length=2, max_length=3)
    subdivision: str | None = None


def _parse_hhmm(text: str) -> time:
    hh, mm = text.split(":")
    if hh == "24" and mm == "00":
        return time.max
    return time(int(hh), int(mm))


class OpeningHours(_Strict):
    """Per weekday, a list of ``"HH:MM-HH:MM"`` ranges in the site's local time."""

    mon: list[str] = Field(default_factory=list)
    tue: list[str] = Field(default_factory=list)
    wed: list[str] = Field(default_factory=list)
    thu: list[str] = Field(default_factory=list)
    fri: list[str] = Field(default_factory=list)
    sat: list[str] = Field(default_factory=list)
    sun: list[str] = Field(default_factory=list)

    @field_validator(*WEEKDAYS)
    @classmethod
    def _ranges(cls, value: list[str]) -> list[str]:
        parsed = []
        for text in value:
            try:
                a, b = (s.strip() for s in text.split("-"))
                start, end = _parse_hhmm(a), _parse_hhmm(b)
            except ValueError as exc:
                raise ValueError(f"{text!r} is not a range like '08:00-16:30'") from exc
            if start >= end:
                raise ValueError(f"{text!r} ends before it starts")
            parsed.append((start, end, text))
        parsed.sort()
        for (_, end1, t1), (start2, _, t2) in itertools.pairwise(parsed):
            if start2 < end1:
                raise ValueError(f"opening hours {t1!r} and {t2!r} overlap")
        return value

    def ranges(self, weekday: int) -> list[tuple[time, time]]:
        """Ranges for ``date.weekday()`` (0 = Monday), sorted."""
        texts: list[str] = getattr(self, WEEKDAYS[weekday])
        out = []
        for text in texts:
            a, b = (s.strip() for s in text.split("-"))
            out.append((_parse_hhmm(a), _parse_hhmm(b)))
        return sorted(out)


class Site(_Strict):
    id: Ident
    name: str = Field(min_length=1)
    timezone: str
    opening_hours: OpeningHours
    holidays: HolidayCalendar = Field(default_factory=HolidayCalendar)
    closures: list[date] = Field(default_factory=list)
    area_m2: float = Field(ge=0, description="Office area used for space efficiency (m²).")
    target_m2_per_htv: float = Field(default=10.0, gt=0)
    heartbeat_s: float = Field(default=300.0, gt=0, le=86_400)
    agencies: list[Agency] = Field(min_length=1)
    floors: list[Floor] = Field(min_length=1)
    zones: list[Zone] = Field(min_length=1)
    spaces: list[Space] = Field(min_length=1)

    _spaces: dict[str, Space] = PrivateAttr(default_factory=dict)
    _zones: dict[str, Zone] = PrivateAttr(default_factory=dict)
    _floors: dict[str, Floor] = PrivateAttr(default_factory=dict)
    _agencies: dict[str, Agency] = PrivateAttr(default_factory=dict)
    _tags: dict[str, dict[str, str]] = PrivateAttr(default_factory=dict)
    _version: str = PrivateAttr(default="")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name like 'Europe/Helsinki')"
            ) from exc
        return value

    def model_post_init(self, context: Any, /) -> None:
        self._spaces = {s.id: s for s in self.spaces}
        self._zones = {z.id: z for z in self.zones}
        self._floors = {f.id: f for f in self.floors}
        self._agencies = {a.id: a for a in self.agencies}
        # Built once: the ingest asks for a space's tags for every message.
        self._tags = {
            s.id: {
                "site": self.id,
                "floor": self._zones[s.zone].floor if s.zone in self._zones else "",
                "zone": s.zone,
                "space": s.id,
                "space_type": s.type.value,
            }
            for s in self.spaces
        }

    # ---- lookups -------------------------------------------------------
    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def version(self) -> str:
        """Content hash of the site file this was loaded from (for audit trails)."""
        return self._version

    def space(self, space_id: str) -> Space:
        return self._spaces[space_id]

    def has_space(self, space_id: str) -> bool:
        return space_id in self._spaces

    def zone(self, zone_id: str) -> Zone:
        return self._zones[zone_id]

    def floor(self, floor_id: str) -> Floor:
        return self._floors[floor_id]

    def agency(self, agency_id: str) -> Agency:
        return self._agencies[agency_id]

    def floor_of(self, space_id: str) -> Floor:
        return self._floors[self._zones[self._spaces[space_id].zone].floor]

    def spaces_of_agent(self, agent_id: str) -> list[Space]:
        return [s for s in self.spaces if s.sensor is not None and s.sensor.agent == agent_id]

    def agents(self) -> list[str]:
        return sorted({s.sensor.agent for s in self.spaces if s.sensor is not None})

    def space_tags(self, space_id: str) -> Mapping[str, str]:
        """The storage tags of a space's points (DESIGN.md: site, floor, zone, space,
        type). Shared between calls: read it, do not change it."""
        return self._tags[space_id]

    def reference_problems(self) -> Iterator[tuple[tuple[str | int, ...], str]]:
        """Cross-reference checks that a single field cannot make."""
        groups: tuple[tuple[str, Sequence[Agency | Floor | Zone | Space]], ...] = (
            ("agencies", self.agencies),
            ("floors", self.floors),
            ("zones", self.zones),
            ("spaces", self.spaces),
        )
        for kind, items in groups:
            counts = Counter(item.id for item in items)
            first: dict[str, int] = {}
            for i, item in enumerate(items):
                if counts[item.id] > 1:
                    if item.id in first:
                        yield (
                            (kind, i, "id"),
                            (f"duplicate id {item.id!r} (first at {kind}[{first[item.id]}])"),
                        )
                    else:
                        first[item.id] = i
        for i, zone in enumerate(self.zones):
            if zone.floor not in self._floors:
                yield ("zones", i, "floor"), f"unknown floor {zone.floor!r}"
            if zone.agency is not None and zone.agency not in self._agencies:
                yield ("zones", i, "agency"), f"unknown agency {zone.agency!r}"
        sensors: dict[str, int] = {}
        for i, space in enumerate(self.spaces):
            if space.zone not in self._zones:
                yield ("spaces", i, "zone"), f"unknown zone {space.zone!r}"
                continue
            floor = self._floors.get(self._zones[space.zone].floor)
            g = space.geometry
            if floor is not None and (
                g.x + g.w > floor.plan.width or g.y + g.h > floor.plan.height
            ):
                yield (
                    ("spaces", i, "geometry"),
                    (
                        f"lies outside the floor plan of {floor.id!r} "
                        f"({floor.plan.width} x {floor.plan.height} m)"
                    ),
                )
            if space.sensor is not None:
                if space.sensor.id in sensors:
                    yield (
                        ("spaces", i, "sensor", "id"),
                        (
                            f"sensor {space.sensor.id!r} is already bound to "
                            f"spaces[{sensors[space.sensor.id]}]"
                        ),
                    )
                sensors[space.sensor.id] = i


def _version_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def load_site(file: Path | str) -> Site:
    """Load and strictly validate one site file; raises ``YamlFileError``."""
    path = Path(file)
    located = load_located(path)
    if not isinstance(located.data, Mapping):
        raise YamlFileError(path, [(1, "", "a site file must be a mapping of keys to values")])
    try:
        site = Site.model_validate(located.data)
    except ValidationError as exc:
        raise YamlFileError(path, validation_problems(located, exc.errors())) from None
    problems = [
        (located.line_of(loc), field_name(loc), msg) for loc, msg in site.reference_problems()
    ]
    if problems:
        raise YamlFileError(path, problems)
    site._version = _version_of(path.read_bytes())
    return site


class Registry:
    """All sites of a portfolio, keyed by site id."""

    def __init__(self, sites: Mapping[str, Site]):
        self._sites = dict(sites)

    def __iter__(self) -> Iterator[Site]:
        return iter(self._sites.values())

    def __len__(self) -> int:
        return len(self._sites)

    def __contains__(self, site_id: object) -> bool:
        return site_id in self._sites

    def site(self, site_id: str) -> Site:
        return self._sites[site_id]

    def get(self, site_id: str) -> Site | None:
        return self._sites.get(site_id)

    @property
    def ids(self) -> list[str]:
        return sorted(self._sites)

    @property
    def version(self) -> str:
        return _version_of("".join(f"{s.id}:{s.version};" for s in self).encode())


def load_registry(path: Path | str) -> Registry:
    """Load a site file, or every ``*.yaml``/``*.yml`` file of a folder."""
    root = Path(path)
    if root.is_dir():
        files = sorted([*root.glob("*.yaml"), *root.glob("*.yml")])
        if not files:
            raise YamlFileError(root, [(None, "", "no site files (*.yaml) in this folder")])
    elif root.exists():
        files = [root]
    else:
        raise YamlFileError(root, [(None, "", "no such file or folder")])
    sites: dict[str, Site] = {}
    problems: list[str] = []
    for f in files:
        try:
            site = load_site(f)
        except YamlFileError as exc:
            problems.append(exc.render())
            continue
        if site.id in sites:
            problems.append(f"{f}: id: site {site.id!r} is defined twice")
        sites[site.id] = site
    if problems:
        raise ConfigError("\n".join(problems))
    return Registry(sites)
