"""Site registry: one strictly validated YAML file per site; a folder is a portfolio.

Every error names the file, the line and the field (see ``core.yamlfile``).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
from collections.abc import Iterator, Mapping
from datetime import date, time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from core.business_id import check_business_id

if TYPE_CHECKING:
    from core.portfolio import LoadedPortfolio
from core.ids import Ident
from core.plan_image import PlanImageError, plan_image_size
from core.site_checks import reference_problems
from core.suggest import did_you_mean
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


#: Languages of the product; ``name`` is the Finnish (or only) name.
LANGUAGES = ("fi", "sv", "en")


class _Named(_Strict):
    """Something with a display name, optionally translated (``name_sv``,
    ``name_en``); ``name`` is used where a translation is missing."""

    name_sv: str | None = Field(default=None, min_length=1, max_length=200)
    name_en: str | None = Field(default=None, min_length=1, max_length=200)

    def name_in(self, lang: str) -> str | None:
        own = {"sv": self.name_sv, "en": self.name_en}.get(lang)
        return own or getattr(self, "name", None)


class Agency(_Named):
    id: Ident
    name: str = Field(min_length=1)
    headcount_htv: float = Field(ge=0, description="Person-years (htv) of the agency at this site.")
    persons: int | None = Field(default=None, ge=0, description="Staff on the payroll, if known.")
    business_id: str | None = Field(
        default=None, description="Y-tunnus, checked by its check digit (statements)."
    )
    cost_centre: str | None = Field(
        default=None, min_length=1, max_length=40, description="Printed on statements."
    )

    @field_validator("business_id")
    @classmethod
    def _business_id(cls, value: str | None) -> str | None:
        return None if value is None else check_business_id(value)


class PlanSize(_Strict):
    width: float = Field(gt=0, description="metres")
    height: float = Field(gt=0, description="metres")


class PlanOrigin(_Strict):
    x: float = Field(description="pixels from the image's left edge")
    y: float = Field(description="pixels from the image's top edge")


#: Image types a floor plan may be, by file suffix (media type as served).
PLAN_IMAGE_TYPES = {".svg": "image/svg+xml", ".png": "image/png"}


class PlanImage(_Strict):
    """The building's own drawing of a floor, drawn under the spaces.

    ``file`` is relative to the folder of the site file (or absolute), like an
    include: a site file and its plans move together. ``scale`` is metres per
    pixel; ``origin`` is the pixel where the plan's (0, 0) lies."""

    file: str = Field(min_length=1, max_length=500)
    scale: float = Field(gt=0, le=10, description="metres per pixel")
    origin: PlanOrigin = Field(default_factory=lambda: PlanOrigin(x=0, y=0))

    @field_validator("file")
    @classmethod
    def _image_type(cls, value: str) -> str:
        if Path(value).suffix.lower() not in PLAN_IMAGE_TYPES:
            raise ValueError(f"{value!r} is not a plan image (give an .svg or .png file)")
        return value


class Floor(_Named):
    id: Ident
    name: str = Field(min_length=1)
    level: int
    plan: PlanSize
    area_m2: float | None = Field(default=None, ge=0)
    image: PlanImage | None = None


class Conditioning(_Strict):
    """When a zone is heated, ventilated and lit: its HVAC schedule
    (docs/metrics.md, "Energy of empty conditioned space")."""

    schedule: OpeningHours | None = Field(
        default=None, description="Ranges per weekday like opening_hours; unset: the site's."
    )
    on_closed_days: bool = Field(
        default=False,
        description="Conditioned on public holidays and closure days too (a building "
        "automation without the site's calendar).",
    )


class Zone(_Named):
    id: Ident
    name: str = Field(min_length=1)
    floor: Ident
    agency: Ident | None = Field(default=None, description="Set when the zone is dedicated.")
    security_class: str | None = Field(default=None, max_length=40)
    system: Literal["hvac", "lighting"] | None = Field(
        default=None,
        description="The building system the zone is, if any (the Brick export's HVAC or "
        "lighting zone); unset: a zone of spaces.",
    )
    conditioning: Conditioning | None = Field(
        default=None, description="The zone's HVAC schedule; unset: the site's opening hours."
    )


class Rect(_Strict):
    x: float = Field(ge=0)
    y: float = Field(ge=0)
    w: float = Field(gt=0)
    h: float = Field(gt=0)


class SensorBinding(_Strict):
    id: Ident
    agent: Ident
    model: str | None = Field(default=None, max_length=60)


class Space(_Named):
    id: Ident
    name: str | None = None
    type: SpaceType
    zone: Ident
    capacity: int = Field(ge=0)
    area_m2: float = Field(ge=0)
    geometry: Rect
    sensor: SensorBinding | None = None


class Entrance(_Named):
    """A door with a people counter: what it counts serves one zone (a customer
    service point, or a whole floor's entrance). Its counts arrive as
    ``entrance_counts`` messages (core.messages.EntranceCounts)."""

    id: Ident
    name: str = Field(min_length=1)
    zone: Ident = Field(description="The zone (service point) whose visitors it counts.")
    counter: SensorBinding | None = Field(
        default=None, description="The people counter and the agent that reads it."
    )


