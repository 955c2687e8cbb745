"""The hand-worked energy week of docs/metrics.md ("Energy of empty
conditioned space"): a site, its presence and agent-status points, and the
figures worked out by hand.

Opening hours Mon-Fri 08:00-12:00 (Europe/Helsinki, UTC+2 in March);
Thursday 2026-03-05 is a closure day. Floor f1: zone za (desks a1, a2, 10 m²
each: 20 m²) and zone zb (desk b1, 30 m²); floor f2: zone zc (desk c1,
50 m²), conditioned 07:00-12:00 Mon-Fri, on closure days too. Intensity
0.1 kWh/m²h, emission factor 200 g/kWh. Every space has its own agent;
the heartbeat field is a week (HB_S), so nothing falls silent.

Mon: a1 occupied 08:00-09:00, a2 08:30-09:30 (za occupied 08:00-09:30:
     empty 2.5 h, not 4 - 1 - 1 = 2 h); b1 free; c1 occupied 10:00-11:00.
Tue: a1's agent offline 08:00 until a1's message at 10:00 (a1 unknown
     08:00-10:00: za unknown 2 h, empty 2 h); b1 occupied 11:00-13:00;
     c1 free.
Wed: a1 occupied 07:00-13:00; b1, c1 free.
Thu: closed: za, zb not conditioned; zc conditioned 07:00-12:00, empty.
Fri: everything free.

Zone hours (conditioned / empty / unknown):
  za 16 / 2.5+2+0+4 = 8.5 / 2;  zb 16 / 4+3+4+4 = 15 / 0;  zc 25 / 4+5+5+5+5 = 24 / 0.
Zone m²h: za 320 / 170 / 40;  zb 480 / 450 / 0;  zc 1250 / 1200 / 0.
Site by zone: conditioned 2050 m²h, empty 1820 m²h -> 182 kWh -> 36.4 kg CO2;
  unknown 40 m²h -> 4 kWh (not counted as empty).
Floor f1 (no space of f1 occupied, in za's and zb's hours): Mon empty 2.5 h
  (08:00-09:30 occupied), Tue empty 1 h (10-11; 08-10 unknown, 11-12 b1),
  Wed 0, Fri 4: 7.5 h -> 7.5 x 50 = 375 m²h; unknown 2 h -> 100 m²h.
Site by floor: empty 375 + 1200 = 1575 m²h -> 157.5 kWh -> 31.5 kg CO2.
Monday by zone: 2.5 x 20 + 4 x 30 + 4 x 50 = 370 m²h -> 37 kWh -> 7.4 kg.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from core.registry import Site
from tests.metrics.conftest import local

FIRST, LAST = "2026-03-02", "2026-03-08"
HB_S = 7 * 86_400.0
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def week_site() -> Site:
    def desk(space: str, zone: str, area: float, i: int) -> dict[str, Any]:
        return {
            "id": space, "type": "desk", "zone": zone, "capacity": 1, "area_m2": area,
            "geometry": {"x": float(i), "y": 0.0, "w": 1.0, "h": 1.0},
            "sensor": {"id": f"s-{space}", "agent": f"ag-{space}"},
        }  # fmt: skip

    return Site.model_validate(
        {
            "id": "energyweek",
            "name": "Energy week",
            "timezone": "Europe/Helsinki",
            "opening_hours": {d: ["08:00-12:00"] for d in WEEKDAYS},
            "holidays": {"country": "FI"},
            "closures": ["2026-03-05"],
            "area_m2": 100.0,
            "heartbeat_s": 300.0,
            "energy": {"intensity_kwh_per_m2_h": 0.1, "emission_g_per_kwh": 200.0},
            "agencies": [{"id": "a", "name": "Agency A", "headcount_htv": 4}],
            "floors": [
                {"id": "f1", "name": "Floor 1", "level": 1, "plan": {"width": 10, "height": 10}},
                {"id": "f2", "name": "Floor 2", "level": 2, "plan": {"width": 10, "height": 10}},
            ],
            "zones": [
                {"id": "za", "name": "Zone A", "floor": "f1"},
                {"id": "zb", "name": "Zone B", "floor": "f1"},
                {
                    "id": "zc",
                    "name": "Zone C",
                    "floor": "f2",
                    "conditioning": {
                        "schedule": {d: ["07:00-12:00"] for d in WEEKDAYS},
                        "on_closed_days": True,
                    },
                },
            ],
            "spaces": [
                desk("a1", "za", 10, 0),
                desk("a2", "za", 10, 1),
                desk("b1", "zb", 30, 2),
                desk("c1", "zc", 50, 3),
            ],
        }
    )


#: (local time, space, occupied)
PRESENCE_ROWS: list[tuple[str, str, int]] = [
    *[("2026-03-02 00:00", s, 0) for s in ("a1", "a2", "b1", "c1")],
    ("2026-03-02 08:00", "a1", 1), ("2026-03-02 09:00", "a1", 0),
    ("2026-03-02 08:30", "a2", 1), ("2026-03-02 09:30", "a2", 0),
    ("2026-03-02 10:00", "c1", 1), ("2026-03-02 11:00", "c1", 0),
    ("2026-03-03 10:00", "a1", 0),
    ("2026-03-03 11:00", "b1", 1), ("2026-03-03 13:00", "b1", 0),
    ("2026-03-04 07:00", "a1", 1), ("2026-03-04 13:00", "a1", 0),
]  # fmt: skip
#: (local time, agent, online)
STATUS_ROWS: list[tuple[str, str, int]] = [
    ("2026-03-02 00:00", "ag-a1", 1),
    ("2026-03-03 08:00", "ag-a1", 0),
]

#: (zone, conditioned h, empty h, unknown h)
ZONE_HOURS = [("za", 16.0, 8.5, 2.0), ("zb", 16.0, 15.0, 0.0), ("zc", 25.0, 24.0, 0.0)]
ZONE_M2H = {"za": (320.0, 170.0, 40.0), "zb": (480.0, 450.0, 0.0), "zc": (1250.0, 1200.0, 0.0)}
SITE_BY_ZONE = {"conditioned_m2h": 2050.0, "empty_m2h": 1820.0, "empty_kwh": 182.0,
                "empty_kg_co2": 36.4, "unknown_m2h": 40.0, "unknown_kwh": 4.0}  # fmt: skip
FLOOR_M2H = {"f1": (800.0, 375.0, 100.0), "f2": (1250.0, 1200.0, 0.0)}
SITE_BY_FLOOR = {"empty_m2h": 1575.0, "empty_kwh": 157.5, "empty_kg_co2": 31.5}
MONDAY_BY_ZONE = {"empty_m2h": 370.0, "empty_kwh": 37.0, "empty_kg_co2": 7.4}


def utc_of(text: str) -> pd.Timestamp:
    return local(text)
