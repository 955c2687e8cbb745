"""Bookings kept in the API's records: stored, listed and validated with the
charging rules (``charging.bookings``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.records import BookingRecord
from charging.bookings import Booking, BookingError, validate_bookings
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
    """The site's bookings that count (not cancelled) overlapping [start, end)."""
    return [
        to_booking(r) for r in booking_rows(session, site=site, start=start, end=end, agency=agency)
    ]


def booking_rows(
    session: Session,
    *,
    site: Site,
    start: datetime | None = None,
    end: datetime | None = None,
    agency: str | None = None,
    cancelled: bool = False,
) -> list[BookingRecord]:
    """The stored rows; with ``cancelled`` the cancelled ones too."""
    q = select(BookingRecord).where(BookingRecord.site == site.id)
    if not cancelled:
        q = q.where(BookingRecord.cancelled_at.is_(None))
    if start is not None:
        q = q.where(BookingRecord.end > start.astimezone(UTC))
    if end is not None:
        q = q.where(BookingRecord.start < end.astimezone(UTC))
    if agency is not None:
        q = q.where(BookingRecord.agency == agency)
    return list(session.scalars(q.order_by(BookingRecord.start, BookingRecord.id)))


def booking_json(row: BookingRecord) -> dict[str, Any]:
    """A stored booking as the API shows it (with its cancellation, if any)."""
    out = to_booking(row).model_dump(mode="json")
    out["cancelled_at"] = _aware(row.cancelled_at).isoformat() if row.cancelled_at else None
    out["cancel_reason"] = row.cancel_reason
    out["feed"] = row.feed_id
    return out


def scoped_id(agency: str, given: str | None) -> str:
    """A booking id made through the API lives in its agency's namespace, so
    one agency's id can never collide with (or reveal) another agency's."""
    return f"{agency}:{given or 'api-' + uuid.uuid4().hex}"


def agency_problems(
    new: Sequence[Booking], existing: Sequence[Booking], *, site: Site, agency: str
) -> list[str]:
    """What an agency key is told about its new bookings: its own problems in
    full, but of another agency's bookings only that the space is taken, never
    their ids or times; and no booking of another agency's dedicated spaces."""
    problems = validate_bookings(new, site=site)
    for b in new:
        if site.has_space(b.space):
            owner = site.zone(site.space(b.space).zone).agency
            if owner not in (None, agency):
                problems.append(f"booking {b.id!r}: space {b.space!r} is not bookable by {agency}")
    for b in new:
        for e in existing:
            if e.space != b.space or not (e.start < b.end and b.start < e.end):
                continue
            if e.agency == agency:
                problems.append(
                    f"booking {b.id!r}: overlaps booking {e.id!r} in space {b.space!r} "
                    f"({e.start.isoformat()} .. {e.end.isoformat()})"
                )
            else:
                problems.append(
                    f"booking {b.id!r}: space {b.space!r} is already booked at an overlapping time"
                )
    return problems


def add_bookings(
    session: Session,
    *,
    site: Site,
    new: Sequence[Booking],
    agency: str | None = None,
    commit: bool = True,
) -> list[Booking]:
    """Validate the new bookings together with the stored ones of their time
    span, then store all or none. Raises ``BookingError`` naming every problem
    (for an ``agency`` key: ``agency_problems``). An id already stored, even
    by a cancelled booking, is a problem."""
    if not new:
        return []
    lo = min(b.start for b in new)
    hi = max(b.end for b in new)
    existing = list_bookings(session, site=site, start=lo, end=hi)
    taken = session.scalars(
        select(BookingRecord.id).where(BookingRecord.id.in_([b.id for b in new]))
    ).all()
    used = [f"booking {i!r}: this id is already used" for i in taken]
    if agency is not None:
        problems = agency_problems(new, existing, site=site, agency=agency) + used
        if problems:
            raise BookingError(sorted(set(problems)))
    else:
        problems = validate_bookings([*existing, *new], site=site) + used
        if problems:
            raise BookingError(problems)
    for b in new:
        session.add(booking_record(b))
    if commit:
        session.commit()
    return list(new)


def booking_record(b: Booking, *, feed_id: int | None = None) -> BookingRecord:
    """The stored row of a new booking (times in UTC)."""
    return BookingRecord(
        id=b.id,
        site=b.site,
        space=b.space,
        agency=b.agency,
        start=b.start.astimezone(UTC),
        end=b.end.astimezone(UTC),
        title=b.title,
        source=b.source,
        feed_id=feed_id,
    )
