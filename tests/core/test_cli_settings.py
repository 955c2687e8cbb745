"""Options made from a settings class (core/cli_settings.py), on a small class
of its own: names, help, precedence, secrets from files, one-line errors."""

from __future__ import annotations

import logging
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest
import typer
from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import SettingsConfigDict
from typer.testing import CliRunner

from core.cli_settings import Given, SettingsError, settings_of, settings_options
from core.renamed_env import RenamedEnvSettings


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


class Inner(BaseModel):
    url: str = "sqlite:///x.db"
    database: str = "occupancy"
    token: SecretStr | None = None


class Toy(RenamedEnvSettings):
    model_config = SettingsConfigDict(env_prefix="TOY_", env_nested_delimiter="__", extra="forbid")
    renamed_env: ClassVar[dict[str, str]] = {"protocol": "mqtt_protocol"}

    count: int = Field(2, ge=1, description="How many")
    ratio: float = 0.5
    live: bool = True
    mqtt_protocol: Literal["3.1.1", "5"] = "5"
    colour: Colour = Colour.RED
    folder: Path | None = None
    mqtt_password: SecretStr | None = Field(None, description="MQTT password.")
    store: Inner = Field(default_factory=Inner)


def _app(**kw: Any) -> tuple[typer.Typer, dict[str, Any]]:
    got: dict[str, Any] = {}
    app = typer.Typer(rich_markup_mode=None)

    @app.command()
    @settings_options(Toy, **kw)
    def run(given: Given[Toy], verbose: bool = typer.Option(False, "--verbose")) -> None:
        try:
            got["settings"] = given.settings()
        except SettingsError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        got["verbose"] = verbose

    return app, got


def _run(*args: str, **kw: Any) -> tuple[Any, dict[str, Any]]:
    app, got = _app(**kw)
    return CliRunner().invoke(app, list(args), terminal_width=200), got


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "TOY_COUNT",
        "TOY_RATIO",
        "TOY_STORE__DATABASE",
        "TOY_PROTOCOL",
        "TOY_MQTT_PROTOCOL",
    ):
        monkeypatch.delenv(name, raising=False)


def test_names_follow_the_fields() -> None:
    got = {s.label: (s.option, s.env) for s in settings_of(Toy)}
    assert got == {
        "count": ("--count", "TOY_COUNT"),
        "ratio": ("--ratio", "TOY_RATIO"),
        "live": ("--live", "TOY_LIVE"),
        "mqtt_protocol": ("--mqtt-protocol", "TOY_MQTT_PROTOCOL"),
        "colour": ("--colour", "TOY_COLOUR"),
        "folder": ("--folder", "TOY_FOLDER"),
        "mqtt_password": ("--mqtt-password-file", "TOY_MQTT_PASSWORD"),
        "store.url": ("--store-url", "TOY_STORE__URL"),
        "store.database": ("--store-database", "TOY_STORE__DATABASE"),
        "store.token": ("--store-token-file", "TOY_STORE__TOKEN"),
    }
    # a plain model: named by the prefix, no variables
    plain = {s.label: (s.option, s.env) for s in settings_of(Inner, prefix="store")}
    assert plain["store.url"] == ("--store-url", None)


def test_help_gives_the_description_variable_and_default() -> None:
    r, _ = _run("--help")
    text = " ".join(r.output.split())
    assert "How many. [env var: TOY_COUNT; default: 2]" in text
    assert "--no-live" in text and "[env var: TOY_LIVE; default: --live]" in text
    assert "MQTT password. Read from this file: a secret stays off the command line." in text


def test_options_override_variables_and_nested_ones_merge(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TOY_COUNT", "7")
    monkeypatch.setenv("TOY_STORE__DATABASE", "from-env")
    r, got = _run("--store-url", "http://influx:8086", "--no-live", "--colour", "blue", "--verbose")
    assert r.exit_code == 0, r.output
    s = got["settings"]
    assert s.count == 7  # not given: the variable
    assert (s.store.url, s.store.database) == ("http://influx:8086", "from-env")
    assert (s.live, s.colour, got["verbose"]) == (False, Colour.BLUE, True)
    r, got = _run("--count", "3")
    assert got["settings"].count == 3  # given: over the variable


def test_a_secret_comes_from_its_file_stripped(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("  hunter2-real\n")
    r, got = _run("--mqtt-password-file", str(tmp_path / "pw"))
    assert r.exit_code == 0, r.output
    assert got["settings"].mqtt_password.get_secret_value() == "hunter2-real"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--count", "0"], "count (--count, TOY_COUNT): Input should be greater than or equal"),
        (["--mqtt-password-file", "/nonexistent"], "cannot read --mqtt-password-file /nonexistent"),
    ],
)
def test_errors_are_one_line_naming_the_option(args: list[str], says: str) -> None:
    r, _ = _run(*args)
    assert r.exit_code == 2 and says in r.output and r.output.count("\n") == 1, r.output


def test_exclude_and_short_names() -> None:
    r, got = _run("-n", "4", exclude=("store.token", "colour"), short={"count": "-n"})
    assert r.exit_code == 0, r.output
    assert got["settings"].count == 4
    help_text = _run("--help", exclude=("store.token", "colour"))[0].output
    assert "--store-token-file" not in help_text and "--colour" not in help_text


def test_the_commands_base_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.cli_settings import SettingsOptions

    opts = SettingsOptions(Toy, tuple(settings_of(Toy)))
    monkeypatch.setenv("TOY_RATIO", "0.1")
    given = opts.given({"ratio": 0.25, "count": None, "store_url": "http://influx:8086"})
    s = given.settings({"count": 5, "ratio": 0.5, "store": {"database": "d"}})
    # the base fills what no option gives, an option wins over the base
    assert (s.count, s.ratio, s.store.url, s.store.database) == (5, 0.25, "http://influx:8086", "d")
    assert given.settings(ratio=0.75).ratio == 0.75  # an override wins over the option
    assert "store.url" in given and "count" not in given


def test_a_type_without_an_option_is_refused_when_the_command_is_made() -> None:
    class Odd(BaseModel):
        tags: list[str] = []

    with pytest.raises(TypeError, match=r"Odd.tags: no option for the type"):
        settings_of(Odd)


def test_an_old_variable_still_works_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("TOY_PROTOCOL", "3.1.1")
    with caplog.at_level(logging.WARNING, "occupancy.settings"):
        assert Toy().mqtt_protocol == "3.1.1"
    assert "TOY_PROTOCOL is deprecated: rename it TOY_MQTT_PROTOCOL" in caplog.text
    caplog.clear()
    monkeypatch.setenv("TOY_MQTT_PROTOCOL", "5")
    with caplog.at_level(logging.WARNING, "occupancy.settings"):
        assert Toy().mqtt_protocol == "5"  # the new name wins
    assert "TOY_PROTOCOL is ignored: TOY_MQTT_PROTOCOL, its new name, is set" in caplog.text
    monkeypatch.delenv("TOY_MQTT_PROTOCOL")
    assert Toy(mqtt_protocol="5").mqtt_protocol == "5"  # and what is given wins over both
