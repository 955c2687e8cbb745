"""``occupancy keys``: create, list and revoke API keys (stored hashed)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import typer

app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)


def _sessions(records_url: str | None, *, create: bool = True):
    from api.config import ApiSettings
    from api.records import RecordsMissing, make_engine, make_sessionmaker

    url = records_url or ApiSettings().records_url
    try:
        return make_sessionmaker(make_engine(url, create=create))
    except RecordsMissing as exc:  # list and revoke read: they never make a database
        typer.echo(f"{exc} (check --records-url)", err=True)
        raise typer.Exit(2) from None


def _known_agencies(registry: Path | None) -> set[str]:
    """Agency ids of every site, so a key cannot name an agency that does not
    exist (issue 14); the registry is the API's own unless one is given."""
    from api.config import ApiSettings
    from core.registry import load_registry

    reg = load_registry(registry or ApiSettings().registry)
    return {agency.id for site in reg for agency in site.agencies}


def parse_expiry(text: str) -> datetime:
    """An ISO date (the key works through that UTC day) or date-time (UTC if naive)."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text) + timedelta(days=1), time(0), UTC)
        at = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"give a date or date-time like 2027-01-31, not {text!r}"
        ) from None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


@app.command("create")
def create(
    role: str = typer.Option(..., help="admin, facility, finance or agency:<id>"),
    name: str = typer.Option("", help="Who or what the key is for."),
    expires: str | None = typer.Option(
        None, help="Last day (2027-01-31, UTC) or instant the key works; default: no expiry."
    ),
    records_url: str | None = typer.Option(None, help="Defaults to OCCUPANCY_API_RECORDS_URL."),
    registry: Path | None = typer.Option(
        None,
        help="Site file or folder that lists the agencies; defaults to OCCUPANCY_API_REGISTRY.",
    ),
) -> None:
    """Create a key and print it once: it is stored only as a hash."""
    from api.auth import InvalidRole, create_key, validate_role
    from core.yamlfile import ConfigError

    expires_at = parse_expiry(expires) if expires else None
    if expires_at is not None and expires_at <= datetime.now(UTC):
        typer.echo(f"--expires {expires} is already past", err=True)
        raise typer.Exit(2)
    try:
        known = _known_agencies(registry) if role.startswith("agency:") else None
        role = validate_role(role, known)
    except (InvalidRole, ConfigError, OSError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    with _sessions(records_url)() as session:
        key = create_key(session, role=role, name=name or role, expires_at=expires_at)
    typer.echo(key)


@app.command("list")
def list_(records_url: str | None = typer.Option(None)) -> None:
    """List keys (ids, roles, names; never the secrets)."""
    from api.auth import is_active, list_keys

    with _sessions(records_url, create=False)() as session:
        for k in list_keys(session):
            state = "revoked" if k.revoked_at else "active" if is_active(k) else "expired"
            if k.expires_at is not None and state == "active":
                state = f"active until {k.expires_at:%Y-%m-%d %H:%M}Z"
            typer.echo(f"{k.id}\t{k.role}\t{state}\t{k.name}")


@app.command("revoke")
def revoke(key_id: str, records_url: str | None = typer.Option(None)) -> None:
    """Revoke a key by its id (the part after 'occ_')."""
    from api.auth import revoke_key

    with _sessions(records_url, create=False)() as session:
        if not revoke_key(session, key_id):
            typer.echo(f"no active key with id {key_id!r}", err=True)
            raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")
