"""The committed example site and its plan drawings are what
examples/generate_site.py makes (edit the script, not the files), and every
room of a plan lies inside its walls."""

from __future__ import annotations

import importlib
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from tests.conftest import REPO

EXAMPLES = REPO / "examples"


@pytest.fixture(scope="module")
def generator() -> Iterator[ModuleType]:
    sys.path.insert(0, str(EXAMPLES))  # the script imports its sibling generate_plans
    try:
        yield importlib.import_module("generate_site")
    finally:
        sys.path.remove(str(EXAMPLES))


def test_the_committed_site_file_is_generated(generator: ModuleType) -> None:
    committed = yaml.safe_load((EXAMPLES / "sites" / "virastotalo.yaml").read_text("utf-8"))
    assert committed == generator.build()


def test_the_committed_plans_are_generated(generator: ModuleType, tmp_path: Path) -> None:
    generator.write_plans(generator.build(), tmp_path)
    for level in (1, 2, 3, 4):
        name = f"plans/virastotalo-f{level}.svg"
        assert (tmp_path / name).read_text("utf-8") == (EXAMPLES / "sites" / name).read_text(
            "utf-8"
        ), name


def test_every_room_lies_inside_its_walls(generator: ModuleType) -> None:
    """Each room's four walls (px) enclose its geometry (metres) at the plan's
    scale and origin: x_px = 40 + x / 0.05."""
    site = generator.build()
    svg = ET.parse(EXAMPLES / "sites" / "plans" / "virastotalo-f2.svg").getroot()
    ns = "{http://www.w3.org/2000/svg}"
    walls = [
        tuple(float(w.get(k, 0)) for k in ("x1", "y1", "x2", "y2"))
        for w in svg.iter(f"{ns}line")
        if w.get("class") == "wall"
    ]
    rooms = [s for s in site["spaces"] if s["id"].startswith("f2-room-")]
    assert len(rooms) == 7
    for room in rooms:
        g = room["geometry"]
        x0, y0 = 40 + g["x"] / 0.05, 40 + g["y"] / 0.05
        x1, y1 = x0 + g["w"] / 0.05, y0 + g["h"] / 0.05
        # the south wall runs along the room's bottom edge, just outside it
        south = [w for w in walls if w[1] == w[3] and y1 < w[1] <= y1 + 3]
        assert any(min(w[0], w[2]) < x0 and max(w[0], w[2]) > x1 for w in south), room["id"]
