"""``occupancy ingest``: run the MQTT -> store ingest until SIGTERM/SIGINT.

Every setting of ``IngestSettings`` is an option of the same name
(``--store-url`` is ``OCCUPANCY_INGEST_STORE__URL``; core/cli_settings.py).
Only light imports here (typer, core, the settings); paho, the stores and
prometheus are imported when the command runs.
"""

from __future__ import annotations

import logging
from typing import Any

import typer

from core.cli_settings import Given, SettingsError, settings_options
from ingest.config import IngestSettings

app = typer.Typer(
    help="Ingest: MQTT (QoS 1) -> validated, batched, durable writes to the store.",
    pretty_exceptions_enable=False,
    add_completion=False,
)

log = logging.getLogger("ingest")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"occupancy ingest: {message}", err=True)
    return typer.Exit(2)


@app.callback(invoke_without_command=True)
@settings_options(IngestSettings, short={"registry": "-r"})
def ingest(
    ctx: typer.Context,
    given: Given[IngestSettings],
    no_metrics: bool = typer.Option(False, "--no-metrics", help="No metrics endpoint."),
) -> None:
    """Run the ingest in the foreground. Settings come from OCCUPANCY_INGEST_*
    variables; options override them."""
    if ctx.invoked_subcommand is not None:
        return
    from core.registry import load_registry
    from core.yamlfile import ConfigError

    try:
        settings = given.settings(**({"metrics_port": None} if no_metrics else {}))
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    try:
        sites = load_registry(settings.registry)
    except ConfigError as exc:
        raise _fail(f"site registry: {exc}") from None
    _run(settings, sites)


def _run(settings: IngestSettings, sites: Any) -> None:
    from ingest.service import IngestService
    from ingest.spool import SpoolLocked
    from storage import open_store
    from storage.base import StoreError, StoreUnavailable

    try:
        store_obj = open_store(settings.store)
    except StoreUnavailable as exc:
        raise _fail(f"store unreachable: {exc} (start it or fix --store-url)") from None
    except (StoreError, ValueError) as exc:
        raise _fail(f"store settings: {exc}") from None
    try:
        store_obj.ping()
    except StoreUnavailable as exc:
        # Not fatal: the ingest spools until the store answers.
        typer.echo(
            f"occupancy ingest: warning: {exc}; batches go to the spool "
            f"({settings.spool_dir}) until it answers",
            err=True,
        )
    service = IngestService(settings, sites, store_obj)
    try:
        service.run_forever()
    except SpoolLocked as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(
            f"cannot listen for metrics on {settings.metrics_host}:{settings.metrics_port}: "
            f"{exc.strerror} (choose another --metrics-port)"
        ) from None
    finally:
        store_obj.close()
