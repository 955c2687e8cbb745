from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from charging.bookings import (
    BookingError,
    bookings_to_csv,
    parse_bookings_csv,
    parse_bookings_ics,
    read_bookings,
)

HEADER = "booking_id,space_id,agency_id,start,end,title\n"
NOV = (datetime(2026, 10, 31, 22, tzinfo=UTC), datetime(2026, 11, 30, 22, tzinfo=UTC))


def test_csv_import(pieni) -> None:
    text = HEADER + (
        "k1,m1,cc,2026-11-04T09:00:00+02:00,2026-11-04T11:00:00+02:00,Tiimipalaveri\n"
        "k2,m1,bb,2026-11-04T11:00:00+02:00,2026-11-04T12:00:00Z,Asiakas ä/ö\n"
    )
    got = parse_bookings_csv(text, site=pieni, name="b.csv")
    assert [(b.id, b.space, b.agency) for b in got] == [("k1", "m1", "cc"), ("k2", "m1", "bb")]
    assert got[0].start == datetime(2026, 11, 4, 7, tzinfo=UTC)
    assert got[1].end == datetime(2026, 11, 4, 12, tzinfo=UTC)
    assert got[1].title == "Asiakas ä/ö"
    assert got[1].source == "csv:b.csv:3"
    # the writer is the reader's inverse
    again = parse_bookings_csv(bookings_to_csv(got), site=pieni, name="b.csv")
    assert [b.model_dump(exclude={"source"}) for b in again] == [
        b.model_dump(exclude={"source"}) for b in got
    ]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ("k1,m1,cc,2026-11-04T09:00:00+02:00,2026-11-04T11:00:00+02:00,a\n"
         "k2,m1,bb,2026-11-04T10:30:00+02:00,2026-11-04T12:00:00+02:00,b\n",
         "booking 'k2' (csv:b.csv:3): overlaps booking 'k1' (csv:b.csv:2) in space 'm1'"),
        ("k1,zz9,cc,2026-11-04T09:00:00+02:00,2026-11-04T11:00:00+02:00,a\n",
         "booking 'k1' (csv:b.csv:2): unknown space 'zz9'"),
        ("k1,m1,vero,2026-11-04T09:00:00+02:00,2026-11-04T11:00:00+02:00,a\n",
         "booking 'k1' (csv:b.csv:2): unknown agency 'vero'"),
        ("k1,m1,cc,2026-11-04T11:00:00+02:00,2026-11-04T09:00:00+02:00,a\n",
         "booking 'k1' (csv:b.csv:2): ends (2026-11-04T09:00:00+02:00) before it starts"),
        ("k1,m1,cc,2026-11-04T09:00:00,2026-11-04T11:00:00+02:00,a\n",
         "b.csv:2: booking 'k1': start '2026-11-04T09:00:00' has no UTC offset"),
        ("k1,m1,cc,4.11.2026 9:00,2026-11-04T11:00:00+02:00,a\n",
         "b.csv:2: booking 'k1': start '4.11.2026 9:00' is not an ISO 8601 time"),
        ("k1,m1,cc,2026-11-04T09:00:00+02:00,2026-11-04T10:00:00+02:00,a\n"
         "k1,s1,cc,2026-11-04T09:00:00+02:00,2026-11-04T10:00:00+02:00,a\n",
         "booking 'k1' (csv:b.csv:3): booking id 'k1' is also used by booking 'k1' (csv:b.csv:2)"),
        ("k1,m1,cc,2026-11-04T09:00:00+02:00\n", "b.csv:2: 4 fields, the header has 6"),
    ],
)  # fmt: skip
def test_csv_errors_name_the_row(pieni, rows: str, expected: str) -> None:
    with pytest.raises(BookingError) as info:
        parse_bookings_csv(HEADER + rows, site=pieni, name="b.csv")
    assert expected in str(info.value)


def test_csv_reports_every_problem_at_once(pieni) -> None:
    rows = (
        "k1,zz9,cc,2026-11-04T09:00:00+02:00,2026-11-04T11:00:00+02:00,a\n"
        "k2,m1,xx,2026-11-04T09:00:00+02:00,2026-11-04T11:00:00+02:00,a\n"
    )
    with pytest.raises(BookingError) as info:
        parse_bookings_csv(HEADER + rows, site=pieni, name="b.csv")
    assert len(info.value.problems) == 2


