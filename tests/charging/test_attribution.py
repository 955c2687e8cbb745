from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from charging.attribution import attribute, clip_to_opening_hours, find_no_shows
from charging.bookings import Booking
from tests.charging.spells import local, spells

DAY = "2026-11-04"  # a Wednesday
START, END = local(DAY, "00:00"), local("2026-11-05", "00:00")


def booking(bid: str, space: str, agency: str, a: str, b: str, day: str = DAY) -> Booking:
    return Booking(
        id=bid, site="pieni", space=space, agency=agency, start=local(day, a), end=local(day, b)
    )


def hours_by(df: pd.DataFrame) -> dict[tuple[str, str, str | None], float]:
    out: dict[tuple[str, str, str | None], float] = {}
    seconds = (df["end"] - df["start"]).dt.total_seconds()
    for space, basis, agency, s in zip(
        df["space"], df["basis"], df["agency"], seconds, strict=True
    ):
        key = (str(space), str(basis), None if agency is None else str(agency))
        out[key] = out.get(key, 0.0) + float(s) / 3600
    return out


def test_split_exactly_at_booking_edges(pieni) -> None:
    # m1 occupied 08:50-12:10; bookings aa 09:00-10:00 and bb 10:00-11:30.
    ivs = spells(
        spaces=["m1"],
        start=START,
        end=END,
        marked=[("m1", local(DAY, "08:50"), local(DAY, "12:10"), "occupied")],
    )
    got = attribute(
        intervals=ivs,
        bookings=[
            booking("k1", "m1", "aa", "09:00", "10:00"),
            booking("k2", "m1", "bb", "10:00", "11:30"),
        ],
        site=pieni,
    )
    rows = [(r.start, r.end, r.agency, r.basis, r.booking_id) for r in got.itertuples()]
    assert rows == [
        (local(DAY, "08:50"), local(DAY, "09:00"), None, "pool", None),
        (local(DAY, "09:00"), local(DAY, "10:00"), "aa", "booking", "k1"),
        (local(DAY, "10:00"), local(DAY, "11:30"), "bb", "booking", "k2"),
        (local(DAY, "11:30"), local(DAY, "12:10"), None, "pool", None),
    ]
    assert str(got["start"].dtype) == "datetime64[ns, UTC]"
    assert list(got["space_type"].unique()) == ["meeting_room"]


def test_dedicated_zone_wins_over_a_booking(pieni) -> None:
    ivs = spells(
        spaces=["a1", "s1"],
        start=START,
        end=END,
        marked=[
            ("a1", local(DAY, "09:00"), local(DAY, "11:00"), "occupied"),
            ("s1", local(DAY, "09:00"), local(DAY, "11:00"), "occupied"),
        ],
    )
    got = attribute(
        intervals=ivs,
        bookings=[
            booking("k1", "a1", "bb", "09:00", "10:00"),
            booking("k2", "s1", "cc", "10:15", "10:45"),
        ],
        site=pieni,
    )
    assert hours_by(got) == {
        ("a1", "dedicated", "aa"): 2.0,
        ("s1", "pool", None): 1.5,
        ("s1", "booking", "cc"): 0.5,
    }


def test_free_and_unknown_time_is_not_attributed(pieni) -> None:
    ivs = spells(
        spaces=["m1"],
        start=START,
        end=END,
        marked=[("m1", local(DAY, "09:00"), local(DAY, "10:00"), "unknown")],
    )
    got = attribute(
        intervals=ivs, bookings=[booking("k1", "m1", "aa", "09:00", "10:00")], site=pieni
    )
    assert got.empty
    assert list(got.columns) == [
        "space",
        "space_type",
        "start",
        "end",
        "agency",
        "basis",
        "booking_id",
    ]


def test_clip_to_opening_hours(pieni) -> None:
    # Occupied 07:00-09:00 and 15:30-17:00 on a Wednesday open 08-16: 1 h + 0.5 h count.
    # Saturday 7.11 is closed.
    ivs = spells(
        spaces=["s1"],
        start=START,
        end=local("2026-11-08", "00:00"),
        marked=[
            ("s1", local(DAY, "07:00"), local(DAY, "09:00"), "occupied"),
            ("s1", local(DAY, "15:30"), local(DAY, "17:00"), "occupied"),
            ("s1", local("2026-11-07", "10:00"), local("2026-11-07", "12:00"), "occupied"),
        ],
    )
    got = clip_to_opening_hours(
        intervals=ivs, site=pieni, start=START, end=local("2026-11-08", "00:00")
    )
    occ = got[got["state"] == "occupied"]
    assert [(r.start, r.end) for r in occ.itertuples()] == [
        (local(DAY, "08:00"), local(DAY, "09:00")),
        (local(DAY, "15:30"), local(DAY, "16:00")),
    ]
    # Wed, Thu, Fri open 8 h each
    total = (got["end"] - got["start"]).dt.total_seconds().sum()
    assert total == 3 * 8 * 3600


def test_no_show_statuses_and_window(pieni) -> None:
    ivs = spells(
        spaces=["m1", "s1"],
        start=START,
        end=END,
        marked=[
            # k1 09:00: someone arrives 09:10 -> shown
            ("m1", local(DAY, "09:10"), local(DAY, "09:50"), "occupied"),
            # k2 10:00: nobody until 10:20 -> no-show with a 15 min window,
            # shown with a 30 min window
            ("m1", local(DAY, "10:20"), local(DAY, "10:40"), "occupied"),
            # k3 13:00 on s1: the sensor is silent 13:05-13:30 -> unverified
            ("s1", local(DAY, "13:05"), local(DAY, "13:30"), "unknown"),
        ],
    )
    books = [
        booking("k1", "m1", "aa", "09:00", "10:00"),
        booking("k2", "m1", "bb", "10:00", "11:00"),
        booking("k3", "s1", "cc", "13:00", "14:00"),
        booking("k4", "m1", "cc", "14:00", "14:10"),  # shorter than the window: free all along
    ]
    got = find_no_shows(intervals=ivs, bookings=books, site=pieni, window_minutes=15)
    assert dict(zip(got["booking_id"], got["status"], strict=True)) == {
        "k1": "shown",
        "k2": "no_show",
        "k3": "unverified",
        "k4": "no_show",
    }
    assert got.loc[got["booking_id"] == "k4", "window_end"].iloc[0] == local(DAY, "14:10")
    wide = find_no_shows(intervals=ivs, bookings=books, site=pieni, window_minutes=30)
    assert dict(zip(wide["booking_id"], wide["status"], strict=True))["k2"] == "shown"


def test_bad_intervals_are_refused(pieni) -> None:
    t = datetime(2026, 11, 4, 8, tzinfo=UTC)
    overlapping = pd.DataFrame(
        {
            "space": ["m1", "m1"],
            "start": pd.to_datetime([t, t], utc=True),
            "end": pd.to_datetime([t.replace(hour=10), t.replace(hour=9)], utc=True),
            "state": ["occupied", "free"],
        }
    )
    with pytest.raises(ValueError, match="intervals of space 'm1' overlap"):
        attribute(intervals=overlapping, bookings=[], site=pieni)
    stranger = overlapping.iloc[:1].assign(space="nope")
    with pytest.raises(ValueError, match="spaces not in site 'pieni': nope"):
        attribute(intervals=stranger, bookings=[], site=pieni)
