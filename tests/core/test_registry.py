"""Strict site files: every error names the file, the line and the field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from core.registry import load_registry, load_site
from core.yamlfile import ConfigError, YamlFileError

VALID = """\
id: small
name: Small office
timezone: Europe/Helsinki
opening_hours:
  mon: ["08:00-12:00", "12:30-16:00"]
  tue: ["08:00-16:00"]
area_m2: 120
agencies:
  - id: a1
    name: Agency One
    headcount_htv: 10
floors:
  - id: f1
    name: First
    level: 1
    plan: {width: 20, height: 10}
zones:
  - id: z1
    name: Zone one
    floor: f1
    agency: a1
spaces:
  - id: d1
    type: desk
    zone: z1
    capacity: 1
    area_m2: 6
    geometry: {x: 1, y: 1, w: 1.6, h: 0.8}
    sensor: {id: s1, agent: ag1}
  - id: d2
    type: desk
    zone: z1
    capacity: 1
    area_m2: 6
    geometry: {x: 3, y: 1, w: 1.6, h: 0.8}
    sensor: {id: s2, agent: ag1}
"""


def write(tmp_path: Path, text: str, name: str = "site.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def error_of(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(YamlFileError) as err:
        load_site(path)
    message = str(err.value)
    assert str(path) in message
    return message


def test_valid_site_loads_with_lookups(tmp_path: Path) -> None:
    site = load_site(write(tmp_path, VALID))
    assert site.space("d2").zone == "z1"
    assert site.floor_of("d1").id == "f1"
    assert site.space_tags("d1") == {
        "site": "small",
        "floor": "f1",
        "zone": "z1",
        "space": "d1",
        "space_type": "desk",
    }
    assert site.agents() == ["ag1"]
    assert len(site.version) == 12


def test_unknown_key_names_line_and_field(tmp_path: Path) -> None:
    text = VALID.replace(
        "    capacity: 1\n    area_m2: 6\n    geometry: {x: 3",
        "    capacity: 1\n    colour: red\n    area_m2: 6\n    geometry: {x: 3",
        1,
    )
    msg = error_of(tmp_path, text)
    line = text.splitlines().index("    colour: red") + 1
    assert f":{line}: spaces[1].colour: unknown key 'colour'" in msg


def test_duplicate_space_id(tmp_path: Path) -> None:
    text = VALID.replace("  - id: d2\n", "  - id: d1\n")
    msg = error_of(tmp_path, text)
    line = [i for i, row in enumerate(text.splitlines(), 1) if row == "  - id: d1"][1]
    assert f":{line}: spaces[1].id: duplicate id 'd1'" in msg


def test_space_in_unknown_zone(tmp_path: Path) -> None:
    text = VALID.replace(
        "    zone: z1\n    capacity: 1\n    area_m2: 6\n    geometry: {x: 3",
        "    zone: z9\n    capacity: 1\n    area_m2: 6\n    geometry: {x: 3",
    )
    msg = error_of(tmp_path, text)
    line = text.splitlines().index("    zone: z9") + 1
    assert f":{line}: spaces[1].zone: unknown zone 'z9'" in msg


def test_unknown_time_zone(tmp_path: Path) -> None:
    msg = error_of(tmp_path, VALID.replace("Europe/Helsinki", "Europe/Atlantis"))
    assert ":3: timezone:" in msg and "unknown time zone 'Europe/Atlantis'" in msg


def test_overlapping_opening_hours(tmp_path: Path) -> None:
    msg = error_of(tmp_path, VALID.replace('"12:30-16:00"', '"11:30-16:00"'))
    assert ":5: opening_hours.mon:" in msg and "overlap" in msg


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (
            "    capacity: 1\n    area_m2: 6\n    geometry: {x: 3",
            "    capacity: -2\n    area_m2: 6\n    geometry: {x: 3",
            "spaces[1].capacity",
        ),
        (
            "    area_m2: 6\n    geometry: {x: 3",
            "    area_m2: -6\n    geometry: {x: 3",
            "spaces[1].area_m2",
        ),
    ],
)
def test_negative_capacity_or_area(tmp_path: Path, old: str, new: str, field: str) -> None:
    text = VALID.replace(old, new)
    msg = error_of(tmp_path, text)
    bad_line = next(i for i, row in enumerate(text.splitlines(), 1) if ": -" in row)
    assert f":{bad_line}: {field}: Input should be greater than or equal to 0" in msg


def test_several_problems_are_all_reported(tmp_path: Path) -> None:
    text = VALID.replace("agency: a1", "agency: nobody").replace(
        "sensor: {id: s2", "sensor: {id: s1"
    )
    msg = error_of(tmp_path, text)
    assert "zones[0].agency: unknown agency 'nobody'" in msg
    assert "spaces[1].sensor.id: sensor 's1' is already bound to spaces[0]" in msg


def test_invalid_yaml_and_duplicate_keys(tmp_path: Path) -> None:
    assert "invalid YAML" in error_of(tmp_path, "id: [unclosed\n")
    msg = error_of(tmp_path, VALID.replace("area_m2: 120\n", "area_m2: 120\narea_m2: 130\n"))
    assert "duplicate key 'area_m2'" in msg


def test_registry_folder_reports_each_bad_file(tmp_path: Path) -> None:
    write(tmp_path, VALID, "a.yaml")
    write(
        tmp_path,
        VALID.replace("id: small", "id: other").replace("Europe/Helsinki", "Mars/Base"),
        "b.yaml",
    )
    with pytest.raises(ConfigError) as err:
        load_registry(tmp_path)
    assert "b.yaml:3: timezone" in str(err.value)
    (tmp_path / "b.yaml").unlink()
    assert load_registry(tmp_path).ids == ["small"]


def test_example_site_meets_the_brief(example_site) -> None:  # type: ignore[no-untyped-def]
    types = [s.type.value for s in example_site.spaces]
    assert len(example_site.floors) >= 3
    assert types.count("desk") >= 200
    rooms = [
        s
        for s in example_site.spaces
        if s.type.value in ("meeting_room", "project_room", "focus_room")
    ]
    assert len(rooms) >= 20 and len({s.capacity for s in rooms}) >= 3
    assert types.count("phone_booth") >= 1 and types.count("service_point") >= 1
    assert len(example_site.agencies) >= 4
    assert any(z.agency for z in example_site.zones) and any(
        not z.agency for z in example_site.zones
    )
    assert all(s.geometry is not None for s in example_site.spaces)


def test_a_floor_plan_image_resolves_next_to_the_site_file(tmp_path: Path) -> None:
    from core.plan_image import plan_image_size

    src = Path(__file__).resolve().parents[2] / "examples" / "sites" / "virastotalo.yaml"
    site = load_site(src)
    path = site.plan_image_path("f2")
    assert path == src.parent / "plans" / "virastotalo-f2.svg"
    # 64 m x 24 m at 0.05 m/px with a 40 px margin on every side
    assert plan_image_size(path) == (64 / 0.05 + 80, 24 / 0.05 + 80)
    assert site.floor("f2").image is not None and site.floor("f2").image.origin.x == 40


def test_a_missing_or_unknown_plan_image_names_the_line(tmp_path: Path) -> None:
    src = Path(__file__).resolve().parents[2] / "examples" / "sites" / "virastotalo.yaml"
    text = src.read_text(encoding="utf-8")
    missing = tmp_path / "site.yaml"
    missing.write_text(text, encoding="utf-8")  # its plans/ folder is not beside it
    with pytest.raises(YamlFileError) as exc:
        load_site(missing)
    assert "floors.0.image.file" in exc.value.render() and "no such file" in exc.value.render()
    pdf = tmp_path / "pdf.yaml"
    pdf.write_text(text.replace("virastotalo-f1.svg", "f1.pdf"), encoding="utf-8")
    with pytest.raises(YamlFileError) as exc:
        load_site(pdf)
    assert "not a plan image" in exc.value.render()


def test_a_plan_image_without_a_size_is_refused(tmp_path: Path) -> None:
    src = Path(__file__).resolve().parents[2] / "examples" / "sites" / "virastotalo.yaml"
    (tmp_path / "plans").mkdir()
    for level in (1, 2, 3, 4):
        (tmp_path / "plans" / f"virastotalo-f{level}.svg").write_text(
            '<svg xmlns="http://www.w3.org/2000/svg"/>', encoding="utf-8"
        )
    site = tmp_path / "site.yaml"
    site.write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(YamlFileError) as exc:
        load_site(site)
    assert "gives no size" in exc.value.render()
