"""The bookings as iCalendar and CSV, read back with independent parsers."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import recurring_ical_events
from icalendar import Calendar

from core.registry import Site
from simulators.layout import build_layout, to_ms
from simulators.scenario import Scenario
from simulators.truth import CSV_COLUMNS, bookings_csv, bookings_ics, collect_truth

# two weeks around Ascension Day (Thursday 14 May 2026, a public holiday)
START = datetime(2026, 5, 10, 21, tzinfo=UTC)
END = datetime(2026, 5, 24, 21, tzinfo=UTC)


def test_csv_columns_and_rows(example_site: Site) -> None:
    truth = collect_truth(build_layout(example_site, Scenario(seed=2)), START, END)
    rows = list(csv.DictReader(io.StringIO(bookings_csv(truth))))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    assert len(rows) == len(truth.bookings)
    for row, b in zip(rows, truth.bookings, strict=True):
        start = datetime.fromisoformat(row["start"])
        assert (
            start.utcoffset() is not None and start.utcoffset().total_seconds() == 3 * 3600
        )  # EEST
        assert to_ms(start) == b.start_ms and to_ms(datetime.fromisoformat(row["end"])) == b.end_ms
        assert row["space_id"] == b.space_id and row["agency_id"] == b.agency_id


def test_ics_expands_to_the_same_bookings(example_site: Site) -> None:
    truth = collect_truth(build_layout(example_site, Scenario(seed=2)), START, END)
    cal = Calendar.from_ical(bookings_ics(truth, example_site))
    single = [c for c in cal.walk("VEVENT") if "RRULE" not in c]
    recurring = [c for c in cal.walk("VEVENT") if "RRULE" in c]
    assert len(recurring) == len(truth.series) > 0
    for ev in single:
        assert ev.decoded("dtstart").tzinfo is not None
        assert ev.decoded("dtstart").utcoffset().total_seconds() == 0  # UTC
        assert str(ev.get("location")) in {s.id for s in example_site.spaces}
    events = recurring_ical_events.of(cal).between(START, END)
    got = sorted(
        (
            str(e.get("location")),
            e.decoded("dtstart").astimezone(UTC),
            str(e.get("categories").cats[0]),
        )
        for e in events
    )
    want = sorted(
        (b.space_id, datetime.fromtimestamp(b.start_ms / 1000, UTC), b.agency_id)
        for b in truth.bookings
    )
    assert got == want
    # no recurring meeting on Ascension Day: EXDATE
    assert not any(
        e.decoded("dtstart").date() == date(2026, 5, 14) and "RRULE" in e for e in events
    )