class ServiceClasses(_Strict):
    """Service-point size classes (L, M, S, mobile XS) by measured demand: the
    smallest number of visits on a busy day (the 90th percentile of daily
    visits) that each class is for. Below ``s``: XS. The defaults are
    assumptions of this project, not programme figures (docs/metrics.md,
    "Service points"): the programme names the classes but gives no numbers."""

    l: int = Field(default=200, ge=1, description="Busy-day visits from which L fits.")  # noqa: E741
    m: int = Field(default=80, ge=1, description="Busy-day visits from which M fits.")
    s: int = Field(default=20, ge=1, description="Busy-day visits from which S fits (else XS).")

    @model_validator(mode="after")
    def _descending(self) -> ServiceClasses:
        if not self.l > self.m > self.s:
            raise ValueError(
                f"class thresholds must fall from L to S (got {self.l}, {self.m}, {self.s})"
            )
        return self


class ServiceSettings(_Strict):
    """The ``service`` block of a site file: how visits at its entrances are judged."""

    classes: ServiceClasses = Field(default_factory=ServiceClasses)
    max_per_minute: float = Field(
        default=300,
        gt=0,
        description="More people than this a minute through one entrance is an absurd count "
        "(flagged and left out of the figures); an assumption, see docs/metrics.md.",
    )


class HolidayCalendar(_Strict):
    """A public-holiday calendar of the ``holidays`` package. A site without
    public holidays says ``holidays: none``; leaving the key out means Finland
    (DESIGN.md: "Finnish calendar by default")."""

    country: str = Field(min_length=2, max_length=3, description="ISO 3166 code, e.g. FI.")
    subdivision: str | None = None

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        # Refused here, at start-up, not by the first report that needs the
        # calendar (which used to answer with a plain-text HTTP 500).
        supported = _supported_countries()
        if value not in supported:
            raise ValueError(
                f"unknown country code {value!r}{did_you_mean(value, supported)}; "
                "give one the holidays package knows (e.g. FI, SE), or write holidays: none"
            )
        return value

    @model_validator(mode="after")
    def _known_subdivision(self) -> HolidayCalendar:
        subdivisions = _supported_countries()[self.country]
        if self.subdivision is not None and self.subdivision not in subdivisions:
            hint = did_you_mean(self.subdivision, subdivisions)
            known = ", ".join(subdivisions[:12]) or "none"
            raise ValueError(
                f"subdivision {self.subdivision!r} is not one of {self.country}'s{hint} "
                f"(known: {known})"
            )
        return self


@functools.cache
def _supported_countries() -> dict[str, list[str]]:
    import holidays as holidays_lib  # only when a site names a calendar

    return {k: list(v) for k, v in holidays_lib.list_supported_countries().items()}


#: ``holidays: none``: the site observes no public holidays.
NO_HOLIDAYS = "none"


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


class EnergySettings(_Strict):
    """Assumptions of the energy figures (defaults and their sources:
    docs/metrics.md, "Energy of empty conditioned space")."""

    intensity_kwh_per_m2_h: float = Field(
        default=0.087, gt=0, le=10, description="kWh per m² per conditioned hour."
    )
    emission_g_per_kwh: float = Field(default=139.0, ge=0, le=2000, description="g CO2 per kWh.")


