"""``occupancy site check``: validate site files; ``occupancy site schema``: export the contract."""

from __future__ import annotations

from pathlib import Path

import typer

from core.registry import load_registry
from core.yamlfile import ConfigError

app = typer.Typer(help="Site registry and message contract tools.", no_args_is_help=True)


@app.command("check")
def check(
    path: Path = typer.Argument(..., help="A site file or a folder of site files."),
) -> None:
    """Validate site files strictly; print a summary, or every problem with its line."""
    try:
        registry = load_registry(path)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    for site in registry:
        typer.echo(
            f"{site.id}: {len(site.floors)} floors, {len(site.zones)} zones, "
            f"{len(site.spaces)} spaces, {len(site.agencies)} agencies (version {site.version})"
        )


@app.command("contract")
def contract(
    out: Path = typer.Option(Path("docs/contract"), help="Folder for the JSON Schemas."),
) -> None:
    """Write the JSON Schema of every message of the contract."""
    from core.contract import export

    for path in export(out):
        typer.echo(f"wrote {path}")
