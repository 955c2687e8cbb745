"""Bookings are an input of the daily summaries (the agency presence): a
booking written, moved or cancelled marks its days dirty through the records'
sessions (``api.booking_marks``), the summariser reads the bookings from the
records (``RecordsBookings``), and the presence pairs from summaries equal the
raw recompute with the same bookings, exactly. Real SQLite store and records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from api.booking_marks import RecordsBookings, booking_days, mark_booking_days
from api.bookings import add_bookings, list_bookings
from api.records import BookingRecord, make_engine, make_sessionmaker
from charging.bookings import Booking
from core.calendar import local_day_bounds
from core.registry import Site, SpaceType
from simulators.backfill import backfill
from simulators.scenario import Scenario
from storage.marks import MarkingStore
from storage.sqlite import SQLiteStore
from summaries.reader import PeriodData
from summaries.summariser import SummaryParams, refresh_site, site_status

FIRST, LAST = date(2026, 3, 2), date(2026, 3, 4)
NOW = datetime(2026, 3, 6, 12, tzinfo=UTC)
PARAMS = SummaryParams()


def _period(site: Site, store: MarkingStore, source: str, bookings: list[Booking]) -> PeriodData:
    return PeriodData(
        store=store,
        site=site,
        start=local_day_bounds(site, FIRST)[0],
        end=local_day_bounds(site, LAST)[1],
        params=PARAMS,
        source=source,  # type: ignore[arg-type]
        now=NOW,
        bookings=bookings,
    )


def _shared_desk(site: Site) -> str:
    shared = {z.id for z in site.zones if z.agency is None}
    return next(s.id for s in site.spaces if s.type is SpaceType.DESK and s.zone in shared)


def _at(site: Site, day: date, hour: int) -> datetime:
    return local_day_bounds(site, day)[0] + timedelta(hours=hour)


@pytest.fixture
def world(example_site: Site, tmp_path: Path):  # type: ignore[no-untyped-def]
    site = example_site
    store = MarkingStore(SQLiteStore(tmp_path / "occ.db"), {site.id: site.tz})
    backfill(
        site,
        Scenario(seed=3).without_faults(),
        store,
        local_day_bounds(site, FIRST)[0],
        local_day_bounds(site, LAST)[1],
        collect=False,
    )
    url = f"sqlite:///{tmp_path / 'api.db'}"
    sessions = make_sessionmaker(make_engine(url))
    mark_booking_days(sessions, store, {site.id: site.tz})
    return site, store, sessions, RecordsBookings(url)


def _same(site: Site, store: MarkingStore, bookings: list[Booking]) -> pd.DataFrame:
    summ = _period(site, store, "summaries", bookings).presence_pairs()
    raw = _period(site, store, "raw", bookings).presence_pairs()
    pd.testing.assert_frame_equal(summ, raw, check_exact=True)
    return summ


def _use(pairs: pd.DataFrame, agency: str, day: date) -> int:
    rows = pairs[(pairs["agency"] == agency) & (pairs["day"] == pd.Timestamp(day))]
    return int(rows["use_ns"].iloc[0])


def test_booking_write_move_and_cancel_mark_days_and_summaries_follow(world) -> None:  # type: ignore[no-untyped-def]
    site, store, sessions, source = world
    refresh_site(store, site, PARAMS, now=NOW, bookings=source)
    assert site_status(store, site, PARAMS, now=NOW).dirty == []
    before = _same(site, store, [])
    desk, agency, day = _shared_desk(site), site.agencies[-1].id, date(2026, 3, 3)
    booking = Booking(
        id=f"{agency}:desk-1",
        site=site.id,
        space=desk,
        agency=agency,
        start=_at(site, day, 7),
        end=_at(site, day, 17),
    )
    with sessions() as session:
        add_bookings(session, site=site, new=[booking])
    # the booking's day is dirty; until the next cycle it comes from raw points
    assert site_status(store, site, PARAMS, now=NOW).dirty == [day]
    with sessions() as session:
        booked = list_bookings(session, site=site)
    mid = _period(site, store, "summaries", booked)
    assert mid.meta()["stale_days"] == [day.isoformat()]
    assert refresh_site(store, site, PARAMS, now=NOW, bookings=source) == [day]
    after = _same(site, store, booked)
    # the desk's occupied time that day is now the agency's attributed use
    assert _use(after, agency, day) > _use(before, agency, day)
    assert _use(after, agency, FIRST) == _use(before, agency, FIRST)

    # moved to the next day: both days are dirty
    with sessions() as session:
        row = session.get(BookingRecord, booking.id)
        assert row is not None
        row.start, row.end = _at(site, LAST, 7), _at(site, LAST, 17)
        session.commit()
    assert site_status(store, site, PARAMS, now=NOW).dirty == [day, LAST]
    refresh_site(store, site, PARAMS, now=NOW, bookings=source)
    with sessions() as session:
        moved = list_bookings(session, site=site)
    after_move = _same(site, store, moved)
    assert _use(after_move, agency, day) == _use(before, agency, day)

    # cancelled: its day is dirty again and the figures are as without it
    with sessions() as session:
        row = session.get(BookingRecord, booking.id)
        assert row is not None
        row.cancelled_at = NOW
        session.commit()
    assert site_status(store, site, PARAMS, now=NOW).dirty == [LAST]
    refresh_site(store, site, PARAMS, now=NOW, bookings=source)
    pd.testing.assert_frame_equal(_same(site, store, []), before, check_exact=True)


def test_a_rolled_back_booking_marks_nothing(world) -> None:  # type: ignore[no-untyped-def]
    site, store, sessions, source = world
    refresh_site(store, site, PARAMS, now=NOW, bookings=source)
    with sessions() as session:
        add_bookings(
            session,
            site=site,
            new=[
                Booking(
                    id="x:1",
                    site=site.id,
                    space=_shared_desk(site),
                    agency=site.agencies[0].id,
                    start=_at(site, FIRST, 9),
                    end=_at(site, FIRST, 10),
                )
            ],
            commit=False,
        )
        session.flush()
        session.rollback()
    assert site_status(store, site, PARAMS, now=NOW).dirty == []


def test_booking_days_span_local_midnights(example_site: Site) -> None:
    site = example_site
    # 23:00 to 01:00 local touches two days; an end at midnight touches one
    two = booking_days(site.tz, _at(site, FIRST, 23), _at(site, FIRST, 25))
    one = booking_days(site.tz, _at(site, FIRST, 9), _at(site, FIRST, 24))
    first = int(pd.Timestamp(local_day_bounds(site, FIRST)[0]).value)
    second = int(pd.Timestamp(local_day_bounds(site, FIRST + timedelta(days=1))[0]).value)
    assert two == {first, second} and one == {first}


def test_records_source_without_a_database_has_no_bookings(
    example_site: Site, tmp_path: Path
) -> None:
    import pickle

    source = pickle.loads(pickle.dumps(RecordsBookings(f"sqlite:///{tmp_path / 'none.db'}")))
    start, end = local_day_bounds(example_site, FIRST)
    assert source(example_site, start, end) == []
    assert not (tmp_path / "none.db").exists()
