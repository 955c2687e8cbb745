"""Changing stored bookings: update, cancel, and the history of every change
(who by key name and role, when, which fields from what to what)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.bookings import _aware, add_bookings, agency_problems, list_bookings, to_booking
from api.records import BookingChange, BookingRecord
from charging.bookings import Booking, BookingError, check_bookings
from core.registry import Site

#: the fields a change may touch, in the order the history lists them
FIELDS = ("space", "agency", "start", "end", "title")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change: a key's name and role, or a feed poller."""

    name: str
    role: str


class BookingNotFound(LookupError):
    pass


class BookingCancelled(ValueError):
    """The booking is cancelled; it can no longer be changed."""


def _value(b: Booking, field: str) -> Any:
    v = getattr(b, field)
    return v.astimezone(UTC).isoformat() if isinstance(v, datetime) else v


def diff(old: Booking, new: Booking) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` of the fields that differ (times compared as instants)."""
    return {f: [_value(old, f), _value(new, f)] for f in FIELDS if _value(old, f) != _value(new, f)}


def record_change(
    session: Session,
    *,
    booking: Booking,
    actor: Actor,
    action: str,
    changes: dict[str, list[Any]] | None = None,
    via: str = "api",
) -> None:
    session.add(
        BookingChange(
            booking_id=booking.id,
            site=booking.site,
            at=datetime.now(UTC),
            who_name=actor.name,
            who_role=actor.role,
            action=action,
            via=via,
            changes_json=json.dumps(changes or {}, sort_keys=True),
        )
    )


def created_changes(b: Booking) -> dict[str, list[Any]]:
    return {f: [None, _value(b, f)] for f in FIELDS}


def create_bookings(
    session: Session,
    *,
    site: Site,
    new: list[Booking],
    actor: Actor,
    agency: str | None = None,
) -> list[Booking]:
    """``add_bookings`` with a "created" history entry for each."""
    stored = add_bookings(session, site=site, new=new, agency=agency, commit=False)
    for b in stored:
        record_change(session, booking=b, actor=actor, action="created", changes=created_changes(b))
    session.commit()
    return stored


def get_row(session: Session, *, site: Site, booking_id: str, agency: str | None) -> BookingRecord:
    """The stored booking; ``BookingNotFound`` also for another agency's (so an
    agency key cannot learn which ids exist)."""
    row = session.get(BookingRecord, booking_id)
    if row is None or row.site != site.id or (agency is not None and row.agency != agency):
        raise BookingNotFound(f"no booking {booking_id!r} in site {site.id!r}")
    return row


def write_row(row: BookingRecord, b: Booking) -> None:
    row.space, row.agency, row.title = b.space, b.agency, b.title
    row.start, row.end = b.start.astimezone(UTC), b.end.astimezone(UTC)
    row.source = b.source


def check_replacement(session: Session, *, site: Site, new: Booking, agency: str | None) -> None:
    """``BookingError`` unless ``new`` fits beside the other counting bookings
    (for an agency key: told as ``agency_problems`` tells it)."""
    others = [
        b for b in list_bookings(session, site=site, start=new.start, end=new.end) if b.id != new.id
    ]
    if agency is not None:
        problems = agency_problems([new], others, site=site, agency=agency)
        if problems:
            raise BookingError(sorted(set(problems)))
    else:
        check_bookings([*others, new], site=site)


def update_booking(
    session: Session,
    *,
    site: Site,
    booking_id: str,
    patch: dict[str, Any],
    actor: Actor,
    agency: str | None = None,
) -> BookingRecord:
    """Apply ``patch`` (some of ``FIELDS``) to a counting booking, check it
    like a new one, store it and its history entry. An unchanged patch changes
    nothing and records nothing."""
    row = get_row(session, site=site, booking_id=booking_id, agency=agency)
    if row.cancelled_at is not None:
        raise BookingCancelled(f"booking {booking_id!r} is cancelled; it cannot be changed")
    old = to_booking(row)
    if agency is not None and patch.get("agency", agency) != agency:
        raise PermissionError("an agency key books only for its own agency")
    new = old.model_copy(update={k: v for k, v in patch.items() if k in FIELDS})
    new = Booking.model_validate(new.model_dump())  # re-validates the patched values
    changes = diff(old, new)
    if not changes:
        return row
    check_replacement(session, site=site, new=new, agency=agency)
    write_row(row, new)
    record_change(session, booking=new, actor=actor, action="updated", changes=changes)
    session.commit()
    return row


def cancel_row(
    session: Session, row: BookingRecord, *, actor: Actor, reason: str, via: str = "api"
) -> None:
    """Mark a booking cancelled (the caller commits): kept, no longer counted."""
    at = datetime.now(UTC)
    row.cancelled_at = at
    row.cancel_reason = reason or None
    record_change(
        session,
        booking=to_booking(row),
        actor=actor,
        action="cancelled",
        changes={"cancelled_at": [None, at.isoformat()], "reason": [None, reason or None]},
        via=via,
    )


def cancel_booking(
    session: Session,
    *,
    site: Site,
    booking_id: str,
    actor: Actor,
    agency: str | None = None,
    reason: str = "",
) -> BookingRecord:
    row = get_row(session, site=site, booking_id=booking_id, agency=agency)
    if row.cancelled_at is not None:
        when = _aware(row.cancelled_at).isoformat()
        raise BookingCancelled(f"booking {booking_id!r} is already cancelled (at {when})")
    cancel_row(session, row, actor=actor, reason=reason)
    session.commit()
    return row


def history(
    session: Session, *, site: Site, booking_id: str, agency: str | None = None
) -> list[dict[str, Any]]:
    """Every change of a booking, oldest first."""
    get_row(session, site=site, booking_id=booking_id, agency=agency)
    rows = session.scalars(
        select(BookingChange)
        .where(BookingChange.booking_id == booking_id)
        .order_by(BookingChange.id)
    )
    return [
        {
            "at": _aware(r.at).isoformat(),
            "who": {"name": r.who_name, "role": r.who_role},
            "action": r.action,
            "via": r.via,
            "changes": {
                k: {"old": v[0], "new": v[1]} for k, v in json.loads(r.changes_json).items()
            },
        }
        for r in rows
    ]
