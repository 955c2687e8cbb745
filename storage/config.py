"""Which store to open: ``StoreSettings`` (embedded in each service's own
settings) and ``open_store``. Light to import: the store modules, httpx and
pandas load only when a store is opened."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from core.datadir import sqlite_url
from storage.base import RAW_RETENTION_POLICY

if TYPE_CHECKING:
    from storage.base import Store

SQLITE_PREFIX = "sqlite:///"
_DURATION = re.compile(r"^(INF|inf|([0-9]+(ns|u|µ|ms|s|m|h|d|w))+)$")


def sqlite_path(url: str) -> Path:
    """``sqlite:///var/x.db`` is relative to the working folder,
    ``sqlite:////srv/x.db`` absolute (SQLAlchemy's convention)."""
    return Path(url[len(SQLITE_PREFIX) :])


class StoreSettings(BaseModel):
    """Where time series live. ``url`` is ``sqlite:///path/to/file.db`` (the
    embedded default) or ``http(s)://host:port`` (InfluxDB 1.x, 2.x or 3.x
    through the v1 HTTP API)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        default_factory=lambda: sqlite_url("occupancy.db"),
        description=(
            "sqlite:///relative.db, sqlite:////absolute.db, or http(s)://influxdb:8086; "
            "default: occupancy.db in OCCUPANCY_DATA_DIR"
        ),
    )
    database: str = Field(
        "occupancy", min_length=1, description="InfluxDB database (2.x/3.x: the mapped bucket)."
    )
    retention_policy: str | None = Field(
        None, description="InfluxDB 1.x retention policy; empty: the database's default."
    )
    retention_duration: str = Field(
        "INF", description="Duration of a retention policy the store creates (e.g. 520w)."
    )
    raw_retention_days: int | None = Field(
        None,
        ge=1,
        le=36_500,
        description=(
            "Days of raw presence and agent-status points to keep; the daily summaries "
            "are kept for good. Unset: keep every raw point (docs/storage.md, 'Raw retention')."
        ),
    )
    username: str | None = Field(None, description="InfluxDB 1.x user.")
    password: SecretStr | None = Field(None, description="InfluxDB 1.x password.")
    token: SecretStr | None = Field(None, description="InfluxDB 2.x/3.x API token.")
    create_database: bool = Field(
        True, description="Create the database and retention policy on InfluxDB 1.x if missing."
    )
    timeout_s: float = Field(10.0, gt=0, le=600, description="Longest wait for InfluxDB.")

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str) -> str:
        url = url.strip()
        if url.startswith(SQLITE_PREFIX):
            path = url[len(SQLITE_PREFIX) :]
            if not path or path == ":memory:" or path.endswith("/"):
                raise ValueError(
                    f"store URL {url!r} names no file; use e.g. sqlite:///var/occupancy.db"
                )
            return url
        if url.startswith("sqlite:"):
            raise ValueError(
                f"store URL {url!r}: write sqlite:///relative/file.db or "
                "sqlite:////absolute/file.db (three or four slashes)"
            )
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"store URL {url!r} is neither sqlite:///path/to/file.db nor "
                "http(s)://host:port (InfluxDB)"
            )
        try:
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError as exc:
            raise ValueError(f"store URL {url!r}: {exc}") from None
        if parts.query or parts.fragment or parts.username:
            raise ValueError(
                f"store URL {url!r}: give the database and credentials as settings, "
                "not inside the URL"
            )
        return url.rstrip("/")

    @field_validator("retention_duration")
    @classmethod
    def _check_duration(cls, value: str) -> str:
        if not _DURATION.match(value):
            raise ValueError(
                f"retention_duration {value!r} is not an InfluxQL duration (INF, 520w)"
            )
        return value

    @model_validator(mode="after")
    def _check_auth(self) -> StoreSettings:
        if self.retention_policy == RAW_RETENTION_POLICY:
            raise ValueError(
                f"retention_policy {RAW_RETENTION_POLICY!r} is the raw points' own policy "
                "(raw_retention_days); name another one"
            )
        if self.token is not None and (self.username or self.password is not None):
            raise ValueError("give InfluxDB either a token or a username and password, not both")
        if self.password is not None and not self.username:
            raise ValueError("a store password needs a username")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith(SQLITE_PREFIX)


def open_store(settings: StoreSettings, *, create: bool = True) -> Store:
    """The store the settings name. Opening does not contact InfluxDB (call
    ``ping()`` for that); a SQLite file and its folder are created if missing,
    unless ``create`` is false (read paths): then a missing file is a
    ``StoreMissing`` error that names it."""
    if settings.is_sqlite:
        from storage.sqlite import SQLiteStore

        return SQLiteStore(sqlite_path(settings.url), create=create)
    from storage.influx import InfluxStore

    return InfluxStore(
        settings.url,
        database=settings.database,
        retention_policy=settings.retention_policy,
        retention_duration=settings.retention_duration,
        raw_retention_days=settings.raw_retention_days,
        username=settings.username,
        password=settings.password.get_secret_value() if settings.password else None,
        token=settings.token.get_secret_value() if settings.token else None,
        create_database=settings.create_database,
        timeout_s=settings.timeout_s,
    )
