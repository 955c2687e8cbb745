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

import typer

from core.yamlfile import ConfigError

app = typer.Typer(help="Edge agent: read sensors, publish presence with store-and-forward.")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"occupancy edge: {message}", err=True)
    return typer.Exit(2)


@app.callback(invoke_without_command=True)
def run(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None, "--config", "-c", help="Agent YAML (default: $OCCUPANCY_EDGE_CONFIG)."
    ),
    check: bool = typer.Option(False, "--check", help="Validate the config and exit."),
) -> None:
    """Run the agent until SIGTERM/SIGINT."""
    if ctx.invoked_subcommand is not None:
        return
    from edge.config import EdgeSettings, load_config, resolve_secrets

    path = config or EdgeSettings().config
    if path is None:
        raise _fail("no config file: pass --config FILE or set OCCUPANCY_EDGE_CONFIG")
    try:
        cfg = load_config(path)
    except ConfigError as exc:
        raise _fail(f"invalid configuration:\n{exc}") from None
    if check:
        # the password may live in a systemd credential that exists only inside the service
        typer.echo(f"{path}: OK ({len(cfg.sensors)} sensors, agent {cfg.agent_id} at {cfg.site})")
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
