"""Generate ``sites/virastotalo.yaml``, the example shared government office.

Kept as a script so the floor-plan geometry stays consistent when the layout
changes; the YAML it writes is committed and is what everything else reads.
Run: ``python examples/generate_site.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from generate_plans import floor_svg, image_of

PLAN_W, PLAN_H = 64.0, 24.0

# Business IDs (Y-tunnus) are the agencies' published ones where we could check
# them; the cost centres are illustrative (an agency's finance office assigns them).
AGENCIES = [
    {
        "id": "vero",
        "name": "Verohallinto",
        "name_sv": "Skatteförvaltningen",
        "name_en": "Finnish Tax Administration",
        "headcount_htv": 150.0,
        "persons": 158,
        "business_id": "0245458-3",
        "cost_centre": "VH-4110",
    },
    {
        "id": "dvv",
        "name": "Digi- ja väestötietovirasto",
        "name_sv": "Myndigheten för digitalisering och befolkningsdata",
        "name_en": "Digital and Population Data Services Agency",
        "headcount_htv": 120.0,
        "persons": 127,
        "business_id": "0245437-2",
        "cost_centre": "DVV-2200",
    },
    {
        "id": "prh",
        "name": "Patentti- ja rekisterihallitus",
        "name_sv": "Patent- och registerstyrelsen",
        "name_en": "Finnish Patent and Registration Office",
        "headcount_htv": 95.0,
        "persons": 101,
        "cost_centre": "PRH-310",
    },
    {
        "id": "tilastokeskus",
        "name": "Tilastokeskus",
        "name_sv": "Statistikcentralen",
        "name_en": "Statistics Finland",
        "headcount_htv": 85.0,
        "persons": 90,
        "business_id": "0244680-7",
        "cost_centre": "TK-5120",
    },
    {
        "id": "avi",
        "name": "Aluehallintovirasto",
        "name_sv": "Regionförvaltningsverket",
        "name_en": "Regional State Administrative Agency",
        "headcount_htv": 45.0,
        "persons": 48,
    },
]

# Swedish and English names of the agencies (their own official names).
AGENCY_NAMES = {
    "vero": ("Skatteförvaltningen", "Finnish Tax Administration"),
    "dvv": (
        "Myndigheten för digitalisering och befolkningsdata",
        "Digital and Population Data Services Agency",
    ),
    "prh": ("Patent- och registerstyrelsen", "Finnish Patent and Registration Office"),
    "tilastokeskus": ("Statistikcentralen", "Statistics Finland"),
    "avi": ("Regionförvaltningsverket", "Regional State Administrative Agency"),
}

# Finnish words of the example's names -> (Swedish, English); a name is
# translated word by word at its start ("Neuvotteluhuone Aalto 2").
NAME_WORDS = {
    "Neuvotteluhuone": ("Mötesrum", "Meeting room"),
    "Asiakashuone": ("Kundrum", "Client room"),
    "Projektihuone": ("Projektrum", "Project room"),
    "Hiljainen huone": ("Tyst rum", "Quiet room"),
    "Puhelinkoppi": ("Telefonhytt", "Phone booth"),
    "Palvelupiste": ("Servicepunkt", "Service point"),
    "Odotustila": ("Väntrum", "Waiting area"),
    "Asiakaspalvelupiste": ("Kundtjänst", "Customer service"),
    "Palvelupisteen ovi": ("Servicepunktens dörr", "Service point door"),
    "Kokoustila": ("Mötesrum", "Meeting rooms"),
    "Yhteiskäyttö": ("Gemensamt utrymme", "Shared area"),
    "Verohallinto, itäsiipi": ("Skatteförvaltningen, östra flygeln", "Tax, east wing"),
    "Verohallinto, länsisiipi": ("Skatteförvaltningen, västra flygeln", "Tax, west wing"),
    "Tilastokeskus": ("Statistikcentralen", "Statistics Finland"),
    "Aluehallintovirasto": ("Regionförvaltningsverket", "Regional State Administrative Agency"),
    "DVV": ("MDB", "DVV"),
    "PRH": ("PRS", "PRH"),
}

# (floor level, zone suffix, name, dedicated agency or None, number of desks)
DESK_ZONES = [
    (2, "a", "Verohallinto, itäsiipi", "vero", 28),
    (2, "b", "Verohallinto, länsisiipi", "vero", 24),
    (2, "c", "Yhteiskäyttö 2", None, 28),
    (3, "a", "DVV", "dvv", 32),
    (3, "b", "PRH", "prh", 24),
    (3, "c", "Yhteiskäyttö 3", None, 24),
    (4, "a", "Tilastokeskus", "tilastokeskus", 28),
    (4, "b", "Aluehallintovirasto", "avi", 16),
    (4, "c", "Yhteiskäyttö 4", None, 32),
]

# meeting rooms per floor: (name, capacity, width, height)
ROOMS = [
    ("Neuvotteluhuone Aalto", 12, 6.0, 5.0),
    ("Neuvotteluhuone Sibelius", 8, 5.0, 4.0),
    ("Neuvotteluhuone Jansson", 6, 4.0, 4.0),
    ("Neuvotteluhuone Linna", 4, 3.0, 4.0),
    ("Neuvotteluhuone Saarinen", 4, 3.0, 4.0),
    ("Projektihuone Kivi", 6, 4.0, 4.0),
    ("Hiljainen huone Runeberg", 1, 3.0, 4.0),
]


# The service point's door has a LoRaWAN line-crossing people counter (a
# Milesight VS133), read through ChirpStack by the ground floor's LoRaWAN
# bridge agent (edge/drivers/chirpstack.py): its own agent, so its sequence
# numbers are its own.
ENTRANCES = [
    {
        "id": "f1-palvelu-ovi",
        "name": "Palvelupisteen ovi",
        "zone": "f1-asiakas",
        "counter": {"id": "c-f1-palvelu-ovi", "agent": "agent-f1-lora", "model": "vs133"},
    }
]


def rect(x: float, y: float, w: float, h: float) -> dict[str, float]:
    return {"x": round(x, 2), "y": round(y, 2), "w": w, "h": h}


def desk_grid(zone_x: float, zone_w: float, n: int) -> list[dict[str, float]]:
    """Desk islands of 1.6 x 0.8 m in rows across the open-plan part (y 2..14)."""
    cols = max(1, int((zone_w - 1.0) // 2.2))
    out = []
    for i in range(n):
        row, col = divmod(i, cols)
        out.append(rect(zone_x + 0.6 + col * 2.2, 2.0 + row * 1.4, 1.6, 0.8))
    return out


def translated(entry: dict[str, Any]) -> dict[str, Any]:
    """``entry`` with name_sv and name_en after its name, where NAME_WORDS knows it."""
    name = entry.get("name")
    for fi in sorted(NAME_WORDS, key=len, reverse=True):
        if name and (name == fi or name.startswith(fi + " ")):
            sv, en = NAME_WORDS[fi]
            rest = name[len(fi) :]
            out: dict[str, Any] = {}
            for k, v in entry.items():
                out[k] = v
                if k == "name":
                    out["name_sv"], out["name_en"] = sv + rest, en + rest
            return out
    return entry


def floor_entry(level: int) -> dict[str, Any]:
    sv, en = f"Våning {level}", f"Floor {level}"
    return {
        "id": f"f{level}",
        "name": f"{level}. kerros",
        "name_sv": sv,
        "name_en": en,
        "level": level,
        "plan": {"width": PLAN_W, "height": PLAN_H},
        "area_m2": 1200.0,
        "image": {"file": f"plans/virastotalo-f{level}.svg", **image_of()},
    }


def build() -> dict[str, Any]:
    floors, zones, spaces = [], [], []
    for level in (1, 2, 3, 4):
        floors.append(floor_entry(level))
    agent = lambda level: f"agent-f{level}"  # noqa: E731 - one agent per floor

    # Ground floor: the customer service point (palvelupiste, size L) and shared rooms.
    zones.append(
        {
            "id": "f1-asiakas",
            "name": "Asiakaspalvelupiste",
            "floor": "f1",
            "security_class": "public",
        }
    )
    zones.append(
        {"id": "f1-kokous", "name": "Kokoustila 1", "floor": "f1", "security_class": "visitor"}
    )
    for i in range(6):
        sid = f"f1-palvelu-{i + 1:02d}"
        spaces.append(
            {
                "id": sid,
                "name": f"Palvelupiste {i + 1}",
                "type": "service_point",
                "zone": "f1-asiakas",
                "capacity": 2,
                "area_m2": 6.0,
                "geometry": rect(2 + i * 3.5, 3, 3.0, 2.5),
                "sensor": {"id": f"s-{sid}", "agent": agent(1), "model": "ld2410"},
            }
        )
    spaces.append(
        {
            "id": "f1-odotus",
            "name": "Odotustila",
            "type": "lounge",
            "zone": "f1-asiakas",
            "capacity": 30,
            "area_m2": 80.0,
            "geometry": rect(2, 8, 20.0, 8.0),
            "sensor": {"id": "s-f1-odotus", "agent": agent(1), "model": "ld2410"},
        }
    )
    for i, (name, cap, w, h) in enumerate(ROOMS[:4]):
        sid = f"f1-room-{i + 1:02d}"
        spaces.append(
            {
                "id": sid,
                "name": name.replace("Neuvotteluhuone", "Asiakashuone"),
                "type": "meeting_room",
                "zone": "f1-kokous",
                "capacity": cap,
                "area_m2": w * h,
                "geometry": rect(30 + i * 7, 16, w, h),
                "sensor": {"id": f"s-{sid}", "agent": agent(1), "model": "ld2410"},
            }
        )

    for level in (2, 3, 4):
        fz = [z for z in DESK_ZONES if z[0] == level]
        zone_w = PLAN_W / len(fz)
        for zi, (_, suffix, name, agency, n) in enumerate(fz):
            zid = f"f{level}-{suffix}"
            zone: dict[str, Any] = {"id": zid, "name": name, "floor": f"f{level}"}
            if agency:
                zone["agency"] = agency
                zone["security_class"] = "agency"
            else:
                zone["security_class"] = "shared"
            zones.append(zone)
            for di, geo in enumerate(desk_grid(zi * zone_w, zone_w, n)):
                sid = f"{zid}-d{di + 1:03d}"
                spaces.append(
                    {
                        "id": sid,
                        "type": "desk",
                        "zone": zid,
                        "capacity": 1,
                        "area_m2": 6.0,
                        "geometry": geo,
                        "sensor": {"id": f"s-{sid}", "agent": agent(level), "model": "pir"},
                    }
                )
        # Rooms and booths along the south side (y 15..24), in the floor's shared zone.
        shared = f"f{level}-c"
        x = 0.5
        for ri, (name, cap, w, h) in enumerate(ROOMS):
            sid = f"f{level}-room-{ri + 1:02d}"
            kind = (
                "project_room"
                if name.startswith("Projekti")
                else ("focus_room" if name.startswith("Hiljainen") else "meeting_room")
            )
            spaces.append(
                {
                    "id": sid,
                    "name": f"{name} {level}",
                    "type": kind,
                    "zone": shared,
                    "capacity": cap,
                    "area_m2": w * h,
                    "geometry": rect(x, 24 - h - 0.5, w, h),
                    "sensor": {"id": f"s-{sid}", "agent": agent(level), "model": "ld2410"},
                }
            )
            x += w + 0.5
        for bi in range(4):
            sid = f"f{level}-booth-{bi + 1:02d}"
            spaces.append(
                {
                    "id": sid,
                    "name": f"Puhelinkoppi {level}.{bi + 1}",
                    "type": "phone_booth",
                    "zone": shared,
                    "capacity": 1,
                    "area_m2": 2.0,
                    "geometry": rect(x + bi * 2.0, 24 - 2.5, 1.5, 1.5),
                    "sensor": {"id": f"s-{sid}", "agent": agent(level), "model": "zigbee"},
                }
            )

    agencies = [
        {**a, "name_sv": AGENCY_NAMES[a["id"]][0], "name_en": AGENCY_NAMES[a["id"]][1]}
        for a in AGENCIES
    ]
    return {
        "id": "virastotalo",
        "name": "Valtion virastotalo, Ratapiha",
        "name_sv": "Statens ämbetshus, Bangården",
        "name_en": "Government Office Building, Ratapiha",
        "timezone": "Europe/Helsinki",
        "opening_hours": {day: ["07:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
        "holidays": {"country": "FI"},
        "closures": ["2026-12-24", "2026-12-31"],
        "area_m2": 4800.0,
        "target_m2_per_htv": 10.0,
        "heartbeat_s": 300,
        "agencies": agencies,
        "floors": floors,
        "zones": [translated(z) for z in zones],
        "spaces": [translated(sp) for sp in spaces],
        "entrances": [translated(e) for e in ENTRANCES],
    }


HEADER = """\
# Example site: a shared government office of five agencies (generated by
# examples/generate_site.py; edit that script, not this file).
# 4 floors, 236 desks in agency-dedicated and shared zones, 25 meeting and
# project rooms, 12 phone booths, a customer service point on the ground floor.
"""


def write_plans(site: dict[str, Any], folder: Path) -> None:
    """One SVG per floor, drawn from the spaces of the site just built."""
    floor_of_zone = {z["id"]: z["floor"] for z in site["zones"]}
    for floor in site["floors"]:
        spaces = [s for s in site["spaces"] if floor_of_zone[s["zone"]] == floor["id"]]
        svg = floor_svg(
            width=floor["plan"]["width"],
            height=floor["plan"]["height"],
            spaces=spaces,
            ground=floor["level"] == 1,
        )
        out = folder / floor["image"]["file"]
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(svg, encoding="utf-8")
        print(f"wrote {out}")


def main() -> None:
    folder = Path(__file__).parent / "sites"
    site = build()
    out = folder / "virastotalo.yaml"
    text = yaml.safe_dump(site, sort_keys=False, allow_unicode=True, width=100)
    out.write_text(HEADER + text, encoding="utf-8")
    print(f"wrote {out}")
    write_plans(site, folder)


if __name__ == "__main__":
    main()
