"""The portfolio file of a registry folder (core.portfolio): loaded beside the
site files, its target inherited by sites without their own, and its checks
across the site files, each error naming the file and line to fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.portfolio import load_portfolio
from core.registry import load_registry
from core.yamlfile import ConfigError, YamlFileError
from tests.conftest import REPO

EXAMPLE = REPO / "examples" / "portfolio"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "portfolio"
    shutil.copytree(EXAMPLE, out)
    return out


def line_of(file: Path, text: str) -> int:
    """The 1-based number of the first line of ``file`` containing ``text``."""
    return next(i for i, line in enumerate(file.read_text("utf-8").splitlines(), 1) if text in line)


def edit(file: Path, old: str, new: str, count: int = 1) -> None:
    text = file.read_text("utf-8")
    assert old in text, old
    file.write_text(text.replace(old, new, count), encoding="utf-8")


def test_the_example_portfolio_loads() -> None:
    registry = load_registry(EXAMPLE)
    assert registry.portfolio is not None
    p = registry.portfolio.portfolio
    assert (p.id, p.target_m2_per_htv) == ("valtion-toimitilat", 10.0)
    assert p.region_ids == ["pohjois-karjala", "etela-karjala", "paijat-hame"]
    assert p.region("etela-karjala").name_in("sv") == "Södra Karelen"  # type: ignore[union-attr]
    assert len(registry) == 6
    municipalities = {s.municipality for s in registry}
    assert municipalities == {"Joensuu", "Lieksa", "Lappeenranta", "Imatra", "Lahti", "Heinola"}


def test_a_site_without_its_own_target_inherits_the_portfolios(folder: Path) -> None:
    edit(folder / "portfolio.yaml", "target_m2_per_htv: 10.0", "target_m2_per_htv: 12.5")
    registry = load_registry(folder)
    # the office sites give no target; the service points give their own 15
    assert registry.site("joensuu-virastotalo").target_m2_per_htv == 12.5
    assert registry.site("lahti-virastotalo").target_m2_per_htv == 12.5
    assert registry.site("imatra-palvelupiste").target_m2_per_htv == 15.0
    # the copy keeps what the site file made: lookups and its version
    joensuu = registry.site("joensuu-virastotalo")
    assert joensuu.space("f2-a-d01").zone == "f2-a"
    assert joensuu.version == load_registry(EXAMPLE).site("joensuu-virastotalo").version


def test_the_portfolio_file_is_part_of_the_registry_version(folder: Path) -> None:
    before = load_registry(folder).version
    edit(folder / "portfolio.yaml", "target_m2_per_htv: 10.0", "target_m2_per_htv: 11.0")
    assert load_registry(folder).version != before


def test_a_folder_of_site_files_alone_still_loads(folder: Path) -> None:
    (folder / "portfolio.yaml").unlink()
    registry = load_registry(folder)
    assert registry.portfolio is None and len(registry) == 6
    # the site default: 10 m²/htv
    assert registry.site("joensuu-virastotalo").target_m2_per_htv == 10.0
    edit(folder / "heinola-palvelupiste.yaml", "region: paijat-hame", "region: somewhere")
    assert load_registry(folder).site("heinola-palvelupiste").region == "somewhere"


def test_an_unknown_region_names_the_site_file_and_line(folder: Path) -> None:
    site = folder / "lieksa-palvelupiste.yaml"
    edit(site, "region: pohjois-karjala", "region: pohjois-karjal")
    with pytest.raises(ConfigError) as err:
        load_registry(folder)
    line = line_of(site, "region: pohjois-karjal")
    assert str(err.value) == (
        f"{site}:{line}: region: unknown region 'pohjois-karjal' (did you mean "
        "'pohjois-karjala'?); the portfolio's regions: pohjois-karjala, etela-karjala, "
        "paijat-hame"
    )


def test_a_site_without_a_region_is_refused_in_a_portfolio_of_regions(folder: Path) -> None:
    site = folder / "imatra-palvelupiste.yaml"
    edit(site, "region: etela-karjala\n", "")
    with pytest.raises(ConfigError, match=r"imatra-palvelupiste\.yaml: the site names no region"):
        load_registry(folder)


def test_one_agency_id_is_one_agency_at_every_site(folder: Path) -> None:
    """kela's name at Lahti differs from Heinola's (the first site by id)."""
    site = folder / "lahti-virastotalo.yaml"
    edit(site, "name: Kansaneläkelaitos", "name: Kela")
    edit(folder / "imatra-palvelupiste.yaml", "business_id: 0245458-3", "business_id: 0245442-8")
    with pytest.raises(ConfigError) as err:
        load_registry(folder)
    lines = str(err.value).splitlines()
    imatra = folder / "imatra-palvelupiste.yaml"
    assert lines == [
        f"{imatra}:{line_of(imatra, 'business_id: 0245442-8')}: agencies[1].business_id: "
        "agency 'vero' has business_id '0245442-8' here but '0245458-3' at site "
        "'heinola-palvelupiste'; one agency id is one agency (only headcount differs per site)",
        f"{site}:{line_of(site, 'name: Kela')}: agencies[0].name: agency 'kela' has name "
        "'Kela' here but 'Kansaneläkelaitos' at site 'heinola-palvelupiste'; one agency id "
        "is one agency (only headcount differs per site)",
    ]


def test_headcounts_differ_per_site() -> None:
    registry = load_registry(EXAMPLE)
    vero = {s.id: s.agency("vero").headcount_htv for s in registry}
    assert len(vero) == 6 and len(set(vero.values())) > 1


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ("target_m2_per_htv: 10.0", "target_m2_per_htv: -1", "target_m2_per_htv", "greater than 0"),
        ("regions:", "regionz:", "regionz", "unknown key 'regionz' (did you mean 'regions'?)"),
        ("- id: etela-karjala", "- id: pohjois-karjala", "regions", "listed twice"),
    ],
)
def test_a_bad_portfolio_file_names_its_line(
    folder: Path, old: str, new: str, field: str, message: str
) -> None:
    file = folder / "portfolio.yaml"
    edit(file, old, new)
    with pytest.raises(YamlFileError) as err:
        load_portfolio(file)
    (line, got_field, msg), *_ = err.value.problems
    assert got_field == field and message in msg
    if field != "regions":
        assert line == line_of(file, new)
    with pytest.raises(YamlFileError):
        load_registry(folder)


def test_two_portfolio_files_are_refused(folder: Path) -> None:
    shutil.copy(folder / "portfolio.yaml", folder / "portfolio.yml")
    with pytest.raises(YamlFileError, match=r"both portfolio\.yaml and portfolio\.yml"):
        load_registry(folder)


def test_a_folder_with_only_a_portfolio_file_has_no_sites(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE / "portfolio.yaml", tmp_path / "portfolio.yaml")
    with pytest.raises(YamlFileError, match="no site files"):
        load_registry(tmp_path)


def test_site_check_reads_the_portfolio(folder: Path) -> None:
    from typer.testing import CliRunner

    from occupancy.site_cli import app

    r = CliRunner().invoke(app, ["check", str(folder)])
    assert r.exit_code == 0, r.output
    assert "portfolio valtion-toimitilat: 6 sites in 3 regions" in r.output
    edit(folder / "lahti-virastotalo.yaml", "region: paijat-hame", "region: paijat-hame2")
    r = CliRunner().invoke(app, ["check", str(folder)])
    assert r.exit_code == 2 and "lahti-virastotalo.yaml:" in r.output
    assert "unknown region 'paijat-hame2'" in r.output
