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
from importlib import metadata
from pathlib import Path
from typing import Any, get_args

import typer

app = typer.Typer(
    name="occupancy",
    help=(
        "Occupancy sensing for shared premises. Default paths (stores, records, "
        "spool) live in the data directory OCCUPANCY_DATA_DIR (default: var/ of the "
        "checkout)."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)

# (subcommand, module holding a typer app named ``app``)
SUBCOMMANDS = [
    ("up", "occupancy.up"),
    ("ingest", "ingest.cli"),
    ("import", "ingest.history_cli"),
    ("api", "api.cli"),
    ("keys", "api.keys_cli"),
    ("bookings", "api.bookings_cli"),
    ("charges", "charging.cli"),
    ("rollup", "api.rollup_cli"),
    ("summaries", "summaries.cli"),
    ("edge", "edge.cli"),
    ("simulate", "simulators.cli"),
    ("dashboards", "dashboards.cli"),
    ("site", "occupancy.site_cli"),
]


def version() -> str:
    try:
        return metadata.version("occupancy-platform")
    except metadata.PackageNotFoundError:  # running from a checkout, not installed
        return "unknown"


def _add(name: str, sub: typer.Typer) -> None:
    callback = sub.registered_callback
    if callback is not None and callback.callback is not None and not sub.registered_commands:
        # A service with no subcommands is a command, not a group: its help then
        # reads "Usage: occupancy api [OPTIONS]", not "... COMMAND [ARGS]...".
        app.command(name, help=sub.info.help)(callback.callback)
    else:
        app.add_typer(sub, name=name)


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
        _add(name, module.app)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"occupancy {version()}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging."),
    _version: bool = typer.Option(
        False,
        "--version",
        callback=_show_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )


def _label(param: Any) -> str | None:
    """What help shows after an option: a word a user reads (PATH, DATE),
    never a Python type name like ``<list[Path]>`` or ``<bool>``."""
    if getattr(param, "is_flag", False):
        return None
    if param.metavar:
        return param.metavar
    desc = getattr(param, "type_descriptor", None)
    if desc is None:
        return None
    if desc.is_choice:
        return "|".join(str(getattr(c, "value", c)) for c in desc.choices or ())
    if desc.is_datetime:
        formats = desc.parameter_info.formats or ["%H"]
        return "DATE" if all("%H" not in f for f in formats) else "TIME"
    if desc.is_path:
        return "PATH"
    inner = get_args(desc.annotation)[0] if desc.is_list else desc.annotation
    return {int: "INTEGER", float: "NUMBER", bool: "BOOLEAN", Path: "PATH"}.get(inner, "TEXT")


def _humanise(command: Any) -> None:
    for param in command.params:
        label = _label(param)
        if param.param_type_name == "argument":
            # "Usage: occupancy site check PATH", as click and man pages write it
            param.metavar = param.metavar or param.name.upper()
            usage = param.metavar if param.required else f"[{param.metavar}]"
            param._usage_display_name = lambda usage=usage: usage
            label = None
        # typer renders the type itself; an instance attribute replaces that
        # rendering for this program's commands only.
        param.display_type_rich = lambda ctx, label=label: label
    # typer vendors its own click: a group is whatever has subcommands
    for sub in getattr(command, "commands", {}).values():
        _humanise(sub)


def build() -> Any:
    """The whole command tree, as ``main`` runs it (tests invoke this too)."""
    if not app.registered_commands and not app.registered_groups:
        _register()
    command = typer.main.get_command(app)
    _humanise(command)
    return command


def main() -> None:
    command = build()
    try:
        command(prog_name="occupancy")
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


SERVER_PACKAGES = {"fastapi", "uvicorn", "pandas", "numpy", "sqlalchemy", "amqtt", "httpx"}
