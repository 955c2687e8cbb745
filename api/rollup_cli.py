"""``occupancy rollup``: write the utilisation and efficiency rollups of a period."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from core.cli_settings import Given, settings_options
from core.datadir import example_sites
from storage import StoreSettings

app = typer.Typer(help="Write exact 15-minute utilisation (and monthly efficiency) rollups.")


@app.callback(invoke_without_command=True)
@settings_options(StoreSettings, prefix="store", into="store_given")
def rollup(
    store_given: Given[StoreSettings],
    registry: Path = typer.Option(
        default_factory=example_sites,
        show_default="examples/sites of the checkout",
        help="Site file or folder.",
    ),
    from_: datetime = typer.Option(..., "--from", formats=["%Y-%m-%d"], help="First local date."),
    to: datetime = typer.Option(..., formats=["%Y-%m-%d"], help="Local date after the last."),
    site_id: str | None = typer.Option(None, help="Only this site."),
) -> None:
    """Idempotent: re-running a period overwrites its rows."""
    from api.reports import PeriodError, resolve_period
    from api.reports import rollup as run
    from core.registry import load_registry
    from core.yamlfile import ConfigError
    from storage import StoreError, open_store
    from summaries.retention import RawRetentionError

    try:
        reg = load_registry(registry)
        store_settings = store_given.settings()
        store = open_store(store_settings)
    except (ConfigError, StoreError, ValueError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    for site in reg:
        if site_id and site.id != site_id:
            continue
        try:
            period = resolve_period(site, from_=from_.date(), to=to.date(), month=None)
        except PeriodError as exc:
            typer.echo(f"--{exc.param}: {exc}", err=True)
            raise typer.Exit(2) from None
        try:
            counts = run(
                store,
                site,
                period,
                silence_factor=2.5,
                merge_gap_s=0,
                raw_retention_days=store_settings.raw_retention_days,
            )
        except RawRetentionError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        except StoreError as exc:
            typer.echo(f"store error: {exc}", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"{site.id} {period.label}: {counts}")
