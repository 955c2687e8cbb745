"""The API's own records (not time series): API keys, bookings, charge runs.

SQLAlchemy 2 on a SQLite file by default; the URL may point at PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


def _now() -> datetime:
    return datetime.now(UTC)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # public prefix of the key
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # optional: a key for a contractor or a trial ends by itself (issue 20)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class BookingRecord(Base):
    __tablename__ = "bookings"
    __table_args__ = (Index("ix_bookings_site_space_start", "site", "space", "start"),)

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    space: Mapped[str] = mapped_column(String(64))
    agency: Mapped[str] = mapped_column(String(64))
    start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    title: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(String(200), default="api")
    # a cancelled booking stays for its history but no longer counts (issue 16)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # the subscribed iCalendar feed that keeps this booking (BookingFeed.id)
    feed_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class BookingChange(Base):
    """One change of a booking: who (key name and role), when, what (old and
    new values as JSON ``{field: [old, new]}``)."""

    __tablename__ = "booking_changes"
    __table_args__ = (Index("ix_booking_changes_booking", "booking_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    booking_id: Mapped[str] = mapped_column(String(200))
    site: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    who_name: Mapped[str] = mapped_column(String(200))
    who_role: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))  # created, updated, cancelled, restored
    via: Mapped[str] = mapped_column(String(200), default="api")
    changes_json: Mapped[str] = mapped_column(Text, default="{}")


class BookingFeed(Base):
    """An iCalendar feed subscribed by URL and polled (``api.feeds``)."""

    __tablename__ = "booking_feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(2000))
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    etag: Mapped[str | None] = mapped_column(String(500), nullable=True)
    last_modified: Mapped[str | None] = mapped_column(String(100), nullable=True)
    last_polled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_status: Mapped[str | None] = mapped_column(String(200), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_poll_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # seconds between polls; NULL: the API's feeds_poll_interval_s
    interval_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    # the last poll's import summary (api.booking_import.ImportSummary.as_json)
    last_summary_json: Mapped[str | None] = mapped_column(Text, nullable=True)


class ChargeRun(Base):
    """One computation of a month: a draft, or the frozen figures of an
    approval or a correction (``frozen_json``, charging/frozen.py)."""

    __tablename__ = "charge_runs"
    __table_args__ = (Index("ix_charge_runs_site_month", "site", "month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site: Mapped[str] = mapped_column(String(64))
    month: Mapped[str] = mapped_column(String(7))
    inputs_hash: Mapped[str] = mapped_column(String(64))
    tariff_version: Mapped[str] = mapped_column(String(64))
    registry_version: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    result_json: Mapped[str] = mapped_column(Text)
    # added with the month's life cycle (issue 16); NULL in runs of older versions
    revision: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kind: Mapped[str | None] = mapped_column(String(16), nullable=True)  # draft|approval|correction
    provisional: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_role: Mapped[str | None] = mapped_column(String(100), nullable=True)
    amounts_json: Mapped[str | None] = mapped_column(Text, nullable=True)  # agency -> cents
    coverage_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    bookings_json: Mapped[str | None] = mapped_column(Text, nullable=True)  # the snapshot
    frozen_json: Mapped[str | None] = mapped_column(Text, nullable=True)


class ChargeMonth(Base):
    """Where a site's month stands in its life cycle (charging/header.py MonthState)."""

    __tablename__ = "charge_months"
    __table_args__ = (UniqueConstraint("site", "month", name="uq_charge_months_site_month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site: Mapped[str] = mapped_column(String(64))
    month: Mapped[str] = mapped_column(String(7))
    state: Mapped[str] = mapped_column(String(16))
    revision: Mapped[int] = mapped_column(Integer, default=0)
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the frozen run
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    # optimistic lock: an update from a stale read fails instead of overwriting
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ChargeTransition(Base):
    """Who moved a month from one state to another, when and why."""

    __tablename__ = "charge_transitions"
    __table_args__ = (Index("ix_charge_transitions_site_month", "site", "month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site: Mapped[str] = mapped_column(String(64))
    month: Mapped[str] = mapped_column(String(7))
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    from_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_state: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    by_name: Mapped[str] = mapped_column(String(200))
    by_role: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text, default="")
    coverage_override: Mapped[str | None] = mapped_column(Text, nullable=True)


class StatementRecord(Base):
    """An issued statement: a debit, or a correction's credit note and new debit."""

    __tablename__ = "statements"
    __table_args__ = (Index("ix_statements_site_month", "site", "month"),)

    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    month: Mapped[str] = mapped_column(String(7))
    agency: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # debit | credit
    state: Mapped[str] = mapped_column(String(16))  # the month's state it was issued in
    run_id: Mapped[int] = mapped_column(Integer)  # the figures it prints
    revision: Mapped[int] = mapped_column(Integer)
    amount_cents: Mapped[int] = mapped_column(Integer)  # negative for a credit note
    references_number: Mapped[str | None] = mapped_column(String(32), nullable=True)
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(32))
    inputs_hash: Mapped[str] = mapped_column(String(64))
    approved_by: Mapped[str] = mapped_column(String(300))
    approved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Counter(Base):
    """Gap-free sequences (statement numbers): a row per sequence, incremented
    inside the transaction that uses the numbers."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class RecordsMissing(Exception):
    """A reader was pointed at a records database that does not exist."""


def make_engine(url: str, *, create: bool = True) -> Engine:
    """An engine on the records, with the schema brought up to date. With
    ``create`` false (read paths, e.g. ``occupancy keys list``) a SQLite file
    that does not exist is ``RecordsMissing``, naming it, instead of a new
    empty database."""
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            if not create and not Path(path).is_file():
                raise RecordsMissing(f"no records database at {path}: the file does not exist")
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=5000")
            cur.close()

    Base.metadata.create_all(engine)
    _add_missing_columns(engine)
    return engine


def _add_missing_columns(engine: Engine) -> None:
    """Columns added after a records DB was created, added in place.

    ``create_all`` makes missing tables only; a DB from an older version keeps
    its keys, so a nullable column (NULL: no expiry) is added beside them.
    """
    inspector = inspect(engine)
    for table in Base.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present or not column.nullable:
                continue
            kind = column.type.compile(dialect=engine.dialect)
            with engine.begin() as conn:
                conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))


def make_sessionmaker(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)
