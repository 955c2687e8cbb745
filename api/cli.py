"""``occupancy api``: serve the API (and the live page) with uvicorn.

Every option is a setting of ``ApiSettings`` with the same name (``--store-url``
is ``OCCUPANCY_API_STORE__URL``, ``--records-url`` is
``OCCUPANCY_API_RECORDS_URL``, ...); an option given overrides the variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

app = typer.Typer(help="Serve the HTTP API and the live floor-plan page.")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"occupancy api: {message}", err=True)
    return typer.Exit(2)


@app.callback(invoke_without_command=True)
def serve(
    registry: Path | None = typer.Option(
        None, "--registry", help="Site file or folder (env OCCUPANCY_API_REGISTRY)."
    ),
    store_url: str | None = typer.Option(
        None,
        "--store-url",
        help="sqlite:///file.db or http://influx:8086 (default: occupancy.db in the data dir).",
    ),
    store_database: str | None = typer.Option(
        None, "--store-database", help="InfluxDB database (2.x/3.x: the mapped bucket)."
    ),
    store_raw_retention_days: int | None = typer.Option(
        None,
        "--store-raw-retention-days",
        min=1,
        help="Days of raw points to keep; the daily summaries are kept (default: keep all).",
    ),
    records_url: str | None = typer.Option(
        None,
        "--records-url",
        help="SQLAlchemy URL of keys, bookings, charge runs (default: api.db in the data dir).",
    ),
    tariffs: Path | None = typer.Option(
        None, "--tariffs", help="Tariff file, or folder of tariff files, for the charges."
    ),
    host: str | None = typer.Option(None, "--host", help="Listen address (default 127.0.0.1)."),
    port: int | None = typer.Option(None, "--port", help="Listen port (default 8000)."),
    broker_url: str | None = typer.Option(
        None, "--broker-url", help="Broker of the live feed, mqtt://host:1883; unset: no feed."
    ),
    live_feed: bool | None = typer.Option(
        None,
        "--live-feed/--no-live-feed",
        help="--no-live-feed: no MQTT connection even with a broker URL.",
        show_default=False,
    ),
) -> None:
    """Serve the API. Settings come from OCCUPANCY_API_* variables; options override them."""
    from pydantic import ValidationError

    from api.config import ApiSettings
    from core.registry import load_registry
    from core.yamlfile import ConfigError

    given = {
        "registry": registry,
        "records_url": records_url,
        "tariffs": tariffs,
        "host": host,
        "port": port,
        "broker_url": broker_url,
        "live_feed": live_feed,
    }
    overrides: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    store = {
        k: v
        for k, v in {
            "url": store_url,
            "database": store_database,
            "raw_retention_days": store_raw_retention_days,
        }.items()
        if v is not None and v != ""
    }
    try:
        settings = ApiSettings(**overrides)
        if store:
            # merged over the OCCUPANCY_API_STORE__* settings, not replacing them
            merged = {**settings.store.model_dump(exclude_unset=True), **store}
            settings = ApiSettings(**{**overrides, "store": merged})
        reg = load_registry(settings.registry)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        raise _fail(f"invalid settings: {problems}") from None
    except ConfigError as exc:
        raise _fail(f"site registry:\n{exc}") from None
    _serve(settings, reg)


def _serve(settings: Any, reg: Any) -> None:
    from api.serve import port_unavailable

    problem = port_unavailable(settings.host, settings.port)
    if problem:
        raise _fail(
            f"cannot listen on {settings.host}:{settings.port} ({problem}); "
            "choose another with --port"
        )

    from api.app import create_app
    from api.serve import serve
    from storage import StoreError, open_store

    try:
        store = open_store(settings.store)
    except (StoreError, ValueError) as exc:
        raise _fail(f"cannot open the store: {exc}") from None
    if settings.broker_url is None:
        typer.echo(
            "occupancy api: live feed off (no --broker-url); the live page shows stored states",
            err=True,
        )
    application = create_app(settings, registry=reg, store=store)
    serve(application, host=settings.host, port=settings.port)
