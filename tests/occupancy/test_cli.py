"""One spelling for every setting (issue 14, item 2): option names, the data
directory, --version, help text and the API's live-feed switch."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from typer.testing import CliRunner

from occupancy import cli
from tests.conftest import EXAMPLE_SITES, REPO

runner = CliRunner()


def invoke(*args: str) -> Any:
    # typer's runner builds the click command from the app itself; run the
    # tree exactly as `occupancy` builds it (with its help labels) instead.
    with mock.patch("typer.testing._get_command", lambda _app: cli.build()):
        return runner.invoke(cli.app, list(args), prog_name="occupancy", terminal_width=100)


def commands(command: Any = None, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every command of the tree with its path, e.g. (("keys", "create"), <cmd>)."""
    command = command or cli.build()
    out = [(path, command)]
    for name, sub in getattr(command, "commands", {}).items():
        out += commands(sub, (*path, name))
    return out


def long_options(command: Any) -> set[str]:
    return {o for p in command.params for o in [*p.opts, *p.secondary_opts] if o.startswith("--")}


def test_version_prints_the_installed_version() -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    r = invoke("--version")
    assert r.exit_code == 0 and r.output == f"occupancy {version}\n"


def test_help_shows_no_python_type_names_and_leaf_usage_has_no_command() -> None:
    seen = 0
    for path, command in commands():
        r = invoke(*path, "--help")
        assert r.exit_code == 0, path
        text = r.output
        types = re.findall(r"<(?:bool|int|float|str|path|file|datetime|list\[[^>]*|%[^>]*)>", text)
        assert types == [], (path, types)
        assert "[%" not in text and "list[" not in text, path
        if not getattr(command, "commands", None):
            assert text.startswith(f"Usage: {' '.join(('occupancy', *path))} [OPTIONS]"), path
            assert "COMMAND [ARGS]" not in text.splitlines()[0], path
        seen += 1
    assert seen > 15  # the whole tree was walked


def test_commands_without_subcommands_read_as_commands() -> None:
    assert invoke("api", "--help").output.startswith("Usage: occupancy api [OPTIONS]\n")
    assert invoke("ingest", "--help").output.startswith("Usage: occupancy ingest [OPTIONS]\n")


def test_one_spelling_across_every_command() -> None:
    used = set().union(*(long_options(c) for _, c in commands()))
    # the spellings the settings classes do not use, found in older versions
    for old in ("--broker", "--prefix", "--database", "--tariff", "--batch-max-delay"):
        assert old not in used, old
    for name in ("--broker-url", "--topic-prefix", "--store-url", "--store-database", "--tariffs"):
        assert name in used, name


def _settings_options(fields: set[str], store_fields: set[str]) -> set[str]:
    opts = {"--" + f.replace("_", "-") for f in fields}
    return opts | {"--store-" + f.replace("_", "-") for f in store_fields}


@pytest.mark.parametrize(
    ("command", "module", "cls", "extra"),
    [
        ("api", "api.config", "ApiSettings", {"--no-live-feed"}),
        (
            "ingest",
            "ingest.config",
            "IngestSettings",
            {"--password-file", "--no-metrics", "--no-confirm"},
        ),
    ],
)
def test_every_option_is_a_setting_of_the_same_name(
    command: str, module: str, cls: str, extra: set[str]
) -> None:
    import importlib

    from storage import StoreSettings

    settings_cls = getattr(importlib.import_module(module), cls)
    allowed = _settings_options(set(settings_cls.model_fields), set(StoreSettings.model_fields))
    (cmd,) = [c for p, c in commands() if p == (command,)]
    assert long_options(cmd) - {"--help"} - extra <= allowed


def test_api_has_the_store_records_and_tariff_options_of_the_other_commands() -> None:
    opts = long_options(next(c for p, c in commands() if p == ("api",)))
    assert {"--store-url", "--store-database", "--records-url", "--tariffs"} <= opts
    for other in (("ingest",), ("simulate", "backfill"), ("charges",), ("up",)):
        cmd = next(c for p, c in commands() if p == other)
        assert long_options(cmd) & {"--store-url", "--store-database"} <= opts, other


def test_api_options_reach_its_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import api.cli

    got: dict[str, Any] = {}
    monkeypatch.setattr(api.cli, "_serve", lambda settings, reg: got.update(s=settings))
    r = invoke(
        "api",
        "--registry",
        str(EXAMPLE_SITES),
        "--store-url",
        "http://influx.example:8086",
        "--store-database",
        "occ",
        "--records-url",
        f"sqlite:///{tmp_path}/r.db",
        "--tariffs",
        str(REPO / "examples" / "tariffs"),
        "--broker-url",
        "mqtt://broker.example:1883",
        "--no-live-feed",
    )
    assert r.exit_code == 0, r.output
    s = got["s"]
    assert (s.store.url, s.store.database) == ("http://influx.example:8086", "occ")
    assert s.records_url == f"sqlite:///{tmp_path}/r.db"
    assert s.tariffs == REPO / "examples" / "tariffs"
    assert s.broker_url is None  # --no-live-feed wins over a broker URL


def test_the_api_connects_to_no_broker_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    from api.config import ApiSettings

    monkeypatch.delenv("OCCUPANCY_API_BROKER_URL", raising=False)
    assert ApiSettings().broker_url is None
    assert ApiSettings(broker_url="mqtt://b:1883").broker_url == "mqtt://b:1883"  # type: ignore[call-arg]
    monkeypatch.setenv("OCCUPANCY_API_LIVE_FEED", "false")
    assert ApiSettings(broker_url="mqtt://b:1883").broker_url is None  # type: ignore[call-arg]


def test_default_paths_resolve_against_the_data_dir_not_the_current_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from api.config import ApiSettings
    from ingest.config import IngestSettings

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OCCUPANCY_DATA_DIR", raising=False)
    var = REPO / "var"  # the checkout's, wherever the command runs
    s = ApiSettings()
    assert s.records_url == f"sqlite:///{var}/api.db"
    assert s.store.url == f"sqlite:///{var}/occupancy.db"
    assert s.registry == EXAMPLE_SITES
    monkeypatch.setenv("OCCUPANCY_DATA_DIR", str(tmp_path / "data"))
    i = IngestSettings(registry=EXAMPLE_SITES)
    assert i.spool_dir == tmp_path / "data" / "ingest" / "spool"
    assert i.dead_letter_dir == tmp_path / "data" / "ingest" / "dead-letters"
    assert i.store.url == f"sqlite:///{tmp_path}/data/occupancy.db"


def test_keys_create_in_another_folder_uses_the_data_dir(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    data = tmp_path / "data"
    r = subprocess.run(
        [sys.executable, "-m", "occupancy", "keys", "create", "--role", "admin"],
        cwd=elsewhere,
        env={**os.environ, "PYTHONPATH": str(REPO), "OCCUPANCY_DATA_DIR": str(data)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert (data / "api.db").is_file()
    assert not (elsewhere / "var").exists()


def test_up_refuses_a_speed_the_ingest_would_dead_letter() -> None:
    from ingest.config import IngestSettings

    limit = IngestSettings.model_fields["max_future_s"].default
    r = invoke("up", "--speed", "60", "--port", "1", "--mqtt-port", "1")
    assert r.exit_code == 2
    # 59 simulated seconds ahead per real second: past the limit after limit/59 s
    assert f"after {limit / 59:.0f} s" in r.output and "future time" in r.output
    r = invoke("up", "--speed", "60", "--no-simulate", "--registry", "/nonexistent")
    assert "future time" not in r.output  # without a simulator the speed does not matter
