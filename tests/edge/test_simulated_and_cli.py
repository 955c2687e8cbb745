"""The simulated driver's timeline, and the ``occupancy edge`` command's errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from edge.cli import app
from edge.drivers.base import Reading
from edge.drivers.simulated import SimulatedConfig, SimulatedDriver
from tests.conftest import EXAMPLE_SITES
from tests.edge.conftest import FakeClock, at, base_config, write_config

REPO = Path(__file__).resolve().parents[2]


def test_square_wave_produces_every_transition_with_its_own_time() -> None:
    clock = FakeClock()
    got: list[Reading] = []
    cfg = SimulatedConfig(
        type="simulated", id="s", space="x", mode="square", occupied_s=45, vacant_s=75
    )
    d = SimulatedDriver(cfg, got.append, clock)
    d.start()
    clock.advance(300)
    d.poll(clock())  # one poll after a 5-minute jump still yields every transition
    assert [(r.at, r.active) for r in got] == [
        (at(0), True), (at(45), False), (at(120), True), (at(165), False),
        (at(240), True), (at(285), False),
    ]  # fmt: skip


def test_random_mode_is_reproducible_with_a_seed() -> None:
    def run() -> list[tuple[object, object, object]]:
        clock = FakeClock()
        got: list[Reading] = []
        cfg = SimulatedConfig(
            type="simulated", id="s", space="x", occupied_s=60, vacant_s=60, seed=3, max_people=5
        )
        d = SimulatedDriver(cfg, got.append, clock)
        d.start()
        clock.advance(3600)
        d.poll(clock())
        return [(r.at, r.active, r.people) for r in got]

    a = run()
    assert a == run()
    assert len(a) > 10
    assert all((p == 0) == (not act) and 0 <= p <= 5 for _, act, p in a)  # type: ignore[operator]


def test_cli_check_and_one_line_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    sensors = [{"type": "simulated", "id": "s-f1-palvelu-01", "space": "f1-palvelu-01"}]
    data = {**base_config(1883, tmp_path, sensors), "agent_id": "agent-f1"}
    good = write_config(tmp_path / "good.yaml", data)
    res = runner.invoke(app, ["--config", str(good), "--check", "--registry", str(EXAMPLE_SITES)])
    assert res.exit_code == 0, res.output
    assert "OK (1 sensors, agent agent-f1 at virastotalo)" in res.output

    data = base_config(1883, tmp_path, sensors)
    data["broker"]["password_env"] = "NO_SUCH_VAR_FOR_EDGE_TEST"
    bad = write_config(tmp_path / "bad.yaml", data)
    res = runner.invoke(app, ["--config", str(bad)])
    assert res.exit_code == 2
    assert "NO_SUCH_VAR_FOR_EDGE_TEST is not set" in res.output
    assert "Traceback" not in res.output

    res = runner.invoke(app, ["--config", str(tmp_path / "missing.yaml")])
    assert res.exit_code == 2 and "cannot read file" in res.output


def test_edge_cli_imports_no_server_packages() -> None:
    # the edge extra has no pandas, FastAPI or storage: importing the command and
    # the agent must not pull them in
    code = (
        "import sys, edge.cli, edge.agent; "
        "heavy = ('pandas', 'fastapi', 'storage', 'numpy', 'sqlalchemy'); "
        "bad = [m for m in heavy if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
