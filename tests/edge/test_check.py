"""``occupancy edge --check`` against a registry and the files the config names
(issue 14, item 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from edge.cli import app
from tests.conftest import EXAMPLE_SITES
from tests.edge.conftest import base_config, write_config

runner = CliRunner()
# Bound in examples/sites/virastotalo.yaml: space f1-palvelu-01 <- sensor
# s-f1-palvelu-01 of agent-f1.
GOOD = {"type": "simulated", "id": "s-f1-palvelu-01", "space": "f1-palvelu-01"}


def check(tmp_path: Path, sensors: list[dict[str, Any]], **extra: Any) -> Any:
    data = {**base_config(1883, tmp_path, sensors), "agent_id": "agent-f1", **extra}
    path = write_config(tmp_path / "agent.yaml", data)
    return runner.invoke(app, ["--config", str(path), "--check", "--registry", str(EXAMPLE_SITES)])


def test_a_config_whose_sensors_are_in_the_site_is_ok(tmp_path: Path) -> None:
    r = check(tmp_path, [GOOD])
    assert r.exit_code == 0, r.output


def test_sensors_and_spaces_not_in_the_site_are_all_reported(tmp_path: Path) -> None:
    r = check(
        tmp_path,
        [
            {"type": "simulated", "id": "s1", "space": "f1-palvelu-1"},  # no such space
            {"type": "simulated", "id": "s-wrong", "space": "f1-palvelu-01"},  # wrong sensor
        ],
    )
    assert r.exit_code == 2
    assert "sensors[0].space: unknown space 'f1-palvelu-1'" in r.output
    assert "did you mean 'f1-palvelu-01'?" in r.output
    assert "sensors[1].id: space 'f1-palvelu-01' is bound to sensor 's-f1-palvelu-01'" in r.output


def test_an_unknown_site_and_another_agents_space(tmp_path: Path) -> None:
    r = check(tmp_path, [GOOD], site="virastotal")
    assert r.exit_code == 2
    assert "unknown site 'virastotal' (did you mean 'virastotalo'?)" in r.output
    r = check(tmp_path, [GOOD], agent_id="agent-f2")
    assert r.exit_code == 2 and "belongs to agent 'agent-f1', not 'agent-f2'" in r.output


def test_missing_password_and_ca_files_are_reported(tmp_path: Path) -> None:
    broker = {
        "url": "mqtts://127.0.0.1:8883",
        "ca_file": str(tmp_path / "no-ca.pem"),
        "username": "agent-f1",
        "password_file": str(tmp_path / "no-password"),
    }
    r = check(tmp_path, [GOOD], broker=broker)
    assert r.exit_code == 2
    assert f"broker.ca_file: {tmp_path / 'no-ca.pem'} does not exist" in r.output
    assert "cannot read password_file" in r.output


def test_check_needs_a_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OCCUPANCY_EDGE_REGISTRY", raising=False)
    path = write_config(
        tmp_path / "a.yaml", {**base_config(1883, tmp_path, [GOOD]), "agent_id": "agent-f1"}
    )
    r = runner.invoke(app, ["--config", str(path), "--check"])
    assert r.exit_code == 2 and "--check needs --registry" in r.output


def test_counters_are_checked_against_the_sites_entrances(tmp_path: Path) -> None:
    # bound in the example site: entrance f1-palvelu-ovi <- counter c-f1-palvelu-ovi
    # of agent-f1-lora
    def counter(cid: str, entrance: str) -> dict[str, Any]:
        return {"type": "simulated", "id": cid, "entrance": entrance}

    ok = check(tmp_path, [], counters=[counter("c-f1-palvelu-ovi", "f1-palvelu-ovi")],
               agent_id="agent-f1-lora")  # fmt: skip
    assert ok.exit_code == 0, ok.output
    r = check(
        tmp_path, [],
        counters=[counter("c-x", "f1-palvelu-ov"), counter("c-y", "f1-palvelu-ovi")],
    )  # fmt: skip
    assert r.exit_code == 2
    assert "counters[0].entrance: unknown entrance 'f1-palvelu-ov'" in r.output
    assert "did you mean 'f1-palvelu-ovi'?" in r.output
    assert "counters[1].id: entrance 'f1-palvelu-ovi' is bound to counter 'c-f1-palvelu-ovi'" in (
        r.output
    )
    assert "belongs to agent 'agent-f1-lora', not 'agent-f1'" in r.output
