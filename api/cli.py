"""``occupancy api``: serve the API (and the live page) with uvicorn.

Every setting of ``ApiSettings`` is an option with the same name (``--store-url``
is ``OCCUPANCY_API_STORE__URL``, ``--records-url`` is
``OCCUPANCY_API_RECORDS_URL``, ...; core/cli_settings.py); an option given
overrides the variable.
"""

from __future__ import annotations

from typing import Any

import typer

from api.config import ApiSettings
from core.cli_settings import Given, SettingsError, settings_options

app = typer.Typer(help="Serve the HTTP API and the live floor-plan page.")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"occupancy api: {message}", err=True)
    return typer.Exit(2)


@app.callback(invoke_without_command=True)
@settings_options(ApiSettings)
def serve(given: Given[ApiSettings]) -> None:
    """Serve the API. Settings come from OCCUPANCY_API_* variables; options override them."""
    from core.registry import load_registry
    from core.yamlfile import ConfigError

    try:
        settings = given.settings()
        reg = load_registry(settings.registry)
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    except ConfigError as exc:
        raise _fail(f"site registry:\n{exc}") from None
    from alerts.runtime import file_rules

    try:
        file_rules(settings.alerts, reg)
        settings.alerts.smtp_password()  # a missing password file stops the start
    except (ConfigError, ValueError) as exc:
        raise _fail(f"alerts:\n{exc}") from None
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
