"""Builds the dashboards and writes them as deterministic JSON.

``dashboards/generated/*.json`` is committed; ``tests/dashboards`` regenerates
it and fails on any difference, and Grafana's file provider (compose) and
``occupancy dashboards push`` both read those files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from dashboards import variables
from dashboards.model import Json, dashboard, datasource_variable
from dashboards.panels import charges, efficiency, energy, live, service, utilisation

GENERATED = Path(__file__).resolve().parent / "generated"
FOLDER_UID = "occupancy"
FOLDER_TITLE = "Occupancy"


@dataclass(frozen=True)
class DashboardSpec:
    """What tells one dashboard from the others; the rest is ``model.dashboard``'s."""

    file: str
    uid: str
    title: str
    description: str
    panels: list[Json]
    #: after the data source variable, which every dashboard has first
    variables: list[Json]
    time_from: str
    refresh: str = ""
    tags: tuple[str, ...] = ("occupancy",)

    def build(self) -> Json:
        return dashboard(
            uid=self.uid,
            title=self.title,
            description=self.description,
            panels=self.panels,
            variables=[datasource_variable(), *self.variables],
            time_from=self.time_from,
            refresh=self.refresh,
            tags=self.tags,
        )


def specs() -> tuple[DashboardSpec, ...]:
    """Every dashboard, in the order they are written. Built afresh on each
    call, so no two dashboards share a (mutable) panel or variable dict."""
    return (
        DashboardSpec(
            file="live.json",
            uid="occupancy-live",
            title="Live occupancy",
            description=(
                "Occupied spaces now per floor and zone; offline agents and faulty sensors."
            ),
            panels=live.panels(),
            variables=[variables.site(), variables.floor(), variables.zone()],
            time_from="now-6h",
            refresh="30s",
        ),
        DashboardSpec(
            file="utilisation.json",
            uid="occupancy-utilisation",
            title="Utilisation",
            description=(
                "Utilisation by weekday and hour, per zone and space type; peak and average."
            ),
            panels=utilisation.panels(),
            variables=[
                variables.site("utilisation"),
                variables.floor(),
                variables.zone(),
                variables.timezone(),
            ],
            time_from="now-30d",
        ),
        DashboardSpec(
            file="efficiency.json",
            uid="occupancy-efficiency",
            title="Space efficiency",
            description="m² per htv against target, use rate and desk-sharing ratio per agency.",
            panels=efficiency.panels(),
            variables=[variables.site("efficiency"), variables.agency("efficiency")],
            time_from="now-1y",
        ),
        DashboardSpec(
            file="charges.json",
            uid="occupancy-charges",
            title="Charges",
            description="Usage-based charge per agency per month, with its audit lines.",
            panels=charges.panels(),
            variables=[variables.site("charges"), variables.agency("charges")],
            time_from="now-1y",
            tags=("occupancy", "finance"),
        ),
        DashboardSpec(
            file="service.json",
            uid="occupancy-service",
            title="Service points",
            description="Visits counted at the door per hour and day, and counter utilisation.",
            panels=service.panels(),
            variables=[
                variables.site("entrance_counts"),
                variables.service_zone(),
                variables.timezone(),
            ],
            time_from="now-7d",
        ),
        DashboardSpec(
            file="energy.json",
            uid="occupancy-energy",
            title="Energy of empty space",
            description="Conditioned hours in which no space of a zone was occupied (issue 19).",
            panels=energy.panels(),
            variables=[
                variables.site("summary_energy_hours"),
                variables.floor(),
                variables.zone(),
                variables.timezone(),
            ],
            time_from="now-90d",
        ),
    )


def build_all() -> dict[str, Json]:
    """File name -> dashboard model."""
    return build_specs(specs())


def build_specs(table: tuple[DashboardSpec, ...]) -> dict[str, Json]:
    # a repeated file or uid would silently drop a dashboard (or overwrite it in Grafana)
    for field in ("file", "uid"):
        values = [getattr(spec, field) for spec in table]
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            raise ValueError(f"dashboard {field} repeated: {', '.join(repeated)}")
    return {spec.file: spec.build() for spec in table}


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
