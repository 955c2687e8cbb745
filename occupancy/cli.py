"""``occupancy``: one program, a subcommand per service.

Each service keeps its own command in ``<service>/cli.py``. Those modules import
only light things at the top (typer, core, their settings) so that
``occupancy edge`` works on a Raspberry Pi installed with the ``edge`` extra
alone; heavy imports happen inside the command functions.
"""

from __future__ import annotations

import importlib
import logging
import sys

import typer

app = typer.Typer(
    name="occupancy",
    help="Occupancy sensing for shared premises.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# (subcommand, module holding a typer app named ``app``)
SUBCOMMANDS = [
    ("up", "occupancy.up"),
    ("ingest", "ingest.cli"),
    ("api", "api.cli"),
    ("keys", "api.keys_cli"),
    ("charges", "api.charging_cli"),
    ("rollup", "api.rollup_cli"),
    ("summaries", "summaries.cli"),
    ("edge", "edge.cli"),
    ("simulate", "simulators.cli"),
    ("dashboards", "dashboards.cli"),
    ("site", "occupancy.site_cli"),
]


def _register() -> None:
    for name, module_name in SUBCOMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            # A part not installed (e.g. the server parts on an edge-only
            # install) is simply absent from the command list.
            if exc.name and exc.name.split(".")[0] in {
                module_name.split(".")[0],
                "fastapi",
                "pandas",
            }:
                continue
            raise
        app.add_typer(module.app, name=name)


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging."),
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )


SERVER_PACKAGES = {"fastapi", "uvicorn", "pandas", "numpy", "sqlalchemy", "amqtt", "httpx"}


def main() -> None:
    _register()
    try:
        app()
    except ModuleNotFoundError as exc:
        # e.g. `occupancy api` on a Raspberry Pi installed with the edge extra
        if (exc.name or "").split(".")[0] not in SERVER_PACKAGES:
            raise
        typer.echo(
            f"this command needs the server parts ({exc.name} is missing): "
            "pip install 'occupancy-platform[server]'",
            err=True,
        )
        raise SystemExit(2) from None
