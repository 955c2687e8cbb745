"""``occupancy rollup``: write the utilisation and efficiency rollups of a period."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from core.datadir import example_sites

app = typer.Typer(help="Write exact 15-minute utilisation (and monthly efficiency) rollups.")


@app.callback(invoke_without_command=True)
def rollup(
    registry: Path = typer.Option(
        default_factory=example_sites,
        show_default="examples/sites of the checkout",
        help="Site file or folder.",
    ),
    store_url: str = typer.Option(..., help="sqlite:///file.db or http://influx:8086"),
    store_database: str = typer.Option("occupancy", help="InfluxDB database."),
    store_raw_retention_days: int | None = typer.Option(
        None, min=1, help="Days of raw points the store keeps (refuses periods beyond them)."
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
    from storage import StoreError, StoreSettings, open_store
    from summaries.retention import RawRetentionError

    keep = store_raw_retention_days
    try:
        reg = load_registry(registry)
        store = open_store(
            StoreSettings(url=store_url, database=store_database, raw_retention_days=keep)
        )
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
                store, site, period, silence_factor=2.5, merge_gap_s=0, raw_retention_days=keep
            )
        except RawRetentionError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        except StoreError as exc:
            typer.echo(f"store error: {exc}", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"{site.id} {period.label}: {counts}")
