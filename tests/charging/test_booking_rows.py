"""Row-by-row reading of bookings files (issue 16, item 4): each bad CSV row or
iCalendar event is rejected alone, named by its line or UID, and the problems
of a set are tied to the booking they are about."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from charging.bookings import BookingError, booking_issues, csv_rows, ics_events, rejection_of

HEADER = "booking_id,space_id,agency_id,start,end,title\n"
NOV = (datetime(2026, 10, 31, 22, tzinfo=UTC), datetime(2026, 11, 30, 22, tzinfo=UTC))


def test_csv_rows_keep_the_good_rows_and_name_the_bad_lines(pieni) -> None:
    text = HEADER + (
        "k1,m1,cc,2026-11-04T09:00:00+02:00,2026-11-04T11:00:00+02:00,ok\n"  # line 2
        "\n"  # 3: blank, skipped
        "k2,m1,bb,not-a-time,2026-11-04T12:00:00Z,x\n"  # 4
        "k3,m1,bb\n"  # 5
        ",m1,bb,2026-11-04T11:00:00+02:00,2026-11-04T12:00:00Z,x\n"  # 6
        "k4,s1,aa,2026-11-05T09:00:00+02:00,2026-11-05T10:00:00+02:00,ok\n"  # 7
    )
    good, bad = csv_rows(text, site=pieni, name="b.csv")
    assert [(b.id, b.source) for b in good] == [("k1", "csv:b.csv:2"), ("k4", "csv:b.csv:7")]
    assert [(r.row, r.id) for r in bad] == [(4, "k2"), (5, None), (6, None)]
    assert bad[0].reason == "b.csv:4: booking 'k2': start 'not-a-time' is not an ISO 8601 time"
    with pytest.raises(BookingError, match="missing column"):
        csv_rows("booking_id,space_id\n", site=pieni)


def test_issues_name_the_later_of_two_clashing_rows(pieni) -> None:
    text = HEADER + (
        "k1,m1,cc,2026-11-04T09:00:00+02:00,2026-11-04T11:00:00+02:00,\n"
        "k2,m1,bb,2026-11-04T10:00:00+02:00,2026-11-04T12:00:00+02:00,\n"
        "k1,s1,aa,2026-11-06T10:00:00+02:00,2026-11-06T12:00:00+02:00,\n"
        "k5,nosuch,aa,2026-11-06T10:00:00+02:00,2026-11-06T12:00:00+02:00,\n"
    )
    good, _ = csv_rows(text, site=pieni, name="b.csv")
    got = [rejection_of(i) for i in booking_issues(good, site=pieni)]
    assert sorted((r.row, r.id) for r in got) == [(3, "k2"), (4, "k1"), (5, "k5")]
    clash = next(i for i in booking_issues(good, site=pieni) if i.booking.id == "k2")
    assert clash.other is not None and clash.other.source == "csv:b.csv:2"


def test_ics_events_leave_out_a_bad_event_and_keep_the_others(pieni) -> None:
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
        "BEGIN:VEVENT\r\nUID:good\r\nDTSTAMP:20261001T000000Z\r\n"
        "DTSTART:20261104T070000Z\r\nDTEND:20261104T080000Z\r\n"
        "LOCATION:m1\r\nCATEGORIES:aa\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:floating\r\nDTSTAMP:20261001T000000Z\r\n"
        "DTSTART:20261104T090000\r\nDTEND:20261104T100000\r\n"
        "LOCATION:m1\r\nCATEGORIES:aa\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:nobody\r\nDTSTAMP:20261001T000000Z\r\n"
        "DTSTART:20261105T070000Z\r\nDTEND:20261105T080000Z\r\n"
        "LOCATION:m1\r\nCATEGORIES:zz\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )
    good, bad = ics_events(ics, site=pieni, start=NOV[0], end=NOV[1], name="f.ics")
    assert [b.id for b in good] == ["good"]
    assert sorted({r.event for r in bad}) == ["floating", "nobody"]
    assert all(r.reason.startswith("f.ics: event ") for r in bad)
    with pytest.raises(BookingError, match="not an iCalendar file"):
        ics_events("nope", site=pieni, start=NOV[0], end=NOV[1])
