"""``occupancy rollup``: write the utilisation and efficiency rollups of a period.

Settings (``RollupSettings``) come from ``OCCUPANCY_ROLLUP_*`` and the
same-named options (docs/api.md, "Rollups for Grafana"); the interval
settings should match the API's (``OCCUPANCY_API_SILENCE_FACTOR``,
``OCCUPANCY_API_MERGE_GAP_S``), so that a rollup written here equals the one
the API writes on its schedule.
"""

from __future__ import annotations

from datetime import datetime

import typer
from pydantic_settings import SettingsConfigDict

from core.cli_settings import Given, settings_options
from summaries.settings import RawReadSettings

app = typer.Typer(help="Write exact 15-minute utilisation (and monthly efficiency) rollups.")


class RollupSettings(RawReadSettings):
    model_config = SettingsConfigDict(
        env_prefix="OCCUPANCY_ROLLUP_", env_nested_delimiter="__", extra="forbid"
    )


@app.callback(invoke_without_command=True)
@settings_options(RollupSettings)
def rollup(
    given: Given[RollupSettings],
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
        settings = given.settings()
        reg = load_registry(settings.registry)
        store = open_store(settings.store)
    except (ConfigError, StoreError, ValueError) as exc:  # SettingsError is a ValueError
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
                silence_factor=settings.silence_factor,
                merge_gap_s=settings.merge_gap_s,
                raw_retention_days=settings.store.raw_retention_days,
            )
        except RawRetentionError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        except StoreError as exc:
            typer.echo(f"store error: {exc}", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"{site.id} {period.label}: {counts}")
