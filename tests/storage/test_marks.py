"""The local days a write marks, where a zone's clocks jump at midnight."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pandas as pd

from storage.marks import touched_days


def ns(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").value)


def utc(ns_values: set[int]) -> list[datetime]:
    return sorted(pd.Timestamp(v, tz="UTC").to_pydatetime() for v in ns_values)


def test_a_midnight_that_happens_twice_marks_its_day_once() -> None:
    # Havana, 1 November 2026: 01:00 CDT becomes 00:00 CST, so 00:30 happens
    # at 04:30 UTC and again at 05:30 UTC; both are 1 November, whose midnight
    # is the first one (04:00 UTC); 03:59 UTC is still 31 October (23:59 CDT).
    zones = {"s": ZoneInfo("America/Havana")}
    got = touched_days(zones, "s", [ns("2026-11-01 04:30"), ns("2026-11-01 05:30"),
                                    ns("2026-11-01 03:59")])  # fmt: skip
    assert utc(got) == [datetime(2026, 10, 31, 4, tzinfo=UTC), datetime(2026, 11, 1, 4, tzinfo=UTC)]


def test_a_day_without_its_midnight_is_marked_from_where_it_starts() -> None:
    # Santiago, 6 September 2026: 00:00 -04 becomes 01:00 -03 at 04:00 UTC
    zones = {"s": ZoneInfo("America/Santiago")}
    got = touched_days(zones, "s", [ns("2026-09-06 04:30"), ns("2026-09-06 03:59")])
    assert utc(got) == [datetime(2026, 9, 5, 4, tzinfo=UTC), datetime(2026, 9, 6, 4, tzinfo=UTC)]
