"""``occupancy keys``: create, list and revoke API keys (stored hashed)."""

from __future__ import annotations

import typer

app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)


def _sessions(records_url: str | None):
    from api.config import ApiSettings
    from api.records import make_engine, make_sessionmaker

    url = records_url or ApiSettings().records_url
    return make_sessionmaker(make_engine(url))


@app.command("create")
def create(
    role: str = typer.Option(..., help="admin, facility, finance or agency:<id>"),
    name: str = typer.Option("", help="Who or what the key is for."),
    records_url: str | None = typer.Option(None, help="Defaults to OCCUPANCY_API_RECORDS_URL."),
) -> None:
    """Create a key and print it once: it is stored only as a hash."""
    from api.auth import InvalidRole, create_key, validate_role

    try:
        role = validate_role(role)
    except InvalidRole as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    with _sessions(records_url)() as session:
        key = create_key(session, role=role, name=name or role)
    typer.echo(key)


@app.command("list")
def list_(records_url: str | None = typer.Option(None)) -> None:
    """List keys (ids, roles, names; never the secrets)."""
    from api.auth import list_keys

    with _sessions(records_url)() as session:
        for k in list_keys(session):
            state = "revoked" if k.revoked_at else "active"
            typer.echo(f"{k.id}\t{k.role}\t{state}\t{k.name}")


@app.command("revoke")
def revoke(key_id: str, records_url: str | None = typer.Option(None)) -> None:
    """Revoke a key by its id (the part after 'occ_')."""
    from api.auth import revoke_key

    with _sessions(records_url)() as session:
        if not revoke_key(session, key_id):
            typer.echo(f"no active key with id {key_id!r}", err=True)
            raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")
