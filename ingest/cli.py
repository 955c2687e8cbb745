"""``occupancy ingest``: run the MQTT -> store ingest until SIGTERM/SIGINT.

Only light imports here (typer, core, the settings); paho, the stores and
prometheus are imported when the command runs.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import typer

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
def ingest(
    ctx: typer.Context,
    registry: Path | None = typer.Option(
        None, "--registry", "-r", help="Site file or folder (env OCCUPANCY_INGEST_REGISTRY)."
    ),
    broker_url: str | None = typer.Option(
        None, "--broker-url", help="mqtt://host:1883 or mqtts://host:8883."
    ),
    username: str | None = typer.Option(None, "--username"),
    password_file: Path | None = typer.Option(
        None,
        "--password-file",
        help="File holding the MQTT password (or set OCCUPANCY_INGEST_PASSWORD).",
    ),
    ca_file: Path | None = typer.Option(None, "--ca-file"),
    client_cert: Path | None = typer.Option(None, "--client-cert"),
    client_key: Path | None = typer.Option(None, "--client-key"),
    client_id: str | None = typer.Option(None, "--client-id", help="Fixed; one per replica."),
    protocol: str | None = typer.Option(None, "--protocol", help="'5' or '3.1.1'."),
    share_group: str | None = typer.Option(
        None, "--share-group", help="MQTT 5 shared subscription group for replicas."
    ),
    topic_prefix: str | None = typer.Option(None, "--topic-prefix"),
    spool_dir: Path | None = typer.Option(None, "--spool-dir"),
    dead_letter_dir: Path | None = typer.Option(None, "--dead-letter-dir"),
    spool_max_bytes: int | None = typer.Option(None, "--spool-max-bytes"),
    dead_letter_max_bytes: int | None = typer.Option(
        None, "--dead-letter-max-bytes", help="Budget of the dead-letter folder (rotated)."
    ),
    max_payload_bytes: int | None = typer.Option(
        None, "--max-payload-bytes", help="Larger payloads are dead-lettered with an excerpt."
    ),
    dead_letter_excerpt_bytes: int | None = typer.Option(None, "--dead-letter-excerpt-bytes"),
    inflight_max_bytes: int | None = typer.Option(
        None, "--inflight-max-bytes", help="Unacknowledged payload bytes held at most."
    ),
    metrics_port: int | None = typer.Option(
        None, "--metrics-port", help="Prometheus port (0 picks a free one)."
    ),
    no_metrics: bool = typer.Option(False, "--no-metrics", help="No metrics endpoint."),
    batch_max_points: int | None = typer.Option(None, "--batch-max-points"),
    batch_max_delay_s: float | None = typer.Option(None, "--batch-max-delay-s"),
    replica: str | None = typer.Option(None, "--replica", help="Name in dead-letter records."),
    confirm: bool | None = typer.Option(
        None,
        "--confirm/--no-confirm",
        help="Publish 'stored' confirmations to the agents (default on; "
        "env OCCUPANCY_INGEST_CONFIRM).",
    ),
    store_url: str | None = typer.Option(
        None, "--store-url", help="Store URL (env OCCUPANCY_INGEST_STORE__URL)."
    ),
    store_database: str | None = typer.Option(None, "--store-database"),
) -> None:
    """Run the ingest in the foreground."""
    if ctx.invoked_subcommand is not None:
        return
    from pydantic import ValidationError

    from core.registry import load_registry
    from core.yamlfile import ConfigError
    from ingest.config import IngestSettings

    overrides: dict[str, Any] = {
        k: v
        for k, v in {
            "registry": registry,
            "broker_url": broker_url,
            "username": username,
            "ca_file": ca_file,
            "client_cert": client_cert,
            "client_key": client_key,
            "client_id": client_id,
            "protocol": protocol,
            "share_group": share_group,
            "topic_prefix": topic_prefix,
            "spool_dir": spool_dir,
            "dead_letter_dir": dead_letter_dir,
            "spool_max_bytes": spool_max_bytes,
            "dead_letter_max_bytes": dead_letter_max_bytes,
            "max_payload_bytes": max_payload_bytes,
            "dead_letter_excerpt_bytes": dead_letter_excerpt_bytes,
            "inflight_max_bytes": inflight_max_bytes,
            "metrics_port": metrics_port,
            "batch_max_points": batch_max_points,
            "batch_max_delay_s": batch_max_delay_s,
            "replica": replica,
            "confirm": confirm,
        }.items()
        if v is not None
    }
    if no_metrics:
        overrides["metrics_port"] = None
    if password_file is not None:
        try:
            overrides["password"] = password_file.read_text().strip()
        except OSError as exc:
            raise _fail(f"cannot read --password-file: {exc.strerror}") from None
    store: dict[str, Any] = {
        k: v for k, v in {"url": store_url, "database": store_database}.items() if v is not None
    }
    if store:
        overrides["store"] = store
    try:
        settings = IngestSettings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        raise _fail(f"invalid settings: {problems}") from None
    try:
        sites = load_registry(settings.registry)
    except ConfigError as exc:
        raise _fail(f"site registry: {exc}") from None

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
