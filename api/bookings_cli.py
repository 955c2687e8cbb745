"""``occupancy bookings``: booking commands outside the API server.

``occupancy bookings poll-feeds`` polls the subscribed iCalendar feeds once (all
of them, or only those due) with the API's settings, as the API's poller does.
"""

from __future__ import annotations

from pathlib import Path

import typer

from api.config import ApiSettings
from core.cli_settings import Given, SettingsError, settings_options

app = typer.Typer(help="Bookings: poll the subscribed iCalendar feeds.", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"occupancy bookings: {message}", err=True)
    return typer.Exit(2)


@app.callback()
def _group() -> None:
    """Bookings: poll the subscribed iCalendar feeds."""


@app.command("poll-feeds")
@settings_options(ApiSettings)
def poll_feeds(
    given: Given[ApiSettings],
    due_only: bool = typer.Option(
        False, "--due-only", help="Only the feeds whose next poll time has come."
    ),
) -> None:
    """Poll the booking feeds once and print each feed's outcome; exit 1 if one failed."""
    from api.feeds import PollSettings, poll_due
    from api.records import make_engine, make_sessionmaker
    from core.registry import load_registry
    from core.yamlfile import ConfigError

    try:
        settings = given.settings()
        reg = load_registry(settings.registry)
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    except ConfigError as exc:
        raise _fail(f"site registry:\n{exc}") from None
    url = settings.records_url
    path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else None
    if path and path != ":memory:" and not Path(path).is_file():
        # a typo must not create an empty records database that has no feeds
        raise _fail(f"no records database at {path} (--records-url)")
    sessions = make_sessionmaker(make_engine(url))
    cfg = PollSettings.of(settings)
    with cfg.client() as client:  # the outbound address policy applies here too
        got = poll_due(sessions, reg, cfg, client=client, every=not due_only)
    for feed_id, status in sorted(got.items()):
        typer.echo(f"feed {feed_id}: {status}")
    if not got:
        typer.echo("no booking feed to poll", err=True)
    if any(status == "failed" for status in got.values()):
        raise typer.Exit(1)
