"""``occupancy site check``: validate site files; ``occupancy site contract``: export
the contract; ``occupancy site export``: the site model for other systems (Brick)."""

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
    if registry.portfolio is not None:
        p = registry.portfolio.portfolio
        typer.echo(
            f"portfolio {p.id}: {len(registry)} sites in {len(p.regions)} regions "
            f"(version {registry.portfolio.version})"
        )


@app.command("contract")
def contract(
    out: Path = typer.Option(Path("docs/contract"), help="Folder for the JSON Schemas."),
) -> None:
    """Write the JSON Schema of every message of the contract."""
    from core.contract import export

    for path in export(out):
        typer.echo(f"wrote {path}")


@app.command("export")
def export_site(
    path: Path = typer.Argument(..., help="A site file or a folder of site files."),
    fmt: str = typer.Option("brick", "--format", help="brick (Brick Schema Turtle)."),
    site_id: str | None = typer.Option(None, help="Which site of a folder of several."),
    base_iri: str | None = typer.Option(
        None, help="Namespace of the nodes (default: urn:occupancy:<site>/)."
    ),
    out: Path | None = typer.Option(None, help="Output file (default: standard output)."),
) -> None:
    """Write a site's building, floors, zones, spaces and sensors as Brick Schema Turtle
    (docs/integrations.md, "Brick")."""
    if fmt != "brick":
        typer.echo(f"unknown --format {fmt!r}: use brick", err=True)
        raise typer.Exit(2)
    try:
        registry = load_registry(path)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    if site_id is None and len(registry) != 1:
        typer.echo(f"{path} holds {len(registry)} sites: choose one with --site-id", err=True)
        raise typer.Exit(2)
    site = registry.get(site_id) if site_id is not None else next(iter(registry))
    if site is None:
        typer.echo(f"no site {site_id!r} in {path} (it has {', '.join(registry.ids)})", err=True)
        raise typer.Exit(2)
    if base_iri is not None and not base_iri.endswith(("/", "#", ":")):
        typer.echo(f"--base-iri {base_iri!r} must end with '/', '#' or ':'", err=True)
        raise typer.Exit(2)
    from occupancy.brick import to_turtle

    text = to_turtle(site, base=base_iri)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}", err=True)
