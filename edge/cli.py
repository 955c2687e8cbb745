"""``occupancy edge --config FILE``: run the edge agent.

Only light imports at the top (typer, core, the config): paho, gpiozero and
pyserial are imported when the agent starts.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path
from typing import Any

import typer

from core.cli_settings import Given, SettingsError, settings_options
from core.yamlfile import ConfigError
from edge.config import EdgeSettings

app = typer.Typer(help="Edge agent: read sensors, publish presence with store-and-forward.")


def _check(path: Path, cfg: Any, registry: Path | None) -> None:
    from core.registry import load_registry
    from edge.check import file_problems, registry_problems

    if registry is None:
        raise _fail("--check needs --registry (or OCCUPANCY_EDGE_REGISTRY): the site files")
    try:
        reg = load_registry(registry)
    except ConfigError as exc:
        raise _fail(f"site registry:\n{exc}") from None
    # Run inside the service's environment (e.g. systemd-run with its
    # credentials) when the password is a credential only the service sees.
    problems = registry_problems(cfg, reg) + file_problems(cfg, os.environ)
    if problems:
        raise _fail("\n".join(f"{path}: {p}" for p in problems))
    typer.echo(f"{path}: OK ({len(cfg.sensors)} sensors, agent {cfg.agent_id} at {cfg.site})")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"occupancy edge: {message}", err=True)
    return typer.Exit(2)


@app.callback(invoke_without_command=True)
@settings_options(EdgeSettings, short={"config": "-c"})
def run(
    ctx: typer.Context,
    given: Given[EdgeSettings],
    check: bool = typer.Option(
        False,
        "--check",
        help="Validate the config, its files and its sensors against --registry, and exit.",
    ),
) -> None:
    """Run the agent until SIGTERM/SIGINT."""
    if ctx.invoked_subcommand is not None:
        return
    from edge.config import load_config, resolve_secrets

    try:
        settings = given.settings()
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    path = settings.config
    if path is None:
        raise _fail("no config file: pass --config FILE or set OCCUPANCY_EDGE_CONFIG")
    try:
        cfg = load_config(path)
    except ConfigError as exc:
        raise _fail(f"invalid configuration:\n{exc}") from None
    if check:
        _check(path, cfg, settings.registry)
        return
    try:
        secrets = resolve_secrets(cfg, os.environ)
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
    try:
        from edge.agent import EdgeAgent

        agent = EdgeAgent(cfg, secrets)
    except ModuleNotFoundError as exc:
        raise _fail(
            f"{exc.name} is missing: install with  pip install 'occupancy-platform[edge]'"
        ) from None
    except OSError as exc:
        raise _fail(f"cannot open the outbox {cfg.outbox.path}: {exc}") from None
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        agent.run(stop)
    except Exception as exc:  # e.g. a GPIO pin or serial port that cannot be opened
        raise _fail(f"{type(exc).__name__}: {exc}") from None
