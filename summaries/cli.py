"""``occupancy summaries``: run the summariser as a service, rebuild a range of
days, or list the dirty days and the lag (docs/storage.md, "Daily summaries").

Settings (``SummariesSettings``) come from ``OCCUPANCY_SUMMARIES_*`` and the
same-named options; the interval settings must match the API's
(``OCCUPANCY_API_SILENCE_FACTOR``, ``OCCUPANCY_API_MERGE_GAP_S``), or the API
takes the summaries as computed with other parameters and reads raw points.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

import typer
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from core.cli_settings import Given, SettingsError, settings_options
from core.datadir import sqlite_url
from summaries.settings import RawReadSettings

app = typer.Typer(help="Daily summaries: run the summariser, rebuild days, show the status.")


class SummariesSettings(RawReadSettings):
    model_config = SettingsConfigDict(
        env_prefix="OCCUPANCY_SUMMARIES_", env_nested_delimiter="__", extra="forbid"
    )

    interval_s: float = Field(60, gt=0, description="Seconds between summariser cycles.")
    workers: int = Field(
        1,
        ge=1,
        le=64,
        description="Worker processes of a rebuild (on SQLite more are slower: "
        "benchmarks/README.md).",
    )
    metrics_port: int | None = Field(
        9103, ge=0, le=65535, description="Prometheus metrics port; 0: no metrics server."
    )
    records_url: str = Field(
        default_factory=lambda: sqlite_url("api.db"),
        description="The API's records (its records_url), read for the bookings that "
        "attribute shared desks to agencies; default: api.db in OCCUPANCY_DATA_DIR.",
    )


def _settings(given: Given[SummariesSettings]) -> SummariesSettings:
    try:
        return given.settings()
    except SettingsError as exc:
        typer.echo(f"invalid settings: {exc}", err=True)
        raise typer.Exit(2) from None


def _open(settings: SummariesSettings) -> tuple[Any, Any, Any]:
    from core.registry import load_registry
    from core.yamlfile import ConfigError
    from storage import StoreError, open_store
    from summaries.summariser import SummaryParams

    try:
        reg = load_registry(settings.registry)
        store = open_store(settings.store)
    except (ConfigError, StoreError, ValueError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    params = SummaryParams(silence_factor=settings.silence_factor, merge_gap_s=settings.merge_gap_s)
    return reg, store, params


def _bookings(settings: SummariesSettings) -> Any:
    # the records' bookings through their own reader: no part of the web service
    from api.booking_marks import RecordsBookings

    return RecordsBookings(settings.records_url)


@app.command()
@settings_options(SummariesSettings, exclude=("workers",))
def run(given: Given[SummariesSettings]) -> None:
    """Summarise dirty and newly closed days every interval, until stopped."""
    from prometheus_client import start_http_server

    from summaries.service import SummariserThread, default_metrics

    s = _settings(given)
    reg, store, params = _open(s)
    if s.metrics_port:
        start_http_server(s.metrics_port)
    thread = SummariserThread(
        store,
        list(reg),
        params,
        interval_s=s.interval_s,
        metrics=default_metrics(),
        raw_retention_days=s.store.raw_retention_days,
        bookings=_bookings(s),
    )
    thread.start()
    try:
        while thread.is_alive():
            thread.join(1.0)
    except KeyboardInterrupt:
        thread.stop()


@app.command()
@settings_options(SummariesSettings, exclude=("interval_s", "metrics_port"))
def rebuild(
    given: Given[SummariesSettings],
    site_id: str = typer.Option(..., "--site", help="The site whose days to rebuild."),
    from_: datetime = typer.Option(..., "--from", formats=["%Y-%m-%d"], help="First local date."),
    to: datetime = typer.Option(..., "--to", formats=["%Y-%m-%d"], help="Last local date."),
    run_days: int = typer.Option(
        14, "--run-days", min=1, max=62, help="Days computed from one raw read (memory)."
    ),
) -> None:
    """Recompute the closed days from --from to --to (inclusive) from raw points;
    refused for days whose raw points are gone (--store-raw-retention-days)."""
    from datetime import timedelta

    from rich.progress import Progress

    from storage import StoreError
    from summaries.pool import RunPool
    from summaries.summariser import refresh_site, today_of

    s = _settings(given)
    reg, store, params = _open(s)
    site = reg.get(site_id)
    if site is None:
        typer.echo(f"--site: unknown site {site_id!r}; known: {', '.join(reg.ids)}", err=True)
        raise typer.Exit(2)
    first, last = from_.date(), min(to.date(), today_of(site) - timedelta(days=1))
    if last < first:
        typer.echo("--to: nothing to rebuild: the range has no closed day", err=True)
        raise typer.Exit(2)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    keep = s.store.raw_retention_days
    _refuse_gone(store, site, first, last, keep)
    pool = RunPool(s.store, s.workers) if s.workers > 1 and len(days) > run_days else None
    with Progress() as bar, pool or contextlib.nullcontext():
        task = bar.add_task(f"{site.id} {first}..{last}", total=len(days))
        try:
            done = refresh_site(
                store,
                site,
                params,
                days=days,
                progress=lambda n: bar.advance(task, n),
                run_days=run_days,
                pool=pool,
                raw_retention_days=keep,
                bookings=_bookings(s),
            )
        except StoreError as exc:
            typer.echo(f"store error: {exc}", err=True)
            raise typer.Exit(1) from None
    typer.echo(f"{site.id}: {len(done)} day(s) summarised")


def _refuse_gone(store: Any, site: Any, first: Any, last: Any, keep: int | None) -> None:
    """Exit 2 when days of first..last have lost their raw points: recomputing
    them from what is left would overwrite good summaries."""
    from storage import StoreError
    from summaries.retention import gone_days, refusal

    try:
        gone = gone_days(store, site, first, last, raw_retention_days=keep)
    except StoreError as exc:
        typer.echo(f"store error: {exc}", err=True)
        raise typer.Exit(1) from None
    if gone:
        typer.echo(
            refusal("refusing to rebuild", gone, raw_retention_days=keep)
            + f"; rebuild only days after {gone[-1].isoformat()}",
            err=True,
        )
        raise typer.Exit(2)


@app.command()
@settings_options(
    SummariesSettings, exclude=("interval_s", "metrics_port", "workers", "records_url")
)
def status(given: Given[SummariesSettings]) -> None:
    """List each site's summarised and dirty days."""
    from summaries.summariser import site_status

    s = _settings(given)
    reg, store, params = _open(s)
    for site in reg:
        st = site_status(store, site, params, raw_retention_days=s.store.raw_retention_days)
        shown = ", ".join(d.isoformat() for d in st.dirty[:10])
        more = f" (+{len(st.dirty) - 10} more)" if len(st.dirty) > 10 else ""
        held = (
            f"; {len(st.held)} held (raw points gone: not recomputed, "
            f"{st.held[0].isoformat()}..{st.held[-1].isoformat()})"
            if st.held
            else ""
        )
        typer.echo(
            f"{site.id}: {st.summarised} day(s) summarised, {len(st.dirty)} dirty"
            + (f": {shown}{more}" if st.dirty else "")
            + held
        )
