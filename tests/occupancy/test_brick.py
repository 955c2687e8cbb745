"""``occupancy site export --format brick``: the small test site as Brick
Schema Turtle, validated by the ``brickschema`` package against Brick 1.4
and this export's own shapes (occupancy/brick_shapes.ttl); broken models
fail the same validation. What the graph must hold is read from the site
YAML itself, not through the registry code."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from typing import Any
from unittest import mock

import brickschema
import pytest
import rdflib
import yaml
from rdflib import RDF, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS
from typer.testing import CliRunner

from occupancy import cli
from occupancy.brick import SHAPES
from tests.api.conftest import SMALL_SITE

BRICK = Namespace("https://brickschema.org/schema/Brick#")
REC = Namespace("https://w3id.org/rec#")
NS = "urn:occupancy:pieni/"
WARNING = URIRef("http://www.w3.org/ns/shacl#Warning")
SH = Namespace("http://www.w3.org/ns/shacl#")


@pytest.fixture(scope="module")
def site_yaml(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    data = yaml.safe_load(SMALL_SITE.read_text(encoding="utf-8"))
    data["zones"][0]["system"] = "hvac"  # za
    data["zones"][1]["system"] = "lighting"  # zb
    data["floors"][0]["name_en"] = "Ground floor"
    path = tmp_path_factory.mktemp("brick") / "pieni.yaml"
    # the floor plan image the site file names lies beside it
    shutil.copytree(SMALL_SITE.parent / "plans", path.parent / "plans")
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path, data


@pytest.fixture(scope="module")
def shapes() -> list[rdflib.Graph]:
    brick = brickschema.Graph(load_brick=True, brick_version="1.4")
    return [brick, rdflib.Graph().parse(SHAPES, format="turtle")]


def export(*args: str) -> Any:
    with mock.patch("typer.testing._get_command", lambda _app: cli.build()):
        return CliRunner().invoke(cli.app, ["site", "export", *args], prog_name="occupancy")


@pytest.fixture(scope="module")
def turtle(site_yaml: tuple[Path, dict[str, Any]]) -> str:
    r = export(str(site_yaml[0]), "--format", "brick")
    assert r.exit_code == 0, r.output
    return str(r.stdout)


def graph_of(text: str) -> brickschema.Graph:
    g = brickschema.Graph()
    g.parse(data=text, format="turtle")
    return g


def validate(g: rdflib.Graph, shapes: list[rdflib.Graph]) -> tuple[bool, list[tuple[Any, str]]]:
    conforms, results, _ = g.validate(extra_graphs=shapes)
    found = [
        (results.value(r, SH.resultSeverity), str(results.value(r, SH.resultMessage)))
        for r in results.subjects(RDF.type, SH.ValidationResult)
    ]
    return conforms, found


def test_export_validates_and_holds_the_site(
    turtle: str, site_yaml: tuple[Path, dict[str, Any]], shapes: list[rdflib.Graph]
) -> None:
    g = graph_of(turtle)
    conforms, results = validate(g, shapes)
    assert conforms, results
    # the one warning: brick:Lighting_Zone is deprecated with no REC replacement yet
    assert results and all(sev == WARNING and "Lighting_Zone" in m for sev, m in results)

    data = site_yaml[1]
    types = Counter(o for _, o in g.subject_objects(RDF.type))
    kinds = Counter(s["type"] for s in data["spaces"])
    assert types[REC.Building] == 1 and types[REC.Level] == len(data["floors"])
    assert types[REC.Workspace] == kinds["desk"] == types[REC.Desk]
    assert types[REC.ConferenceRoom] == kinds["meeting_room"]
    assert types[REC.HVACZone] == 1 and types[BRICK.Lighting_Zone] == 1
    assert types[REC.Zone] == 2  # the lighting zone and the plain one (zs)
    sensors = [s for s in data["spaces"] if "sensor" in s]
    assert types[BRICK.Sensor_Equipment] == types[BRICK.Occupancy_Sensor] == len(sensors)
    # the project's ids, and what holds what
    for s in data["spaces"]:
        space = URIRef(f"{NS}space/{s['id']}")
        assert (space, DCTERMS.identifier, Literal(s["id"])) in g
        assert (space, REC.isPartOf, URIRef(f"{NS}zone/{s['zone']}")) in g
        sensor = URIRef(f"{NS}sensor/{s['sensor']['id']}")
        assert (sensor, REC.locatedIn, space) in g
        assert (URIRef(f"{sensor}/occupancy"), BRICK.isPointOf, sensor) in g
    floor = URIRef(f"{NS}floor/{data['floors'][0]['id']}")
    assert (floor, rdflib.RDFS.label, Literal("Ground floor", lang="en")) in g


def _without_point_of(g: rdflib.Graph) -> None:
    point = next(g.subjects(RDF.type, BRICK.Occupancy_Sensor))
    g.remove((point, BRICK.isPointOf, None))


def _point_of_a_point(g: rdflib.Graph) -> None:
    a, b = list(g.subjects(RDF.type, BRICK.Occupancy_Sensor))[:2]
    g.remove((a, BRICK.isPointOf, None))
    g.add((a, BRICK.isPointOf, b))


def _floor_number_not_integer(g: rdflib.Graph) -> None:
    floor = next(g.subjects(RDF.type, REC.Level))
    g.set((floor, REC.levelNumber, Literal("first")))


BREAKS = [
    (_without_point_of, "an occupancy point is the point of exactly one sensor"),
    (_point_of_a_point, "A Point can be a Point of Equipment, Location or Space"),
    (_floor_number_not_integer, "does not have datatype"),
]


def test_a_broken_model_fails_validation(turtle: str, shapes: list[rdflib.Graph]) -> None:
    # One validation of all three breaks at once (each takes seconds): the
    # intact model has no violation at all, so each message is its break's.
    g = graph_of(turtle)
    for breaks, _ in BREAKS:
        breaks(g)
    conforms, results = validate(g, shapes)
    assert not conforms
    violations = [m for sev, m in results if sev != WARNING]
    for _, message in BREAKS:
        assert any(message in m for m in violations), (message, violations)


def test_export_to_a_file_and_bad_arguments(
    site_yaml: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    out = tmp_path / "site.ttl"
    r = export(str(site_yaml[0]), "--out", str(out), "--base-iri", "https://example.org/pieni/")
    assert r.exit_code == 0 and out.is_file()
    g = graph_of(out.read_text(encoding="utf-8"))
    assert (URIRef("https://example.org/pieni/building"), RDF.type, REC.Building) in g
    assert export(str(site_yaml[0]), "--format", "ifc").exit_code == 2
    assert export(str(site_yaml[0]), "--base-iri", "https://x.org/a").exit_code == 2
