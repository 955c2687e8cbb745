"""The committed example portfolio is what examples/generate_portfolio.py
makes (edit the script, not the files); its sites are of the three kinds the
portfolio needs, pass the site checks and can be simulated."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from datetime import date
from types import ModuleType

import pytest

from core.calendar import local_day_bounds
from core.registry import SpaceType, load_registry, load_site
from simulators.backfill import backfill
from simulators.scenario import Scenario
from tests.conftest import REPO

EXAMPLES = REPO / "examples"
FOLDER = EXAMPLES / "portfolio"


@pytest.fixture(scope="module")
def generator() -> Iterator[ModuleType]:
    sys.path.insert(0, str(EXAMPLES))
    try:
        yield importlib.import_module("generate_portfolio")
    finally:
        sys.path.remove(str(EXAMPLES))


def test_the_committed_files_are_generated(generator: ModuleType) -> None:
    want = generator.files()
    assert sorted(p.name for p in FOLDER.iterdir()) == sorted(want)
    for name, text in want.items():
        assert (FOLDER / name).read_text("utf-8") == text, name


def test_every_site_passes_the_site_checks() -> None:
    for file in sorted(FOLDER.glob("*.yaml")):
        if file.name != "portfolio.yaml":
            site = load_site(file)  # raises on any problem
            assert list(site.reference_problems()) == [], file


def test_the_sites_are_of_the_three_kinds() -> None:
    registry = load_registry(FOLDER)
    assert {s.region for s in registry} == {"pohjois-karjala", "etela-karjala", "paijat-hame"}
    kinds = {}
    for site in registry:
        desks_per_zone = [
            sum(1 for sp in site.spaces if sp.zone == z.id and sp.type is SpaceType.DESK)
            for z in site.zones
            if z.agency is not None
        ]
        service = sum(1 for sp in site.spaces if sp.type is SpaceType.SERVICE_POINT)
        if desks_per_zone and max(desks_per_zone) <= 2:
            kinds[site.id] = "room offices"
        elif desks_per_zone:
            kinds[site.id] = "shared office"
        elif service:
            kinds[site.id] = "service point"
        assert len(site.spaces) <= 150, site.id
    assert set(kinds.values()) == {"room offices", "shared office", "service point"}
    assert len(kinds) == 6
    # agencies shared across sites: vero everywhere, kela at five
    assert sum("vero" in {a.id for a in s.agencies} for s in registry) == 6
    assert sum("kela" in {a.id for a in s.agencies} for s in registry) == 5


def test_every_site_can_be_simulated() -> None:
    """A Tuesday (every site is open on Tuesdays): each site's spaces report."""
    for site in load_registry(FOLDER):
        start, end = local_day_bounds(site, date(2026, 3, 3))
        result = backfill(site, Scenario(seed=1), None, start, end)
        assert result.changes > 0, site.id
        assert result.truth is not None
