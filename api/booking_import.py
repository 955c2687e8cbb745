"""Importing bookings into the records: a file (CSV, iCalendar) or a feed poll
is reconciled with what is stored, row by row.

A booking whose id is stored with the same values is unchanged (importing a
file twice is idempotent); with other values it is an update, checked like a
new booking and kept in its history. A row with a problem is rejected alone,
named by its CSV line or event UID; the others are stored. A feed poll also
cancels the bookings of events gone from the feed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.booking_changes import (
    Actor,
    cancel_row,
    created_changes,
    diff,
    record_change,
    write_row,
)
from api.bookings import booking_record, booking_rows, list_bookings, to_booking
from api.records import BookingRecord
from charging.bookings import Booking, Issue, Rejection, booking_issues, rejection_of
from core.registry import Site

#: problems an answer lists in full; the rest are counted
MAX_PROBLEMS = 50
MAX_REASON = 300
#: why a feed poll cancelled a booking; a reappearing event brings it back
GONE_FROM_FEED = "the event is no longer in the feed"


@dataclass
class ImportSummary:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged)

    @property
    def rejected_rows(self) -> int:
        """Rows or events rejected (one may have several problems)."""
        keys = {
            (r.row, r.event, r.id) if (r.row, r.event, r.id) != (None, None, None) else i
            for i, r in enumerate(self.rejected)
        }
        return len(keys)

    def as_json(self, limit: int = MAX_PROBLEMS) -> dict[str, Any]:
        """Counts, and the first ``limit`` rejections (each reason cut to a
        readable length), so a huge bad file answers a few kilobytes."""
        shown = [
            {"row": r.row, "event": r.event, "id": r.id, "reason": _cut(r.reason)}
            for r in self.rejected[:limit]
        ]
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "cancelled": len(self.cancelled),
            "rejected": self.rejected_rows,
            "problems": shown,
            "problems_omitted": max(0, len(self.rejected) - limit),
        }


def _cut(text: str) -> str:
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


@dataclass(frozen=True, slots=True)
class FeedScope:
    """A feed poll: the feed's id and the window its events were expanded over."""

    feed_id: int
    start: datetime
    end: datetime


def import_bookings(
    session: Session,
    *,
    site: Site,
    candidates: Sequence[Booking],
    rejected: Sequence[Rejection] = (),
    actor: Actor,
    via: str,
    feed: FeedScope | None = None,
) -> ImportSummary:
    """Reconcile parsed bookings with the stored ones and commit (see the module)."""
    summary = ImportSummary(rejected=list(rejected))
    ok = _drop(list(candidates), booking_issues(candidates, site=site), summary)
    stored = _stored(session, [b.id for b in ok])
    new: list[Booking] = []
    changed: list[tuple[Booking, BookingRecord]] = []
    for b in ok:
        row = stored.get(b.id)
        if row is None:
            new.append(b)
        elif row.site != site.id:
            summary.rejected.append(
                rejection_of(Issue(b, f"booking {b.id!r}: this id is used in another site"))
            )
        elif row.cancelled_at is not None and not _comes_back(row, feed):
            reason = (
                f"booking {b.id!r} is cancelled; an import does not bring it back "
                "(create it anew with another id)"
            )
            summary.rejected.append(rejection_of(Issue(b, reason)))
        elif row.cancelled_at is None and not diff(to_booking(row), b):
            summary.unchanged.append(b.id)
        else:
            changed.append((b, row))
    new, changed = _fit(session, site, new, changed, summary)
    for b in new:
        session.add(booking_record(b, feed_id=feed.feed_id if feed is not None else None))
        record_change(session, booking=b, actor=actor, action="created",
                      changes=created_changes(b), via=via)  # fmt: skip
        summary.created.append(b.id)
    for b, row in changed:
        _apply_change(session, b, row, actor=actor, via=via)
        summary.updated.append(b.id)
    if feed is not None:
        seen = {b.id for b in candidates} | {r.id for r in summary.rejected if r.id}
        for row in _gone(session, site, feed, seen):
            cancel_row(session, row, actor=actor, reason=GONE_FROM_FEED, via=via)
            summary.cancelled.append(row.id)
    session.commit()
    return summary


def _drop(items: list[Booking], issues: list[Issue], summary: ImportSummary) -> list[Booking]:
    """``items`` without the bookings the issues are about (those are rejected)."""
    bad: set[int] = set()
    for issue in issues:
        bad.add(id(issue.booking))
        summary.rejected.append(rejection_of(issue))
    return [b for b in items if id(b) not in bad]


def _stored(session: Session, ids: list[str]) -> dict[str, BookingRecord]:
    out: dict[str, BookingRecord] = {}
    for i in range(0, len(ids), 500):  # keeps under the databases' parameter limits
        chunk = ids[i : i + 500]
        out.update(
            (r.id, r)
            for r in session.scalars(select(BookingRecord).where(BookingRecord.id.in_(chunk)))
        )
    return out


def _comes_back(row: BookingRecord, feed: FeedScope | None) -> bool:
    return feed is not None and row.feed_id == feed.feed_id and row.cancel_reason == GONE_FROM_FEED


def _fit(
    session: Session,
    site: Site,
    new: list[Booking],
    changed: list[tuple[Booking, BookingRecord]],
    summary: ImportSummary,
) -> tuple[list[Booking], list[tuple[Booking, BookingRecord]]]:
    """New and changed bookings that fit beside the stored ones; a clash
    rejects the imported booking, never a stored one."""
    incoming = new + [b for b, _ in changed]
    if not incoming:
        return new, changed
    replaced = {b.id for b in incoming}
    lo = min(b.start for b in incoming)
    hi = max(b.end for b in incoming)
    existing = [
        b for b in list_bookings(session, site=site, start=lo, end=hi) if b.id not in replaced
    ]
    mine = {id(b) for b in incoming}
    bad: set[int] = set()
    for issue in booking_issues([*existing, *incoming], site=site):
        culprit = issue.booking if id(issue.booking) in mine else issue.other
        if culprit is None or id(culprit) not in mine or id(culprit) in bad:
            continue
        bad.add(id(culprit))
        summary.rejected.append(rejection_of(Issue(culprit, issue.message, issue.other)))
    return [b for b in new if id(b) not in bad], [(b, r) for b, r in changed if id(b) not in bad]


def _apply_change(
    session: Session, b: Booking, row: BookingRecord, *, actor: Actor, via: str
) -> None:
    changes = diff(to_booking(row), b)
    if row.cancelled_at is not None:  # an event back in its feed
        row.cancelled_at = None
        row.cancel_reason = None
        record_change(session, booking=b, actor=actor, action="restored", changes=changes, via=via)
    else:
        record_change(session, booking=b, actor=actor, action="updated", changes=changes, via=via)
    write_row(row, b)


def _gone(session: Session, site: Site, feed: FeedScope, seen: set[str]) -> list[BookingRecord]:
    """The feed's counting bookings in its window whose events are no longer in it."""
    rows = booking_rows(session, site=site, start=feed.start, end=feed.end)
    return [r for r in rows if r.feed_id == feed.feed_id and r.id not in seen]
