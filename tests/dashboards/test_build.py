"""The committed dashboards are exactly what the code builds, deterministically."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from dashboards.build import (
    GENERATED,
    build_all,
    build_specs,
    render,
    specs,
    stale_files,
    write_all,
)
from dashboards.cli import app

REPO = Path(__file__).resolve().parents[2]


def test_committed_json_matches_the_code() -> None:
    assert stale_files(GENERATED) == [], "run: occupancy dashboards build"


def test_build_is_deterministic(tmp_path: Path) -> None:
    write_all(tmp_path / "a")
    write_all(tmp_path / "b")
    for a in sorted((tmp_path / "a").iterdir()):
        assert a.read_bytes() == (tmp_path / "b" / a.name).read_bytes()
    text = render(build_all()["live.json"])
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    # nothing time-dependent in the output
    assert not re.search(r"20\d\d-\d\d-\d\dT", "".join(render(m) for m in build_all().values()))


def test_check_command_reports_a_stale_file(tmp_path: Path) -> None:
    runner = CliRunner()
    write_all(tmp_path)
    assert runner.invoke(app, ["check", "--out", str(tmp_path)]).exit_code == 0
    (tmp_path / "live.json").write_text("{}\n")
    (tmp_path / "old.json").write_text("{}\n")
    result = runner.invoke(app, ["check", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "live.json: differs" in result.output and "old.json: not built" in result.output


def test_dashboards_with_fixed_uids_and_variables() -> None:
    models = build_all()
    assert {m["uid"]: m["title"] for m in models.values()} == {
        "occupancy-live": "Live occupancy",
        "occupancy-utilisation": "Utilisation",
        "occupancy-efficiency": "Space efficiency",
        "occupancy-charges": "Charges",
        "occupancy-service": "Service points",
        "occupancy-energy": "Energy of empty space",
    }
    names = {m["uid"]: [v["name"] for v in m["templating"]["list"]] for m in models.values()}
    assert names["occupancy-live"][1:] == ["site", "floor", "zone"]
    assert names["occupancy-utilisation"][1:4] == ["site", "floor", "zone"]
    assert names["occupancy-efficiency"][1:] == ["site", "agency"]
    assert names["occupancy-charges"][1:] == ["site", "agency"]
    assert names["occupancy-service"][1:] == ["site", "zone", "tz"]
    assert names["occupancy-energy"][1:] == ["site", "floor", "zone", "tz"]
    for m in models.values():
        ids = [p["id"] for p in m["panels"]]
        assert ids == list(range(1, len(ids) + 1))
        for v in m["templating"]["list"]:
            if v["type"] == "query":
                assert v["query"].startswith("SHOW TAG VALUES")


def test_a_repeated_file_or_uid_is_refused() -> None:
    live, utilisation, *_ = specs()
    with pytest.raises(ValueError, match=r"dashboard file repeated: live\.json"):
        build_specs((live, replace(utilisation, file="live.json")))
    with pytest.raises(ValueError, match="dashboard uid repeated: occupancy-live"):
        build_specs((live, replace(utilisation, uid="occupancy-live")))
    assert list(build_specs((live, utilisation))) == ["live.json", "utilisation.json"]


def test_every_query_is_influxql_through_the_datasource_variable() -> None:
    for m in build_all().values():
        for p in m["panels"]:
            assert p["datasource"] == {"type": "influxdb", "uid": "${datasource}"}
            for t in p["targets"]:
                assert t["rawQuery"] is True and t["query"].startswith("SELECT ")
                assert "|>" not in t["query"]  # no Flux


def test_provisioning_points_at_the_generated_json() -> None:
    prov = REPO / "dashboards" / "provisioning"
    ds = yaml.safe_load((prov / "datasources" / "influxdb.yaml").read_text())["datasources"][0]
    assert ds["type"] == "influxdb" and ds["uid"] == "occupancy-influxdb"
    assert ds["jsonData"]["version"] == "InfluxQL"
    assert ds["jsonData"]["httpHeaderName1"] == "Authorization"
    assert ds["secureJsonData"]["httpHeaderValue1"] == "Token ${INFLUXDB_TOKEN}"
    live = json.loads((GENERATED / "live.json").read_text())
    ds_var = live["templating"]["list"][0]
    assert ds_var["current"]["value"] == ds["uid"]
    provider = yaml.safe_load((prov / "dashboards" / "occupancy.yaml").read_text())["providers"][0]
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./dashboards/generated:{provider['options']['path']}:ro" in mounts
