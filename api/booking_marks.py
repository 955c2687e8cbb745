"""Bookings as an input of the daily summaries: where the summariser reads them
from, and the dirty marks a booking write leaves (docs/storage.md, "Daily summaries").

The agency presence of a day (``metrics.presence``) attributes shared desks by
the bookings on them, so a booking written, moved or cancelled for a day that
is already summarised must make that day dirty, like a late presence point.
``mark_booking_days`` hooks the records' sessions once: every commit that
touched a booking row (the API, the CSV import, the iCalendar feeds, the
cancellation and change routes) marks each local day of the booking's old and
new span, after the commit, so a summariser that sees the mark reads the new
bookings. A mark that cannot be written is logged; the day is then refreshed
only by its next raw write or a rebuild (``occupancy summaries rebuild``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, sessionmaker

from api.bookings import _aware, list_bookings
from api.records import BookingRecord, RecordsMissing, make_engine, make_sessionmaker
from charging.bookings import Booking
from core.calendar import wall_time_utc
from core.registry import Site
from core.timeutil import to_ns
from storage import Store
from storage.marks import mark_points

log = logging.getLogger(__name__)
_KEY = "booking_days"


def booking_days(tz: tzinfo, start: datetime, end: datetime) -> set[int]:
    """UTC ns of the local midnights of the days [start, end) touches."""
    first = _aware(start).astimezone(tz).date()
    last = (_aware(end) - timedelta(microseconds=1)).astimezone(tz).date()
    out = set()
    day = first
    while day <= last:
        out.add(to_ns(wall_time_utc(tz, datetime.combine(day, datetime.min.time()))))
        day += timedelta(days=1)
    return out


def _spans(row: BookingRecord) -> Iterable[tuple[str, datetime, datetime]]:
    """The booking's span now and, for a changed row, before the change."""
    yield row.site, row.start, row.end
    state = inspect(row)
    before: dict[str, Any] = {"site": row.site, "start": row.start, "end": row.end}
    changed = False
    for name in before:
        deleted = list(state.attrs[name].history.deleted)
        if deleted:
            before[name] = deleted[0]
            changed = True
    if changed:
        yield before["site"], before["start"], before["end"]


def mark_booking_days(
    sessions: sessionmaker[Session], store: Store, site_tz: Mapping[str, tzinfo]
) -> None:
    """Mark the (site, local day)s of every committed booking change in ``store``."""

    def collect(session: Session, _context: Any) -> None:
        days: dict[str, set[int]] = session.info.setdefault(_KEY, {})
        for row in (*session.new, *session.dirty, *session.deleted):
            if not isinstance(row, BookingRecord):
                continue
            for site, start, end in _spans(row):
                tz = site_tz.get(site)
                if tz is not None and start is not None and end is not None and end > start:
                    days.setdefault(site, set()).update(booking_days(tz, start, end))

    def write(session: Session) -> None:
        days = session.info.pop(_KEY, None)
        if not days:
            return
        try:
            store.write(mark_points(days))
        except Exception as exc:  # the booking is committed; say what is left stale
            log.error("could not mark the days of changed bookings dirty: %s", exc)

    def forget(session: Session) -> None:
        session.info.pop(_KEY, None)

    event.listen(sessions, "after_flush", collect)
    event.listen(sessions, "after_commit", write)
    event.listen(sessions, "after_soft_rollback", lambda s, t: forget(s))


class RecordsBookings:
    """A ``summaries.presence.BookingSource`` on the records database at
    ``url`` (the API's ``records_url``). Picklable (a rebuild's worker
    processes open their own connection); a database that does not exist yet
    has no bookings."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._sessions: sessionmaker[Session] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"url": self.url}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["url"])  # type: ignore[misc]

    def __call__(self, site: Site, start: datetime, end: datetime) -> list[Booking]:
        if self._sessions is None:
            try:
                self._sessions = make_sessionmaker(make_engine(self.url, create=False))
            except RecordsMissing:
                return []
        with self._sessions() as session:
            return list_bookings(session, site=site, start=start, end=end)


class SessionBookings:
    """A ``BookingSource`` on sessions already open (the API's own)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def __call__(self, site: Site, start: datetime, end: datetime) -> list[Booking]:
        with self.sessions() as session:
            return list_bookings(session, site=site, start=start, end=end)


__all__ = ["RecordsBookings", "SessionBookings", "booking_days", "mark_booking_days"]
