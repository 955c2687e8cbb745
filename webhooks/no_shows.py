"""``booking.no_show`` live: a booking with no presence in its first minutes
is announced within a minute of the end of that window, so a room-booking
system can release the room.

The rule is the charging rule itself (``charging.attribution.find_no_shows``,
one implementation): the watcher keeps each space's recent state spells from
the live board, turns the window into the intervals that function reads, and
announces the bookings it judges ``no_show``. ``unverified`` ones (the sensor
was silent or offline for part of the window) are not announced: no one can
say the room was unused. Each booking is judged once; the judgement is kept
in the records database, so a restart does not announce it again.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from api.bookings import to_booking
from api.live import LiveBoard, SpaceLive
from api.records import BookingRecord
from charging.attribution import NO_SHOW, find_no_shows
from charging.bookings import Booking
from webhooks.events import BOOKING_NO_SHOW, Event, EventSink
from webhooks.tables import NoShowCheck

#: bookings whose window ended longer ago than this are not judged live any more
LOOKBACK = timedelta(minutes=10)
#: how much spell history a space keeps
KEEP = timedelta(hours=2)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


class SpellHistory:
    """Each space's recent state changes as the live board saw them."""

    def __init__(self, boards: Iterable[LiveBoard]):
        self._lock = threading.Lock()
        self._spells: dict[tuple[str, str], list[tuple[datetime, str]]] = {}
        for board in boards:
            for s in board.spaces():
                self._note(board.site.id, s)
            board.add_listener(self._listener(board.site.id))

    def _listener(self, site_id: str) -> Callable[[SpaceLive], None]:
        def noted(item: SpaceLive) -> None:
            with self._lock:
                self._note(site_id, item)

        return noted

    def _note(self, site_id: str, item: SpaceLive) -> None:
        if item.since is None:
            return  # no data yet: the time before the first spell is unobserved
        spells = self._spells.setdefault((site_id, item.space), [])
        if spells and spells[-1] == (item.since, item.state):
            return  # a count change within the same spell
        bisect.insort(spells, (item.since, item.state))

    def intervals(
        self, site_id: str, space: str, start: datetime, end: datetime, now: datetime
    ) -> pd.DataFrame:
        """The spells over [start, end) as ``find_no_shows`` reads them; the
        current spell lasts until ``now``."""
        with self._lock:
            spells = list(self._spells.get((site_id, space), []))
        rows = []
        for i, (since, state) in enumerate(spells):
            until = spells[i + 1][0] if i + 1 < len(spells) else now
            a, b = max(since, start), min(until, end)
            if b > a:
                rows.append({"space": space, "start": a, "end": b, "state": state})
        frame = pd.DataFrame(rows, columns=["space", "start", "end", "state"])
        for col in ("start", "end"):
            frame[col] = pd.to_datetime(frame[col], utc=True)
        return frame

    def prune(self, before: datetime) -> None:
        """Forget spells that ended before ``before`` (the last one always stays)."""
        with self._lock:
            for spells in self._spells.values():
                i = bisect.bisect_left(spells, (before, "")) - 1
                if i > 0:
                    del spells[:i]


class NoShowWatcher:
    def __init__(
        self,
        boards: Iterable[LiveBoard],
        sink: EventSink,
        sessions: sessionmaker,
        *,
        window_min: int,
        grace_s: float,
    ):
        self.boards = {b.site.id: b for b in boards}
        self.sink = sink
        self.sessions = sessions
        self.window = timedelta(minutes=window_min)
        self.grace = timedelta(seconds=grace_s)
        self.history = SpellHistory(self.boards.values())

    def window_end(self, b: Booking) -> datetime:
        return min(b.start + self.window, b.end)

    def due(self, now: datetime) -> list[Booking]:
        """Bookings whose window (plus the grace) has ended, recently, unjudged."""
        latest_start = now - self.grace
        earliest_start = now - self.grace - self.window - LOOKBACK
        with self.sessions() as session:
            rows = session.scalars(
                select(BookingRecord).where(
                    BookingRecord.start <= latest_start,
                    BookingRecord.start > earliest_start,
                    # a cancelled booking is released already: no no-show to announce
                    BookingRecord.cancelled_at.is_(None),
                )
            )
            found = [to_booking(r) for r in rows if r.site in self.boards]
            judged = set(
                session.scalars(
                    select(NoShowCheck.booking_id).where(
                        NoShowCheck.booking_id.in_([b.id for b in found])
                    )
                )
            )
        return [
            b
            for b in found
            if b.id not in judged and now - LOOKBACK <= self.window_end(b) + self.grace <= now
        ]

    def judge(self, b: Booking, now: datetime) -> str:
        """The charging rule's status of one booking from the live history."""
        board = self.boards[b.site]
        intervals = self.history.intervals(b.site, b.space, b.start, self.window_end(b), now)
        result = find_no_shows(
            intervals=intervals,
            bookings=[b],
            site=board.site,
            window_minutes=int(self.window.total_seconds() // 60),
        )
        return str(result["status"].iloc[0])

    def tick(self, now: datetime) -> list[str]:
        """Judge the due bookings; returns the ids announced as no-shows."""
        announced = []
        for b in self.due(now):
            status = self.judge(b, now)
            if status == NO_SHOW:
                self.sink.publish(self._event(b))
                announced.append(b.id)
            with self.sessions() as session:
                session.merge(NoShowCheck(booking_id=b.id, status=status, checked_at=now))
                session.commit()
        self.history.prune(now - KEEP)
        return announced

    def _event(self, b: Booking) -> Event:
        site = self.boards[b.site].site
        return Event(
            type=BOOKING_NO_SHOW,
            site=b.site,
            occurred_at=self.window_end(b),
            agency=b.agency,
            data={
                "booking_id": b.id,
                "space": b.space,
                "zone": site.space(b.space).zone,
                "start": _iso(b.start),
                "end": _iso(b.end),
                "window_end": _iso(self.window_end(b)),
                "window_minutes": int(self.window.total_seconds() // 60),
                "title": b.title,
            },
        )
