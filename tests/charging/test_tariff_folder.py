"""OCCUPANCY_API_TARIFFS may name a folder of tariff files (issue 14, item 3)."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from api.routes.charges import _tariff
from charging.tariff import TariffError, load_tariff_for_site
from tests.conftest import REPO

EXAMPLE = REPO / "examples" / "tariffs" / "virastotalo.yaml"


def other_site_tariff(folder: Path, site: str, name: str) -> Path:
    data = yaml.safe_load(EXAMPLE.read_text())
    data["name"] = name
    for version in data["versions"]:
        version["sites"] = {site: version["sites"]["virastotalo"]}
    path = folder / f"{site}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def test_the_tariff_of_a_site_is_found_in_a_folder(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / "virastotalo.yaml")
    other_site_tariff(tmp_path, "palvelupiste-m", "Palvelupiste M")
    assert load_tariff_for_site(tmp_path, "palvelupiste-m").name == "Palvelupiste M"
    assert load_tariff_for_site(tmp_path, "virastotalo").name.startswith("Virastotalo")
    with pytest.raises(TariffError, match=r"no tariff .* prices site 'nowhere'"):
        load_tariff_for_site(tmp_path, "nowhere")


def test_a_site_priced_twice_is_refused(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / "a.yaml")
    shutil.copy(EXAMPLE, tmp_path / "b.yaml")
    with pytest.raises(TariffError, match=r"several tariff files: a\.yaml, b\.yaml"):
        load_tariff_for_site(tmp_path, "virastotalo")


def test_the_api_reads_a_tariff_folder(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / "virastotalo.yaml")
    ctx = SimpleNamespace(settings=SimpleNamespace(tariffs=tmp_path))
    # used to fail with "Is a directory"
    assert _tariff(ctx, "virastotalo").name.startswith("Virastotalo")  # type: ignore[arg-type]
    ctx = SimpleNamespace(settings=SimpleNamespace(tariffs=EXAMPLE))  # a file still works
    assert _tariff(ctx, "virastotalo").name.startswith("Virastotalo")  # type: ignore[arg-type]
