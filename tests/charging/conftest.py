from __future__ import annotations

from pathlib import Path

import pytest

from charging.tariff import Tariff, load_tariff
from core.registry import Site, load_site

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def pieni() -> Site:
    return load_site(DATA / "pieni.yaml")


@pytest.fixture(scope="session")
def pieni_tariff() -> Tariff:
    return load_tariff(DATA / "pieni-tariff.yaml")
