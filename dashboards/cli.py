"""``occupancy dashboards build|check|push``."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(
    help="Grafana dashboards as code: build the JSON, check it is current, push it.",
    no_args_is_help=True,
)

_OUT = typer.Option(None, "--out", help="Folder of the generated JSON (default: the package's).")


@app.command()
def build(out: Path | None = _OUT) -> None:
    """Write dashboards/generated/*.json from the code."""
    from dashboards.build import GENERATED, write_all

    for path in write_all(out or GENERATED):
        typer.echo(str(path))


@app.command()
def check(out: Path | None = _OUT) -> None:
    """Exit 1 when the committed JSON differs from what the code builds."""
    from dashboards.build import GENERATED, stale_files

    problems = stale_files(out or GENERATED)
    for p in problems:
        typer.echo(p, err=True)
    if problems:
        typer.echo("run: occupancy dashboards build", err=True)
        raise typer.Exit(1)
    typer.echo("dashboards are up to date")


@app.command()
def push(
    url: str = typer.Option(
        ..., "--url", help="Grafana base URL, e.g. https://grafana.example.org"
    ),
    token: str = typer.Option(
        ..., "--token", envvar="GRAFANA_TOKEN", help="Service account token (Editor or Admin)."
    ),
    folder: str = typer.Option("Occupancy", "--folder", help="Folder title to push into."),
    out: Path | None = _OUT,
) -> None:
    """Upload the dashboards to an existing Grafana (same uids, overwritten)."""
    from dashboards.build import GENERATED, load_generated
    from dashboards.push import PushError, push_dashboards

    models = load_generated(out or GENERATED)
    if not models:
        typer.echo(
            f"no dashboards in {out or GENERATED}; run: occupancy dashboards build", err=True
        )
        raise typer.Exit(2)
    try:
        pushed = push_dashboards(url=url, token=token, models=list(models.values()), folder=folder)
    except PushError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    for uid, address in pushed:
        typer.echo(f"{uid}: {address}")
