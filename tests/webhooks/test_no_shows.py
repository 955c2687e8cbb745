"""booking.no_show live: the live board is driven with presence messages and
the watcher with a clock of the test's own; the statuses are worked by hand
from the charging rule (no presence in [start, start + 15 min))."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from api.bookings import add_bookings
from api.live import LiveHub
from api.records import BookingRecord, make_engine, make_sessionmaker
from charging.bookings import Booking
from core.messages import Presence
from core.registry import Registry, load_site
from tests.webhooks.conftest import SMALL_SITE, Maker
from tests.webhooks.receiver import Receiver
from webhooks import tables
from webhooks.events import BOOKING_NO_SHOW, Event
from webhooks.no_shows import NoShowWatcher

T0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 09:00 in Helsinki, a Monday
MIN = timedelta(minutes=1)
S = timedelta(seconds=1)


class Collected:
    """An EventSink that keeps what it is given."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def publish(self, event: Event) -> None:
        self.events.append(event)


def presence(space: str, occupied: bool, at: datetime, seq: int, hb: float = 3600) -> Presence:
    return Presence(
        space_id=space,
        agent_id="ag",
        sensor_id=f"s-{space}",
        occupied=occupied,
        event_time=at,
        seq=seq,
        kind="change",
        heartbeat_interval_s=hb,
    )


def booking(bid: str, space: str, agency: str, start: datetime, end: datetime) -> Booking:
    return Booking(id=bid, site="pieni", space=space, agency=agency, start=start, end=end)


def test_no_shows_judged_live_at_the_end_of_the_window(tmp_path: Path) -> None:
    site = load_site(SMALL_SITE)
    hub = LiveHub(Registry({site.id: site}))
    board = hub.board("pieni")
    sessions = make_sessionmaker(make_engine(f"sqlite:///{tmp_path}/api.db"))
    hour = timedelta(hours=1)
    with sessions() as session:
        add_bookings(
            session,
            site=site,
            new=[
                booking("b1", "r1", "aa", T0, T0 + hour),  # free all along: no-show
                booking("b2", "s1", "bb", T0, T0 + hour),  # occupied at 14:59: shown
                booking("b3", "s2", "aa", T0, T0 + hour),  # occupied only at 15:00: no-show
                booking("b4", "s3", "bb", T0, T0 + hour),  # its sensor silent: unverified
                booking("b5", "r1", "aa", T0 + hour, T0 + hour + 10 * MIN),  # 10 min long
                booking("b6", "r1", "aa", T0 + 2 * hour, T0 + 3 * hour),  # cancelled below
            ],
        )
        row = session.scalars(select(BookingRecord).where(BookingRecord.id.like("%b6"))).one()
        row.cancelled_at = T0
        session.commit()
    sink = Collected()
    watcher = NoShowWatcher([board], sink, sessions, window_min=15, grace_s=20)
    for seq, space in enumerate(("r1", "s1", "s2")):
        board.apply_presence(presence(space, False, T0 - 10 * MIN, seq))
    board.apply_presence(presence("s3", False, T0 - hour, 3, hb=600))  # silent from 06:25
    board.apply_presence(presence("s1", True, T0 + 15 * MIN - S, 4))
    board.apply_presence(presence("s2", True, T0 + 15 * MIN, 5))
    board.sweep(T0 + 15 * MIN)  # as the app's sweeper does each second

    assert watcher.tick(T0 + 15 * MIN + 19 * S) == []  # the grace for late messages
    assert watcher.tick(T0 + 15 * MIN + 20 * S) == ["b1", "b3"]
    assert watcher.tick(T0 + 16 * MIN) == []  # judged once
    assert [(e.type, e.agency, e.occurred_at) for e in sink.events] == [
        (BOOKING_NO_SHOW, "aa", T0 + 15 * MIN),
        (BOOKING_NO_SHOW, "aa", T0 + 15 * MIN),
    ]
    assert dict(sink.events[0].data) == {
        "booking_id": "b1",
        "space": "r1",
        "zone": "zs",
        "start": "2026-03-02T07:00:00Z",
        "end": "2026-03-02T08:00:00Z",
        "window_end": "2026-03-02T07:15:00Z",
        "window_minutes": 15,
        "title": "",
    }
    # a booking shorter than the window: judged at its end
    assert watcher.tick(T0 + hour + 10 * MIN + 19 * S) == []
    assert watcher.tick(T0 + hour + 10 * MIN + 20 * S) == ["b5"]
    assert sink.events[-1].occurred_at == T0 + hour + 10 * MIN
    with sessions() as session:
        judged = dict(
            session.execute(select(tables.NoShowCheck.booking_id, tables.NoShowCheck.status)).all()
        )
    assert judged == {
        "b1": "no_show",
        "b2": "shown",
        "b3": "no_show",
        "b4": "unverified",
        "b5": "no_show",
    }
    # a cancelled booking was released already: never judged
    assert watcher.tick(T0 + 2 * hour + 15 * MIN + 20 * S) == []
    # after a restart nothing is announced again
    again = NoShowWatcher([board], sink, sessions, window_min=15, grace_s=20)
    assert again.tick(T0 + hour + 11 * MIN) == []


class Clock:
    def __init__(self, now: datetime):
        self.now = now
        self.lock = threading.Lock()

    def __call__(self) -> datetime:
        with self.lock:
            return self.now

    def set(self, now: datetime) -> None:
        with self.lock:
            self.now = now


def test_no_show_reaches_the_booking_system(make: Maker, receiver: Receiver) -> None:
    clock = Clock(T0 - 20 * MIN)
    for hooks in make(clock=clock):
        sub = hooks.subscribe("agency:aa", url=receiver.url, event_types=[BOOKING_NO_SHOW])
        made = hooks.call(
            "POST",
            "/v1/sites/pieni/bookings",
            "agency:aa",
            json={
                "space": "r1",
                "agency": "aa",
                "start": T0.isoformat(),
                "end": (T0 + 30 * MIN).isoformat(),
                "id": "weekly",
            },
        )
        assert made.status_code == 201, made.text
        hooks.ctx.hub.board("pieni").apply_presence(presence("r1", False, T0 - 15 * MIN, 1))
        clock.set(T0 + 15 * MIN + 19 * S)
        time.sleep(0.3)  # several ticks of 0.05 s
        assert receiver.hits == []
        clock.set(T0 + 15 * MIN + 20 * S)
        receiver.wait_for(lambda r: len(r.ok_hits()) == 1, timeout=5)
        hit = receiver.ok_hits()[0]
        assert hit.signed_by(sub["secret"])
        body = hit.payload
        assert (body["type"], body["agency"], body["timestamp"]) == (
            BOOKING_NO_SHOW,
            "aa",
            "2026-03-02T07:15:00Z",
        )
        assert (body["data"]["booking_id"], body["data"]["space"]) == ("aa:weekly", "r1")


def test_live_window_defaults_to_the_tariffs() -> None:
    from charging.tariff import NoShowPolicy
    from webhooks.settings import WebhookSettings

    assert WebhookSettings().no_show_window_min == NoShowPolicy().window_minutes
