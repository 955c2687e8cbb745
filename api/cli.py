"""``occupancy api``: serve the API (and the live page) with uvicorn."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Serve the HTTP API and the live floor-plan page.")


@app.callback(invoke_without_command=True)
def serve(
    registry: Path | None = typer.Option(None, help="Site file or folder of site files."),
    store_url: str | None = typer.Option(None, help="sqlite:///file.db or http://influx:8086"),
    host: str | None = typer.Option(None),
    port: int | None = typer.Option(None),
    broker_url: str | None = typer.Option(None, help="mqtt://host:1883 for live updates."),
) -> None:
    """Serve the API. Settings come from OCCUPANCY_API_* variables; options override them."""
    from pydantic import ValidationError

    from api.config import ApiSettings
    from core.registry import load_registry
    from core.yamlfile import ConfigError

    overrides: dict[str, object] = {}
    if registry is not None:
        overrides["registry"] = registry
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    if broker_url is not None:
        overrides["broker_url"] = broker_url
    try:
        settings = ApiSettings(**overrides)  # type: ignore[arg-type]
        if store_url is not None:
            settings = settings.model_copy(
                update={"store": settings.store.model_copy(update={"url": store_url})}
            )
        reg = load_registry(settings.registry)
    except (ValidationError, ConfigError) as exc:
        typer.echo(f"invalid configuration: {exc}", err=True)
        raise typer.Exit(2) from None
    from api.serve import port_unavailable

    problem = port_unavailable(settings.host, settings.port)
    if problem:
        typer.echo(
            f"cannot listen on {settings.host}:{settings.port} ({problem}); "
            "choose another with --port",
            err=True,
        )
        raise typer.Exit(2)

    from api.app import create_app
    from api.serve import serve
    from storage import StoreError, open_store

    try:
        store = open_store(settings.store)
    except (StoreError, ValueError) as exc:
        typer.echo(f"cannot open the store: {exc}", err=True)
        raise typer.Exit(2) from None
    application = create_app(settings, registry=reg, store=store)
    serve(application, host=settings.host, port=settings.port)