class Site(_Named):
    id: Ident
    name: str = Field(min_length=1)
    timezone: str
    opening_hours: OpeningHours
    holidays: HolidayCalendar | None = Field(
        default_factory=lambda: HolidayCalendar(country="FI"),
        description="A calendar (country, subdivision), or 'none'; left out: Finland.",
    )
    closures: list[date] = Field(default_factory=list)
    region: Ident | None = Field(
        default=None,
        description="The region (maakunta) of the portfolio the site belongs to, e.g. "
        "'pohjois-karjala'; portfolio reports group by it.",
    )
    municipality: str | None = Field(default=None, min_length=1, max_length=100)
    area_m2: float = Field(ge=0, description="Office area used for space efficiency (m²).")
    target_m2_per_htv: float = Field(default=10.0, gt=0)
    heartbeat_s: float = Field(default=300.0, gt=0, le=86_400)
    agencies: list[Agency] = Field(min_length=1)
    floors: list[Floor] = Field(min_length=1)
    zones: list[Zone] = Field(min_length=1)
    spaces: list[Space] = Field(min_length=1)
    entrances: list[Entrance] = Field(default_factory=list)
    service: ServiceSettings = Field(
        default_factory=lambda: ServiceSettings(),
        description="Service-point size classes and count checks (docs/metrics.md).",
    )
    energy: EnergySettings = Field(default_factory=EnergySettings)

    _spaces: dict[str, Space] = PrivateAttr(default_factory=dict)
    _zones: dict[str, Zone] = PrivateAttr(default_factory=dict)
    _floors: dict[str, Floor] = PrivateAttr(default_factory=dict)
    _agencies: dict[str, Agency] = PrivateAttr(default_factory=dict)
    _entrances: dict[str, Entrance] = PrivateAttr(default_factory=dict)
    _tags: dict[str, dict[str, str]] = PrivateAttr(default_factory=dict)
    _version: str = PrivateAttr(default="")
    _folder: Path | None = PrivateAttr(default=None)

    @field_validator("holidays", mode="before")
    @classmethod
    def _holidays(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and value.strip().lower() == NO_HOLIDAYS):
            return None
        if isinstance(value, Mapping) and not value:
            # Used to mean Finland silently; a site must say what it means.
            raise ValueError(
                "holidays: {} names no calendar; give a country (e.g. country: FI), "
                "or write holidays: none for a site without public holidays"
            )
        return value

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
        self._entrances = {e.id: e for e in self.entrances}
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

    def entrance(self, entrance_id: str) -> Entrance:
        return self._entrances[entrance_id]

    def has_entrance(self, entrance_id: str) -> bool:
        return entrance_id in self._entrances

    def agency(self, agency_id: str) -> Agency:
        return self._agencies[agency_id]

    def plan_image_path(self, floor_id: str) -> Path | None:
        """The file of a floor's plan image (None: the floor has none)."""
        image = self._floors[floor_id].image
        if image is None:
            return None
        return (self._folder or Path.cwd()) / image.file

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
        return reference_problems(self.model_dump(mode="python"))


def _version_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def load_site(file: Path | str) -> Site:
    """Load and strictly validate one site file; raises ``YamlFileError``."""
    path = Path(file)
    located = load_located(path)
    if not isinstance(located.data, Mapping):
        raise YamlFileError(path, [(1, "", "a site file must be a mapping of keys to values")])
    try:
        site: Site | None = Site.model_validate(located.data)
        problems = []
    except ValidationError as exc:
        site = None
        problems = validation_problems(located, exc.errors(), model=Site)
    # Checked on the plain data even when fields are invalid: every problem
    # of the file in one pass, not one stage at a time.
    reported = {field for _, field, _ in problems}
    for loc, msg in reference_problems(located.data):
        if field_name(loc) not in reported:
            problems.append((located.line_of(loc), field_name(loc), msg))
    if problems or site is None:
        raise YamlFileError(path, sorted(problems, key=lambda p: (p[0] or 0, p[1])))
    site._version = _version_of(path.read_bytes())
    site._folder = path.resolve().parent
    bad = [
        (located.line_of(("floors", i, "image", "file")), f"floors.{i}.image.file", problem)
        for i, f in enumerate(site.floors)
        if (problem := _plan_image_problem(site, f.id)) is not None
    ]
    if bad:
        raise YamlFileError(path, bad)
    return site


def _plan_image_problem(site: Site, floor_id: str) -> str | None:
    """Why a floor's plan image cannot be drawn, or None (also None: no image)."""
    image = site.plan_image_path(floor_id)
    if image is None:
        return None
    if not image.is_file():
        return "no such file"
    try:
        plan_image_size(image)
    except (OSError, PlanImageError) as exc:
        return str(exc)
    return None


class Registry:
    """All sites of a portfolio, keyed by site id; ``portfolio``: the folder's
    portfolio file (``core.portfolio``), None when it has none."""

    def __init__(self, sites: Mapping[str, Site], portfolio: LoadedPortfolio | None = None):
        self._sites = dict(sites)
        self.portfolio = portfolio

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
        text = "".join(f"{s.id}:{s.version};" for s in self)
        if self.portfolio is not None:  # its target is part of the sites' figures
            text += f"portfolio:{self.portfolio.version};"
        return _version_of(text.encode())


def load_registry(path: Path | str) -> Registry:
    """Load a site file, or every ``*.yaml``/``*.yml`` file of a folder (with
    its portfolio file, if any: ``core.portfolio``)."""
    from core.portfolio import PORTFOLIO_FILES, apply_portfolio, load_portfolio, portfolio_file

    root = Path(path)
    loaded = None
    if root.is_dir():
        pfile = portfolio_file(root)
        loaded = load_portfolio(pfile) if pfile is not None else None
        files = sorted(
            f for f in [*root.glob("*.yaml"), *root.glob("*.yml")] if f.name not in PORTFOLIO_FILES
        )
        if not files:
            raise YamlFileError(root, [(None, "", "no site files (*.yaml) in this folder")])
    elif root.exists():
        files = [root]
    else:
        raise YamlFileError(root, [(None, "", "no such file or folder")])
    sites: dict[str, Site] = {}
    site_files: dict[str, Path] = {}
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
        site_files.setdefault(site.id, f)
    if problems:
        raise ConfigError("\n".join(problems))
    if loaded is not None:
        sites = apply_portfolio(loaded, sites, site_files)
    return Registry(sites, loaded)
