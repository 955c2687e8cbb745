"""Every panel query and every variable query of the committed dashboards runs
against a real InfluxDB holding the scenario of ``scenario.py`` and returns the
figures worked out by hand there (docstrings of ``scenario.py``).

Grafana itself cannot run here (not in Debian's archive), so what is checked is
the InfluxQL that Grafana sends, after the substitution Grafana performs
(``dashboards.interpolate``). The heatmap's query returns one row per
weekday and hour (checked here); only Grafana's layout of those rows into a
matrix (a transformation) is not run. ``test_panels_vs_api`` checks the same
queries against the api's figures for a simulated month.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dashboards.build import build_all
from dashboards.interpolate import ALL, VarValue
from tests.dashboards.conftest import Runner, dump
from tests.dashboards.scenario import FEB, JAN, MON, NOW
from tests.dashboards.test_service_dashboard import FILE as SERVICE_FILE

H = timedelta(hours=1)
M = timedelta(minutes=1)
HELSINKI = {"tz": "Europe/Helsinki"}


def ts(t: datetime) -> int:
    return int(t.timestamp())


@dataclass
class Case:
    file: str
    title: str
    expected: list[dict[str, Any]]
    ref_id: str = "A"
    variables: dict[str, VarValue] = field(default_factory=dict)
    start: datetime = NOW - 6 * H
    end: datetime = NOW
    interval: str = "1h"
    keep_time: bool = False
    name: str = ""

    @property
    def id(self) -> str:
        return f"{self.file}:{self.title}:{self.ref_id}{':' + self.name if self.name else ''}"


LIVE = {"site": "s1", "floor": ALL, "zone": ALL}
UTIL = {"site": "s1", "floor": ALL, "zone": ALL}
UTIL_RANGE: dict[str, Any] = {"start": MON, "end": MON + 48 * H}
# Local (Helsinki) Monday and Tuesday, where the daily rows start.
DAYS_RANGE: dict[str, Any] = {"start": MON - 2 * H, "end": MON + 46 * H}
YEAR: dict[str, Any] = {
    "start": datetime(2025, 12, 1, tzinfo=UTC),
    "end": datetime(2026, 3, 1, tzinfo=UTC),
}
AGENCIES = {"site": "s1", "agency": ALL}


def eff_row(agency: str, values: tuple[float, ...]) -> dict[str, Any]:
    from tests.dashboards.scenario import EFFICIENCY_FIELDS

    return {"agency": agency, **dict(zip(EFFICIENCY_FIELDS, values, strict=True))}


CASES = [
    # --- Live occupancy (window 09:47-10:00) ---
    Case("live.json", "Occupied spaces now", [{"sum": 2}], variables=LIVE),
    Case(
        "live.json",
        "Occupied spaces now",
        [{"sum": 1}],
        name="floor f1",
        variables={**LIVE, "floor": "f1"},
    ),
    Case(
        "live.json",
        "Occupied spaces now",
        [{"sum": 2}],
        name="floors f1+f2",
        variables={**LIVE, "floor": ["f1", "f2"]},
    ),
    Case("live.json", "Spaces reporting", [{"count": 3}], variables=LIVE),
    Case(
        "live.json",
        "Spaces reporting",
        [{"count": 1}],
        name="zone z2",
        variables={**LIVE, "zone": "z2"},
    ),
    Case("live.json", "People counted now", [{"sum": 4}], variables=LIVE),
    Case("live.json", "Agents offline", [{"count": 1}], variables=LIVE),
    Case(
        "live.json",
        "Occupied per floor now",
        [
            {"floor": "f1", "occupied": 1, "reporting": 2},
            {"floor": "f2", "occupied": 1, "reporting": 1},
        ],
        variables=LIVE,
    ),
    Case(
        "live.json",
        "Occupied per zone now",
        [
            {"zone": "z1", "occupied": 1, "reporting": 2},
            {"zone": "z2", "occupied": 1, "reporting": 1},
        ],
        variables=LIVE,
    ),
    # 10-minute buckets from 09:20: spaces occupied at some moment of each
    # (f1: d1 09:40, d2 09:57; f2: d3 09:30, r1 09:56); no heartbeats in the
    # scenario, so buckets without a report are empty.
    Case(
        "live.json",
        "Occupied spaces per floor",
        [
            {"floor": "f1", "time": ts(NOW - 40 * M), "sum": None},
            {"floor": "f1", "time": ts(NOW - 30 * M), "sum": None},
            {"floor": "f1", "time": ts(NOW - 20 * M), "sum": 1},
            {"floor": "f1", "time": ts(NOW - 10 * M), "sum": 1},
            {"floor": "f1", "time": ts(NOW), "sum": None},
            {"floor": "f2", "time": ts(NOW - 40 * M), "sum": None},
            {"floor": "f2", "time": ts(NOW - 30 * M), "sum": 1},
            {"floor": "f2", "time": ts(NOW - 20 * M), "sum": None},
            {"floor": "f2", "time": ts(NOW - 10 * M), "sum": 1},
            {"floor": "f2", "time": ts(NOW), "sum": None},
        ],
        variables=LIVE,
        start=NOW - 40 * M,
        interval="10m",
        keep_time=True,
    ),
    Case("live.json", "Offline agents", [{"agent": "a1", "online": 0}], variables=LIVE),
    Case(
        "live.json",
        "Faulty sensors and low batteries",
        [
            {"agent": "a1", "sensor": "sa", "space": "d1", "ok": 1, "battery_pct": 12.0},
            {"agent": "a1", "sensor": "sb", "space": "d2", "ok": 0, "battery_pct": 90.0},
        ],
        variables=LIVE,
    ),
    # --- Utilisation (Mon 2 - Tue 3 March 2026) ---
    Case(
        "utilisation.json",
        "Utilisation",
        [{"utilisation": round(5400 / 9450, 9)}],
        variables=UTIL,
        **UTIL_RANGE,
    ),
    Case(
        "utilisation.json",
        "Utilisation",
        [{"utilisation": round(2550 / 4950, 9)}],
        name="floor f1",
        variables={**UTIL, "floor": "f1"},
        **UTIL_RANGE,
    ),
    Case("utilisation.json", "Coverage", [{"coverage": 0.875}], variables=UTIL, **UTIL_RANGE),
    Case(
        "utilisation.json",
        "Coverage",
        [{"coverage": round(4950 / 5400, 9)}],
        name="floor f1",
        variables={**UTIL, "floor": "f1"},
        **UTIL_RANGE,
    ),
    Case(
        "utilisation.json",
        "Utilisation by weekday and hour",
        [
            {"weekday": "1 Mon", "hour": "10", "utilisation": round(3600 / 6750, 9)},
            {"weekday": "1 Mon", "hour": "11", "utilisation": 1.0},
            {"weekday": "2 Tue", "hour": "10", "utilisation": 0.5},
        ],
        variables=UTIL,
        **UTIL_RANGE,
    ),
    Case(
        "utilisation.json",
        "Utilisation by weekday and hour",
        [
            {"weekday": "1 Mon", "hour": "10", "utilisation": round(1350 / 3150, 9)},
            {"weekday": "1 Mon", "hour": "11", "utilisation": 1.0},
            {"weekday": "2 Tue", "hour": "10", "utilisation": round(1 / 3, 9)},
        ],
        name="floor f1",
        variables={**UTIL, "floor": "f1"},
        **UTIL_RANGE,
    ),
    # Daily buckets start at Helsinki midnight (22:00 UTC the day before).
    Case(
        "utilisation.json",
        "Utilisation per zone",
        [
            {"zone": "z1", "time": ts(MON - 2 * H), "sum_sum": round(2250 / 4050, 9)},
            {"zone": "z1", "time": ts(MON + 22 * H), "sum_sum": round(300 / 900, 9)},
            {"zone": "z2", "time": ts(MON - 2 * H), "sum_sum": 0.625},
            {"zone": "z2", "time": ts(MON + 22 * H), "sum_sum": round(600 / 900, 9)},
        ],
        variables=UTIL,
        interval="1d",
        keep_time=True,
        **UTIL_RANGE,
    ),
    Case(
        "utilisation.json",
        "Utilisation per space type",
        [
            {"space_type": "desk", "time": ts(MON - 2 * H), "sum_sum": round(2250 / 4050, 9)},
            {"space_type": "desk", "time": ts(MON + 22 * H), "sum_sum": round(300 / 900, 9)},
            {"space_type": "meeting_room", "time": ts(MON - 2 * H), "sum_sum": 0.625},
            {
                "space_type": "meeting_room",
                "time": ts(MON + 22 * H),
                "sum_sum": round(600 / 900, 9),
            },
        ],
        variables=UTIL,
        interval="1d",
        keep_time=True,
        **UTIL_RANGE,
    ),
    Case(
        "utilisation.json",
        "Daily peak against average (occupied spaces)",
        [
            {"floor": "f1", "time": ts(MON - 2 * H), "peak": 2.0},
            {"floor": "f1", "time": ts(MON + 22 * H), "peak": 1.0},
            {"floor": "f2", "time": ts(MON - 2 * H), "peak": 1.0},
            {"floor": "f2", "time": ts(MON + 22 * H), "peak": 1.0},
        ],
        variables=UTIL,
        keep_time=True,
        **DAYS_RANGE,
    ),
    Case(
        "utilisation.json",
        "Daily peak against average (occupied spaces)",
        [
            {"floor": "f2", "time": ts(MON - 2 * H), "peak": 1.0},
            {"floor": "f2", "time": ts(MON + 22 * H), "peak": 1.0},
        ],
        name="floor f2",
        variables={**UTIL, "floor": "f2"},
        keep_time=True,
        **DAYS_RANGE,
    ),
    # Busy spaces per open bucket (occupied / 900): f1 Mon 1, .5, 0, 0, 1 ->
    # 0.5, Tue 1/3; f2 Mon 0, 1, 1, .5, 0 -> 0.5, Tue 2/3.
    Case(
        "utilisation.json",
        "Daily peak against average (occupied spaces)",
        [
            {"floor": "f1", "time": ts(MON - 2 * H), "average": 0.5},
            {"floor": "f1", "time": ts(MON + 22 * H), "average": round(1 / 3, 9)},
            {"floor": "f2", "time": ts(MON - 2 * H), "average": 0.5},
            {"floor": "f2", "time": ts(MON + 22 * H), "average": round(2 / 3, 9)},
        ],
        ref_id="B",
        variables=UTIL,
        keep_time=True,
        **DAYS_RANGE,
    ),
    Case(
        "utilisation.json",
        "Daily peak against average (occupied spaces)",
        [{"time": ts(MON - 2 * H), "peak": 3.0}, {"time": ts(MON + 22 * H), "peak": 2.0}],
        ref_id="C",
        variables=UTIL,
        keep_time=True,
        **DAYS_RANGE,
    ),
    Case(
        "utilisation.json",
        "Daily peak against average (occupied spaces)",
        [
            {"time": ts(MON - 2 * H), "average": 1.0},
            {"time": ts(MON + 22 * H), "average": 1.0},
        ],
        ref_id="D",
        variables=UTIL,
        keep_time=True,
        **DAYS_RANGE,
    ),
    # --- Space efficiency (Dec 2025 - Feb 2026; months start at local midnight) ---
    Case(
        "efficiency.json",
        "Site m² per htv (latest month)",
        [{"last": 12.1}],
        variables=AGENCIES,
        **YEAR,
    ),
    Case("efficiency.json", "Target m² per htv", [{"last": 10.0}], variables=AGENCIES, **YEAR),
    Case(
        "efficiency.json",
        "Site use rate (latest month)",
        [{"last": 0.57}],
        variables=AGENCIES,
        **YEAR,
    ),
    Case(
        "efficiency.json",
        "Latest month per agency",
        [
            eff_row("dvv", (12.8, 10.0, 0.52, 1.1, 62.0, 58.0, 120.0, 0.41, 0.96)),
            eff_row("vero", (11.5, 10.0, 0.62, 1.25, 93.0, 88.0, 150.0, 0.47, 0.97)),
        ],
        variables=AGENCIES,
        **YEAR,
    ),
    Case(
        "efficiency.json",
        "Latest month per agency",
        [eff_row("vero", (11.5, 10.0, 0.62, 1.25, 93.0, 88.0, 150.0, 0.47, 0.97))],
        name="vero only",
        variables={**AGENCIES, "agency": "vero"},
        **YEAR,
    ),
    Case(
        "efficiency.json",
        "m² per htv per agency against target",
        [
            {"agency": "dvv", "time": ts(JAN), "m2_per_htv": 13.0},
            {"agency": "dvv", "time": ts(FEB), "m2_per_htv": 12.8},
            {"agency": "vero", "time": ts(JAN), "m2_per_htv": 12.0},
            {"agency": "vero", "time": ts(FEB), "m2_per_htv": 11.5},
        ],
        variables=AGENCIES,
        keep_time=True,
        **YEAR,
    ),
    Case(
        "efficiency.json",
        "m² per htv per agency against target",
        [
            {"time": ts(JAN), "target_m2_per_htv": 10.0},
            {"time": ts(FEB), "target_m2_per_htv": 10.0},
        ],
        ref_id="B",
        variables=AGENCIES,
        keep_time=True,
        **YEAR,
    ),
    Case(
        "efficiency.json",
        "Use rate per agency",
        [
            {"agency": "dvv", "time": ts(JAN), "use_rate": 0.5},
            {"agency": "dvv", "time": ts(FEB), "use_rate": 0.52},
            {"agency": "vero", "time": ts(JAN), "use_rate": 0.6},
            {"agency": "vero", "time": ts(FEB), "use_rate": 0.62},
        ],
        variables=AGENCIES,
        keep_time=True,
        **YEAR,
    ),
    Case(
        "efficiency.json",
        "Desk-sharing ratio (latest month)",
        [{"agency": "dvv", "last": 1.1}, {"agency": "vero", "last": 1.25}],
        variables=AGENCIES,
        **YEAR,
    ),
    # --- Charges (Jan and Feb 2026 of site s1: 10 000.00 each) ---
    Case("charges.json", "Charged in period", [{"sum": 20000.0}], variables=AGENCIES, **YEAR),
    Case(
        "charges.json",
        "Charged in period",
        [{"sum": 11000.25}],
        name="vero",
        variables={**AGENCIES, "agency": "vero"},
        **YEAR,
    ),
    Case(
        "charges.json", "Lines from low-coverage data", [{"count": 1}], variables=AGENCIES, **YEAR
    ),
    Case(
        "charges.json",
        "Charge per agency and month",
        [
            {
                "month": "2026-01",
                "agency": "dvv",
                "amount_eur": 4000.0,
                "hours": 640.0,
                "weighted_hours": 640.0,
                "min_coverage": 0.92,
            },
            {
                "month": "2026-01",
                "agency": "vero",
                "amount_eur": 6000.0,
                "hours": 1100.0,
                "weighted_hours": 1200.0,
                "min_coverage": 0.9,
            },
            {
                "month": "2026-02",
                "agency": "dvv",
                "amount_eur": 4999.75,
                "hours": 1040.0,
                "weighted_hours": 1040.0,
                "min_coverage": 0.93,
            },
            {
                "month": "2026-02",
                "agency": "vero",
                "amount_eur": 5000.25,
                "hours": 800.0,
                "weighted_hours": 800.0,
                "min_coverage": 0.7,
            },
        ],
        variables=AGENCIES,
        **YEAR,
    ),
    Case(
        "charges.json",
        "Monthly charge per agency",
        [
            {"agency": "dvv", "time": ts(JAN), "sum": 4000.0},
            {"agency": "dvv", "time": ts(FEB), "sum": 4999.75},
            {"agency": "vero", "time": ts(JAN), "sum": 6000.0},
            {"agency": "vero", "time": ts(FEB), "sum": 5000.25},
        ],
        variables=AGENCIES,
        keep_time=True,
        **YEAR,
    ),
]


def _charge_lines() -> list[dict[str, Any]]:
    # Written out from the CHARGES table of the scenario: the s1 lines.
    rows = [
        ("2026-01", "dvv", "base", 2400.0, 0.0, 0.0, 1.0, 0),
        ("2026-01", "dvv", "desk", 1600.0, 640.0, 640.0, 0.92, 0),
        ("2026-01", "vero", "base", 3000.0, 0.0, 0.0, 1.0, 0),
        ("2026-01", "vero", "desk", 2500.5, 1000.0, 1000.0, 0.95, 0),
        ("2026-01", "vero", "meeting_room", 499.5, 100.0, 200.0, 0.9, 0),
        ("2026-02", "dvv", "base", 2400.0, 0.0, 0.0, 1.0, 0),
        ("2026-02", "dvv", "desk", 2599.75, 1040.0, 1040.0, 0.93, 0),
        ("2026-02", "vero", "base", 3000.0, 0.0, 0.0, 1.0, 0),
        ("2026-02", "vero", "desk", 2000.25, 800.0, 800.0, 0.7, 1),
    ]
    keys = (
        "month",
        "agency",
        "line",
        "amount_eur",
        "hours",
        "weighted_hours",
        "coverage",
        "estimated",
    )
    return [{**dict(zip(keys, r, strict=True)), "tariff_version": "2026-01"} for r in rows]


CASES.append(
    Case("charges.json", "Charge lines (audit)", _charge_lines(), variables=AGENCIES, **YEAR)
)


# --- Energy of empty space (scenario.ENERGY): Monday, local midnight to midnight ---
# (InfluxDB's JSON gives 1/6 and 5/12 to 9 decimals)
ENERGY_DAY = {"start": MON - 2 * H, "end": MON + 22 * H}
ENERGY_VARS = {"site": "s1", "floor": ALL, "zone": ALL}
CASES += [
    Case("energy.json", "Empty conditioned zone-hours", [{"empty_h": 1.5}],
         variables=ENERGY_VARS, **ENERGY_DAY),
    Case("energy.json", "Empty conditioned zone-hours", [{"empty_h": 0.0}], name="zone z2",
         variables={**ENERGY_VARS, "zone": "z2"}, **ENERGY_DAY),
    Case("energy.json", "Empty share of conditioned time", [{"share": 0.5}],
         variables=ENERGY_VARS, **ENERGY_DAY),
    Case("energy.json", "Unknown share (not counted as empty)", [{"share": 0.166666667}],
         variables=ENERGY_VARS, **ENERGY_DAY),
    Case("energy.json", "Whole floor empty, share of conditioned time", [{"share": 0.416666667}],
         variables=ENERGY_VARS, **ENERGY_DAY),
    Case("energy.json", "Empty conditioned hours per zone per day",
         [{"zone": "z1", "empty_h": 1.5}, {"zone": "z2", "empty_h": 0.0}],
         variables=ENERGY_VARS, **ENERGY_DAY),
    Case("energy.json", "Empty share of conditioned time per zone per day",
         [{"zone": "z1", "share": 0.75}, {"zone": "z2", "share": 0.0}],
         variables=ENERGY_VARS, **ENERGY_DAY),
    Case("energy.json", "Empty share per zone over the range",
         [{"zone": "z1", "share": 0.75}, {"zone": "z2", "share": 0.0}],
         variables=ENERGY_VARS, **ENERGY_DAY),
    Case("energy.json", "Empty share per zone over the range", [{"zone": "z1", "share": 0.75}],
         name="floor f1", variables={**ENERGY_VARS, "floor": "f1"}, **ENERGY_DAY),
]  # fmt: skip


def _canonical(v: Any) -> Any:
    # InfluxDB's JSON writes 10.0 as 10: compare numbers as numbers.
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else v


def _sorted(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(
        json.dumps({k: (v if k == "time" else _canonical(v)) for k, v in r.items()}, sort_keys=True)
        for r in rows
    )


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_panel_query_returns_hand_worked_figures(case: Case, run_panel: Runner) -> None:
    rows = run_panel(
        case.file,
        case.title,
        case.ref_id,
        variables=case.variables,
        start=case.start,
        end=case.end,
        interval=case.interval,
        textboxes=HELSINKI,
    )
    if not case.keep_time:
        rows = [{k: v for k, v in r.items() if k != "time"} for r in rows]
    assert _sorted(rows) == _sorted(case.expected), dump(rows)


def test_every_panel_query_has_a_hand_worked_case() -> None:
    targets = {
        (file, panel["title"], t["refId"])
        for file, model in build_all().items()
        if file != SERVICE_FILE  # its own scenario: test_service_dashboard.py
        for panel in model["panels"]
        for t in panel["targets"]
    }
    covered = {(c.file, c.title, c.ref_id) for c in CASES}
    assert targets - covered == set(), "panels without a hand-worked case"
    assert covered - targets == set(), "cases for panels that no longer exist"


VARIABLE_CASES = [
    ("live.json", "site", {}, ["s1", "s2"]),
    ("live.json", "floor", {"site": "s1"}, ["f1", "f2"]),
    ("live.json", "zone", {"site": "s1", "floor": ALL}, ["z1", "z2"]),
    ("live.json", "zone", {"site": "s1", "floor": "f1"}, ["z1"]),
    ("utilisation.json", "site", {}, ["s1", "s2"]),
    ("utilisation.json", "zone", {"site": "s2", "floor": ALL}, ["za"]),
    ("efficiency.json", "site", {}, ["s1", "s2"]),
    ("efficiency.json", "agency", {"site": "s1"}, ["dvv", "vero"]),
    ("charges.json", "agency", {"site": "s1"}, ["dvv", "vero"]),
    ("charges.json", "agency", {"site": "s2"}, ["vero"]),
    ("energy.json", "site", {}, ["s1", "s2"]),
]


@pytest.mark.parametrize(
    ("file", "name", "variables", "expected"),
    VARIABLE_CASES,
    ids=[f"{f}:{n}:{v}" for f, n, v, _ in VARIABLE_CASES],
)
def test_template_variable_query(
    file: str,
    name: str,
    variables: dict[str, VarValue],
    expected: list[str],
    influx: Any,
    scenario_db: str,
    models: dict[str, Any],
) -> None:
    from dashboards.interpolate import all_values_of, interpolate
    from tests.dashboards.conftest import normalise

    (var,) = [v for v in models[file]["templating"]["list"] if v["name"] == name]
    query = interpolate(
        var["query"],
        variables=variables,
        start=NOW,
        end=NOW,
        all_values=all_values_of(models[file]),
    )
    rows = normalise(influx.query(query, db=scenario_db))
    assert sorted(r["value"] for r in rows) == expected


def test_every_query_variable_is_checked(models: dict[str, Any]) -> None:
    names = {
        (file, v["name"])
        for file, model in models.items()
        if file != SERVICE_FILE  # its own scenario: test_service_dashboard.py
        for v in model["templating"]["list"]
        if v["type"] == "query"
    }
    checked = {(f, n) for f, n, _, _ in VARIABLE_CASES}
    missing = names - checked
    # floor and zone are the same query on every dashboard that has them.
    same = {(f, n) for f, n in missing if n in {"floor", "zone", "site"}}
    assert missing - same == set()
    for f, n in same:
        query = next(v["query"] for v in models[f]["templating"]["list"] if v["name"] == n)
        assert any(
            next(v["query"] for v in models[cf]["templating"]["list"] if v["name"] == cn) == query
            or (n == "site" and cn == "site")
            for cf, cn in checked
            if cn == n
        )
