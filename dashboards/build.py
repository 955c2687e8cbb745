"""Builds the dashboards and writes them as deterministic JSON.

``dashboards/generated/*.json`` is committed; ``tests/dashboards`` regenerates
it and fails on any difference, and Grafana's file provider (compose) and
``occupancy dashboards push`` both read those files.
"""

from __future__ import annotations

import json
from pathlib import Path

from dashboards import variables
from dashboards.model import Json, dashboard, datasource_variable
from dashboards.panels import charges, efficiency, energy, live, service, utilisation

GENERATED = Path(__file__).resolve().parent / "generated"
FOLDER_UID = "occupancy"
FOLDER_TITLE = "Occupancy"


def live_dashboard() -> Json:
    return dashboard(
        uid="occupancy-live",
        title="Live occupancy",
        description="Occupied spaces now per floor and zone; offline agents and faulty sensors.",
        panels=live.panels(),
        variables=[
            datasource_variable(),
            variables.site(),
            variables.floor(),
            variables.zone(),
        ],
        time_from="now-6h",
        refresh="30s",
    )


def utilisation_dashboard() -> Json:
    return dashboard(
        uid="occupancy-utilisation",
        title="Utilisation",
        description="Utilisation by weekday and hour, per zone and space type; peak and average.",
        panels=utilisation.panels(),
        variables=[
            datasource_variable(),
            variables.site("utilisation"),
            variables.floor(),
            variables.zone(),
            variables.timezone(),
        ],
        time_from="now-30d",
    )


def efficiency_dashboard() -> Json:
    return dashboard(
        uid="occupancy-efficiency",
        title="Space efficiency",
        description="m² per htv against target, use rate and desk-sharing ratio per agency.",
        panels=efficiency.panels(),
        variables=[
            datasource_variable(),
            variables.site("efficiency"),
            variables.agency("efficiency"),
        ],
        time_from="now-1y",
    )


def charges_dashboard() -> Json:
    return dashboard(
        uid="occupancy-charges",
        title="Charges",
        description="Usage-based charge per agency per month, with its audit lines.",
        panels=charges.panels(),
        variables=[datasource_variable(), variables.site("charges"), variables.agency("charges")],
        time_from="now-1y",
        tags=("occupancy", "finance"),
    )


def service_dashboard() -> Json:
    return dashboard(
        uid="occupancy-service",
        title="Service points",
        description="Visits counted at the door per hour and day, and counter utilisation.",
        panels=service.panels(),
        variables=[
            datasource_variable(),
            variables.site("entrance_counts"),
            variables.service_zone(),
            variables.timezone(),
        ],
        time_from="now-7d",
    )


def energy_dashboard() -> Json:
    return dashboard(
        uid="occupancy-energy",
        title="Energy of empty space",
        description="Conditioned hours in which no space of a zone was occupied (issue 19).",
        panels=energy.panels(),
        variables=[
            datasource_variable(),
            variables.site("summary_energy_hours"),
            variables.floor(),
            variables.zone(),
            variables.timezone(),
        ],
        time_from="now-90d",
    )


def build_all() -> dict[str, Json]:
    """File name -> dashboard model."""
    return {
        "live.json": live_dashboard(),
        "utilisation.json": utilisation_dashboard(),
        "efficiency.json": efficiency_dashboard(),
        "charges.json": charges_dashboard(),
        "service.json": service_dashboard(),
        "energy.json": energy_dashboard(),
    }


def render(model: Json) -> str:
    return json.dumps(model, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_all(out_dir: Path = GENERATED) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in build_all().items():
        path = out_dir / name
        path.write_text(render(model), encoding="utf-8")
        written.append(path)
    return written


def stale_files(out_dir: Path = GENERATED) -> list[str]:
    """Generated files that differ from what the code builds now (or are
    missing, or are left over from a dashboard that no longer exists)."""
    built = {name: render(model) for name, model in build_all().items()}
    problems = []
    for name, text in built.items():
        path = out_dir / name
        if not path.exists():
            problems.append(f"{name}: missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{name}: differs from the code")
    for path in sorted(out_dir.glob("*.json")):
        if path.name not in built:
            problems.append(f"{path.name}: not built by the code")
    return problems


def load_generated(out_dir: Path = GENERATED) -> dict[str, Json]:
    return {
        p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(out_dir.glob("*.json"))
    }
