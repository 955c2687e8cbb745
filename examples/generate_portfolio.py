"""Generate ``portfolio/``, the example portfolio: six sites in the three pilot
regions of the state's network of shared premises (Pohjois-Karjala,
Etelä-Karjala, Päijät-Häme), and its ``portfolio.yaml``.

Three kinds of site: a shared office building (open-plan zones per agency and
shared zones), regional offices of room offices (huonetoimisto: each room of
one or two desks is a zone of its own agency) and customer service points
(palvelupiste, sizes L, M and S). The agencies are shared across sites: one
id, one name, a headcount per site. Kept as a script so that the sites stay
consistent when the layout changes; the YAML it writes is committed and is
what everything else reads. Run: ``python examples/generate_portfolio.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# One agency id is one agency at every site (core.portfolio checks it); the
# business ids are the agencies' published ones where we could check them.
AGENCIES: dict[str, dict[str, Any]] = {
    "vero": {
        "name": "Verohallinto",
        "name_sv": "Skatteförvaltningen",
        "name_en": "Finnish Tax Administration",
        "business_id": "0245458-3",
    },
    "dvv": {
        "name": "Digi- ja väestötietovirasto",
        "name_sv": "Myndigheten för digitalisering och befolkningsdata",
        "name_en": "Digital and Population Data Services Agency",
        "business_id": "0245437-2",
    },
    "kela": {
        "name": "Kansaneläkelaitos",
        "name_sv": "Folkpensionsanstalten",
        "name_en": "Social Insurance Institution of Finland",
        "business_id": "0246246-0",
    },
    "prh": {
        "name": "Patentti- ja rekisterihallitus",
        "name_sv": "Patent- och registerstyrelsen",
        "name_en": "Finnish Patent and Registration Office",
    },
    "avi": {
        "name": "Aluehallintovirasto",
        "name_sv": "Regionförvaltningsverket",
        "name_en": "Regional State Administrative Agency",
    },
    "poliisi": {
        "name": "Poliisi",
        "name_sv": "Polisen",
        "name_en": "Police of Finland",
    },
}

REGIONS = [
    {
        "id": "pohjois-karjala",
        "name": "Pohjois-Karjala",
        "name_sv": "Norra Karelen",
        "name_en": "North Karelia",
    },
    {
        "id": "etela-karjala",
        "name": "Etelä-Karjala",
        "name_sv": "Södra Karelen",
        "name_en": "South Karelia",
    },
    {
        "id": "paijat-hame",
        "name": "Päijät-Häme",
        "name_sv": "Päijänne-Tavastland",
        "name_en": "Päijät-Häme",
    },
]

PORTFOLIO = {
    "id": "valtion-toimitilat",
    "name": "Valtion palvelu- ja toimitilaverkosto",
    "name_sv": "Statens nätverk av service- och kontorslokaler",
    "name_en": "State network of service and office premises",
    "target_m2_per_htv": 10.0,  # the 2021 state premises strategy
    "regions": REGIONS,
}

OFFICE_HOURS = {day: ["07:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
SERVICE_HOURS = {day: ["09:00-16:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
# a small service point is staffed three days a week
SMALL_SERVICE_HOURS = {day: ["09:00-15:00"] for day in ("tue", "wed", "thu")}
#: Service premises (waiting areas, counters) take more room per person.
SERVICE_TARGET = 15.0

WORDS = {  # Finnish word of a name -> (Swedish, English)
    "Palvelupiste": ("Servicepunkt", "Service point"),
    "Odotustila": ("Väntrum", "Waiting area"),
    "Asiakashuone": ("Kundrum", "Client room"),
    "Neuvotteluhuone": ("Mötesrum", "Meeting room"),
    "Puhelinkoppi": ("Telefonhytt", "Phone booth"),
    "Huone": ("Rum", "Room"),
    "Yhteiskäyttö": ("Gemensamt utrymme", "Shared area"),
    "Asiakaspalvelu": ("Kundtjänst", "Customer service"),
    "Taustatila": ("Backoffice", "Back office"),
    "kerros": ("våning", "floor"),
}


def names(fi: str) -> dict[str, str]:
    """name, name_sv, name_en of a name whose first word WORDS knows."""
    first, _, rest = fi.partition(" ")
    if first in WORDS:
        sv, en = WORDS[first]
        return {"name": fi, "name_sv": f"{sv} {rest}".strip(), "name_en": f"{en} {rest}".strip()}
    return {"name": fi}


class Floor:
    """Places spaces in rows across a floor plan of a fixed width; the plan's
    height is what the rows take."""

    def __init__(self, site: Site, level: int, width: float) -> None:
        self.site, self.level, self.width = site, level, width
        self.id = f"f{level}"
        self.x, self.y, self.row_h = 0.5, 0.5, 0.0

    def place(self, w: float, h: float) -> dict[str, float]:
        if self.x + w > self.width - 0.5:
            self.x, self.y, self.row_h = 0.5, self.y + self.row_h + 1.0, 0.0
        out = {"x": round(self.x, 2), "y": round(self.y, 2), "w": w, "h": h}
        self.x += w + 0.5
        self.row_h = max(self.row_h, h)
        return out

    def new_row(self) -> None:
        if self.x > 0.5:
            self.x, self.y, self.row_h = 0.5, self.y + self.row_h + 1.0, 0.0

    def entry(self) -> dict[str, Any]:
        level = self.level
        return {
            "id": self.id,
            "name": f"{level}. kerros",
            "name_sv": f"Våning {level}",
            "name_en": f"Floor {level}",
            "level": level,
            "plan": {"width": self.width, "height": round(self.y + self.row_h + 0.5, 2)},
        }


class Site:
    """A site being built: its zones and spaces, one agent per floor."""

    def __init__(self, sid: str) -> None:
        self.id = sid
        self.floors: list[Floor] = []
        self.zones: list[dict[str, Any]] = []
        self.spaces: list[dict[str, Any]] = []

    def floor(self, level: int, width: float) -> Floor:
        f = Floor(self, level, width)
        self.floors.append(f)
        return f

    def zone(self, floor: Floor, zid: str, name: str, agency: str | None, cls: str) -> str:
        zone = {"id": zid, **names(name), "floor": floor.id, "security_class": cls}
        if agency is not None:
            zone = {**zone, "agency": agency}
        self.zones.append(zone)
        return zid

    def space(
        self,
        floor: Floor,
        zone: str,
        sid: str,
        kind: str,
        *,
        capacity: int,
        size: tuple[float, float],
        name: str | None = None,
        model: str = "pir",
    ) -> None:
        entry: dict[str, Any] = {"id": sid}
        if name is not None:
            entry.update(names(name))
        entry.update(
            {
                "type": kind,
                "zone": zone,
                "capacity": capacity,
                "area_m2": round(size[0] * size[1], 2),
                "geometry": floor.place(*size),
                "sensor": {"id": f"s-{sid}", "agent": f"{self.id}-{floor.id}", "model": model},
            }
        )
        self.spaces.append(entry)

    def desks(self, floor: Floor, zone: str, n: int, *, area: float = 6.0) -> None:
        floor.new_row()
        for i in range(n):
            self.space(
                floor, zone, f"{zone}-d{i + 1:02d}", "desk", capacity=1, size=(2.0, area / 2)
            )

    def rooms(self, floor: Floor, zone: str, rooms: list[tuple[str, int, float, float]]) -> None:
        floor.new_row()
        for i, (name, cap, w, h) in enumerate(rooms):
            kind = "phone_booth" if name.startswith("Puhelinkoppi") else "meeting_room"
            sid = f"{zone}-{'booth' if kind == 'phone_booth' else 'room'}-{i + 1:02d}"
            model = "zigbee" if kind == "phone_booth" else "ld2410"
            self.space(floor, zone, sid, kind, capacity=cap, size=(w, h), name=name, model=model)

    def service_point(self, floor: Floor, zone: str, counters: int, waiting: int) -> None:
        floor.new_row()
        for i in range(counters):
            self.space(
                floor,
                zone,
                f"{zone}-palvelu-{i + 1:02d}",
                "service_point",
                capacity=2,
                size=(3.0, 2.0),
                name=f"Palvelupiste {i + 1}",
                model="ld2410",
            )
        self.space(
            floor,
            zone,
            f"{zone}-odotus",
            "lounge",
            capacity=waiting,
            size=(8.0, max(3.0, waiting / 3)),
            name="Odotustila",
            model="ld2410",
        )

    def entry(
        self,
        *,
        info: dict[str, Any],
        headcounts: dict[str, float],
        area_m2: float,
        hours: dict[str, list[str]],
        target: float | None = None,
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, **info, "timezone": "Europe/Helsinki"}
        out["opening_hours"] = hours
        out["holidays"] = {"country": "FI"}
        out["area_m2"] = area_m2
        if target is not None:  # else the portfolio's target
            out["target_m2_per_htv"] = target
        out["heartbeat_s"] = 300
        out["agencies"] = [
            {"id": a, **AGENCIES[a], "headcount_htv": htv} for a, htv in headcounts.items()
        ]
        out["floors"] = [f.entry() for f in self.floors]
        out["zones"] = self.zones
        out["spaces"] = self.spaces
        return out


MEETING = [
    ("Neuvotteluhuone Pielinen", 10, 5.0, 4.0),
    ("Neuvotteluhuone Koli", 6, 4.0, 3.5),
    ("Puhelinkoppi 1", 1, 1.5, 1.5),
    ("Puhelinkoppi 2", 1, 1.5, 1.5),
]


def joensuu() -> dict[str, Any]:
    """A shared office building: agency zones and shared zones on two floors,
    a customer service point on the ground floor."""
    s = Site("joensuu-virastotalo")
    f1, f2, f3 = s.floor(1, 40.0), s.floor(2, 40.0), s.floor(3, 40.0)
    s.service_point(f1, s.zone(f1, "f1-asiakas", "Asiakaspalvelu", None, "public"), 4, 18)
    s.rooms(f1, s.zone(f1, "f1-kokous", "Asiakashuone", None, "visitor"), MEETING[:2])
    for floor, zones in (
        (f2, [("a", "Verohallinto", "vero", 20), ("b", "Kela", "kela", 16)]),
        (f3, [("a", "DVV", "dvv", 14), ("b", "Aluehallintovirasto", "avi", 10)]),
    ):
        for suffix, name, agency, n in zones:
            s.desks(floor, s.zone(floor, f"{floor.id}-{suffix}", name, agency, "agency"), n)
        shared = s.zone(floor, f"{floor.id}-c", f"Yhteiskäyttö {floor.level}", None, "shared")
        s.desks(floor, shared, 18 if floor is f2 else 16)
        s.rooms(floor, shared, MEETING)
    return s.entry(
        info={
            "name": "Joensuun valtion virastotalo",
            "name_sv": "Statens ämbetshus i Joensuu",
            "name_en": "Joensuu Government Office Building",
            "region": "pohjois-karjala",
            "municipality": "Joensuu",
        },
        headcounts={"vero": 42.0, "kela": 35.0, "dvv": 28.0, "avi": 19.0},
        area_m2=1450.0,
        hours=OFFICE_HOURS,
    )


def room_office(
    sid: str,
    info: dict[str, Any],
    plan: list[tuple[str, list[int]]],
    headcounts: dict[str, float],
    *,
    area_m2: float,
    counters: int = 0,
) -> dict[str, Any]:
    """A regional office of room offices: each room (one or two desks) is a
    zone of its agency; ``plan``: per agency, the desks of each of its rooms
    (floors of twelve rooms); a drop-in room and meeting rooms per floor."""
    s = Site(sid)
    rooms = [(agency, desks) for agency, layout in plan for desks in layout]
    per_floor = 12
    start = 1
    if counters:
        f1 = s.floor(1, 36.0)
        s.service_point(
            f1, s.zone(f1, "f1-asiakas", "Asiakaspalvelu", None, "public"), counters, 24
        )
        s.rooms(f1, s.zone(f1, "f1-kokous", "Asiakashuone", None, "visitor"), MEETING[:2])
        start = 2
    for k in range(0, len(rooms), per_floor):
        floor = s.floor(start + k // per_floor, 36.0)
        for j, (agency, desks) in enumerate(rooms[k : k + per_floor]):
            number = floor.level * 100 + j + 1
            zone = s.zone(floor, f"h{number}", f"Huone {number}", agency, "agency")
            if j % 6 == 0:  # two rows of six rooms
                floor.new_row()
            for d in range(desks):
                s.space(floor, zone, f"h{number}-d{d + 1}", "desk", capacity=1, size=(2.0, 4.5))
        shared = s.zone(
            floor, f"{floor.id}-yhteinen", f"Yhteiskäyttö {floor.level}", None, "shared"
        )
        s.desks(floor, shared, 4)
        s.rooms(floor, shared, MEETING[:3])
    return s.entry(
        info=info, headcounts=headcounts, area_m2=area_m2, hours=OFFICE_HOURS, target=None
    )


def service_point(
    sid: str,
    info: dict[str, Any],
    headcounts: dict[str, float],
    *,
    counters: int,
    back_office: int,
    area_m2: float,
    hours: dict[str, list[str]],
) -> dict[str, Any]:
    """A customer service point (palvelupiste): counters and a waiting area,
    a client room, and a back office of shared desks."""
    s = Site(sid)
    f1 = s.floor(1, 24.0)
    s.service_point(f1, s.zone(f1, "asiakas", "Asiakaspalvelu", None, "public"), counters, 12)
    s.rooms(f1, s.zone(f1, "asiakashuone", "Asiakashuone", None, "visitor"), MEETING[1:2])
    s.desks(f1, s.zone(f1, "tausta", "Taustatila", None, "shared"), back_office)
    return s.entry(
        info=info, headcounts=headcounts, area_m2=area_m2, hours=hours, target=SERVICE_TARGET
    )


def sites() -> list[dict[str, Any]]:
    return [
        joensuu(),
        service_point(
            "lieksa-palvelupiste",
            {
                "name": "Lieksan yhteispalvelupiste",
                "name_sv": "Lieksa samservicepunkt",
                "name_en": "Lieksa Joint Service Point",
                "region": "pohjois-karjala",
                "municipality": "Lieksa",
            },
            {"kela": 2.0, "vero": 1.0, "poliisi": 1.5},
            counters=3,
            back_office=4,
            area_m2=95.0,
            hours=SMALL_SERVICE_HOURS,
        ),
        room_office(
            "lappeenranta-huonetoimisto",
            {
                "name": "Lappeenrannan virastotalo",
                "name_sv": "Villmanstrands ämbetshus",
                "name_en": "Lappeenranta Government Office",
                "region": "etela-karjala",
                "municipality": "Lappeenranta",
            },
            [
                ("vero", [2, 2, 2, 1, 1, 1, 1, 2]),
                ("prh", [1, 1, 2, 1]),
                ("dvv", [2, 1, 1, 1, 2]),
                ("avi", [1, 1, 1, 2, 1, 1, 1]),
            ],
            {"vero": 16.0, "prh": 7.0, "dvv": 9.0, "avi": 11.0},
            area_m2=980.0,
        ),
        service_point(
            "imatra-palvelupiste",
            {
                "name": "Imatran palvelupiste",
                "name_sv": "Imatra servicepunkt",
                "name_en": "Imatra Service Point",
                "region": "etela-karjala",
                "municipality": "Imatra",
            },
            {"kela": 5.0, "vero": 2.5, "dvv": 2.0, "poliisi": 3.0},
            counters=6,
            back_office=6,
            area_m2=210.0,
            hours=SERVICE_HOURS,
        ),
        room_office(
            "lahti-virastotalo",
            {
                "name": "Lahden valtion virastotalo",
                "name_sv": "Statens ämbetshus i Lahtis",
                "name_en": "Lahti Government Office Building",
                "region": "paijat-hame",
                "municipality": "Lahti",
            },
            [
                ("kela", [2, 2, 1, 1, 2, 1]),
                ("vero", [2, 2, 1, 1, 1, 1, 2, 2]),
                ("poliisi", [1, 1, 2, 1]),
                ("dvv", [1, 1, 2, 1, 1, 1]),
            ],
            {"kela": 24.0, "vero": 21.0, "poliisi": 8.0, "dvv": 10.0},
            area_m2=1320.0,
            counters=8,
        ),
        service_point(
            "heinola-palvelupiste",
            {
                "name": "Heinolan asiointipiste",
                "name_sv": "Heinola servicepunkt",
                "name_en": "Heinola Service Point",
                "region": "paijat-hame",
                "municipality": "Heinola",
            },
            {"kela": 2.5, "vero": 1.5},
            counters=3,
            back_office=3,
            area_m2=80.0,
            hours=SMALL_SERVICE_HOURS,
        ),
    ]


HEADER = """\
# Example portfolio (generated by examples/generate_portfolio.py; edit that
# script, not this file).
"""


def files() -> dict[str, str]:
    """File name -> text of every file of the example portfolio folder."""
    dump = lambda data: yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)  # noqa: E731
    out = {"portfolio.yaml": HEADER + dump(PORTFOLIO)}
    for site in sites():
        out[f"{site['id']}.yaml"] = HEADER + dump(site)
    return out


def main() -> None:
    folder = Path(__file__).parent / "portfolio"
    folder.mkdir(exist_ok=True)
    for name, text in files().items():
        (folder / name).write_text(text, encoding="utf-8")
        print(f"wrote {folder / name}")


if __name__ == "__main__":
    main()
