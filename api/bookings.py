"""Bookings kept in the API's records: stored, listed and validated with the
charging rules (``api.charging.bookings``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.charging.bookings import Booking, check_bookings
from api.records import BookingRecord
from core.registry import Site


def _aware(ts: datetime) -> datetime:
    # SQLite returns naive datetimes even for timezone=True columns; we store UTC.
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts


def to_booking(row: BookingRecord) -> Booking:
    return Booking(
        id=row.id,
        site=row.site,
        space=row.space,
        agency=row.agency,
        start=_aware(row.start),
        end=_aware(row.end),
        title=row.title,
        source=row.source,
    )


def list_bookings(
    session: Session,
    *,
    site: Site,
    start: datetime | None = None,
    end: datetime | None = None,
    agency: str | None = None,
) -> list[Booking]:
    q = select(BookingRecord).where(BookingRecord.site == site.id)
    if start is not None:
        q = q.where(BookingRecord.end > start.astimezone(UTC))
    if end is not None:
        q = q.where(BookingRecord.start < end.astimezone(UTC))
    if agency is not None:
        q = q.where(BookingRecord.agency == agency)
    rows = session.scalars(q.order_by(BookingRecord.start, BookingRecord.id))
    return [to_booking(r) for r in rows]


def add_bookings(session: Session, *, site: Site, new: Sequence[Booking]) -> list[Booking]:
    """Validate the new bookings together with the stored ones of their time
    span, then store all or none. Raises ``BookingError`` naming every problem."""
    if not new:
        return []
    lo = min(b.start for b in new)
    hi = max(b.end for b in new)
    existing = list_bookings(session, site=site, start=lo, end=hi)
    check_bookings([*existing, *new], site=site)
    for b in new:
        session.add(
            BookingRecord(
                id=b.id,
                site=b.site,
                space=b.space,
                agency=b.agency,
                start=b.start.astimezone(UTC),
                end=b.end.astimezone(UTC),
                title=b.title,
                source=b.source,
            )
        )
    session.commit()
    return list(new)