def test_csv_bad_header(pieni) -> None:
    with pytest.raises(BookingError, match=r"b.csv:1: missing column\(s\) agency_id"):
        parse_bookings_csv("booking_id,space_id,start,end,title\n", site=pieni, name="b.csv")


ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//charging//EN
BEGIN:VTIMEZONE
TZID:Europe/Helsinki
BEGIN:STANDARD
DTSTART:19701025T040000
TZOFFSETFROM:+0300
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700329T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0300
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
UID:weekly-1@test
DTSTAMP:20261001T000000Z
DTSTART;TZID=Europe/Helsinki:20261005T090000
DTEND;TZID=Europe/Helsinki:20261005T100000
RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=10
EXDATE;TZID=Europe/Helsinki:20261116T090000
SUMMARY:Viikkopalaveri
LOCATION:m1
CATEGORIES:cc
END:VEVENT
BEGIN:VEVENT
UID:once-1@test
DTSTAMP:20261001T000000Z
DTSTART:20261104T120000Z
DTEND:20261104T130000Z
SUMMARY:Kertaluonteinen
LOCATION:m1
CATEGORIES:bb
END:VEVENT
END:VCALENDAR
"""


def test_ics_recurrence_is_expanded(pieni) -> None:
    got = parse_bookings_ics(ICS, site=pieni, start=NOV[0], end=NOV[1], name="f.ics")
    weekly = [b for b in got if b.id.startswith("weekly-1@test/")]
    # Mondays from 5.10 (count 10): 5.10 ... 7.12; November holds 2, 9, 23, 30
    # (16.11 is excluded). 9:00 Helsinki in November (EET) is 07:00 UTC; the
    # October occurrences were EEST, but those are outside the period.
    assert [b.start for b in weekly] == [
        datetime(2026, 11, d, 7, tzinfo=UTC) for d in (2, 9, 23, 30)
    ]
    assert next(b.id for b in weekly) == "weekly-1@test/20261102T070000Z"
    assert all(b.agency == "cc" and b.space == "m1" for b in weekly)
    assert all((b.end - b.start).total_seconds() == 3600 for b in weekly)
    once = [b for b in got if b.id == "once-1@test"]
    assert len(once) == 1 and once[0].agency == "bb"
    assert once[0].source == "ics:f.ics:once-1@test"


def test_ics_recurrence_across_dst_keeps_local_time(pieni) -> None:
    got = parse_bookings_ics(
        ICS,
        site=pieni,
        start=datetime(2026, 10, 1, tzinfo=UTC),
        end=datetime(2026, 11, 1, tzinfo=UTC),
    )
    weekly = [b.start for b in got if b.id.startswith("weekly-1@test/")]
    # 5, 12, 19 October are EEST (09:00 = 06:00 UTC); 26 October is EET (07:00 UTC)
    assert weekly == [
        datetime(2026, 10, 5, 6, tzinfo=UTC),
        datetime(2026, 10, 12, 6, tzinfo=UTC),
        datetime(2026, 10, 19, 6, tzinfo=UTC),
        datetime(2026, 10, 26, 7, tzinfo=UTC),
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("LOCATION:m1\nCATEGORIES:bb", "LOCATION:zz9\nCATEGORIES:bb",
         "booking 'once-1@test' (ics:f.ics:once-1@test): unknown space 'zz9'"),
        ("LOCATION:m1\nCATEGORIES:bb", "LOCATION:m1\nCATEGORIES:Asiakastapaaminen",
         "f.ics: event once-1@test: CATEGORIES ['Asiakastapaaminen'] must name exactly one agency"),
        ("DTSTART:20261104T120000Z", "DTSTART:20261104T120000",
         "f.ics: event once-1@test: DTSTART 2026-11-04T12:00:00 is a floating time"),
        ("DTSTART:20261104T120000Z\nDTEND:20261104T130000Z",
         "DTSTART;VALUE=DATE:20261104\nDTEND;VALUE=DATE:20261105",
         "f.ics: event once-1@test: DTSTART is a date (all-day event)"),
        ("DTSTART:20261104T120000Z\nDTEND:20261104T130000Z",
         "DTSTART:20261102T070000Z\nDTEND:20261102T073000Z",
         "booking 'weekly-1@test/20261102T070000Z' (ics:f.ics:weekly-1@test): overlaps "
         "booking 'once-1@test'"),
    ],
)  # fmt: skip
def test_ics_errors_name_the_event(pieni, old: str, new: str, expected: str) -> None:
    assert old in ICS
    with pytest.raises(BookingError) as info:
        parse_bookings_ics(
            ICS.replace(old, new), site=pieni, start=NOV[0], end=NOV[1], name="f.ics"
        )
    assert expected in str(info.value)


def test_files_are_validated_together(pieni, tmp_path: Path) -> None:
    (tmp_path / "feed.ics").write_text(ICS)
    (tmp_path / "extra.csv").write_text(
        HEADER + "x1,m1,aa,2026-11-09T09:30:00+02:00,2026-11-09T10:30:00+02:00,clash\n"
        "x2,m1,aa,2026-12-09T09:30:00+02:00,2026-12-09T10:30:00+02:00,next month\n"
    )
    with pytest.raises(BookingError, match=r"booking 'x1' .* overlaps booking 'weekly-1@test/"):
        read_bookings(
            [tmp_path / "feed.ics", tmp_path / "extra.csv"], site=pieni, start=NOV[0], end=NOV[1]
        )
    (tmp_path / "extra.csv").write_text(
        HEADER + "x2,m1,aa,2026-12-09T09:30:00+02:00,2026-12-09T10:30:00+02:00,next month\n"
    )
    got = read_bookings(
        [tmp_path / "feed.ics", tmp_path / "extra.csv"], site=pieni, start=NOV[0], end=NOV[1]
    )
    assert sorted(b.id for b in got) == sorted(
        ["once-1@test"] + [f"weekly-1@test/202611{d:02d}T070000Z" for d in (2, 9, 23, 30)]
    )
    with pytest.raises(BookingError, match="unknown bookings format"):
        read_bookings([tmp_path / "b.txt"], site=pieni, start=NOV[0], end=NOV[1])
