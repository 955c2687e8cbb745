"""Presence logic on hand-worked timelines (times in seconds after T0)."""

from __future__ import annotations

from core.messages import PresenceKind
from edge.presence import PresenceTracker, StateEvent
from tests.edge.conftest import at

CH, HB = PresenceKind.CHANGE, PresenceKind.HEARTBEAT


def ev(t: float, occ: bool, kind: PresenceKind = CH, people: int | None = None) -> StateEvent:
    return StateEvent(at(t), occ, people, kind)


def test_pir_hold_time_keeps_occupied_for_n_minutes_after_last_motion() -> None:
    tr = PresenceTracker(debounce_s=0, hold_s=600, heartbeat_s=300)
    assert tr.observe(at(0), False) == [ev(0, False)]
    assert tr.observe(at(10), True) == [ev(10, True)]
    assert tr.observe(at(15), False) == []  # motion ended, hold runs until 615
    assert tr.tick(at(300)) == []  # 290 s since the last message: no heartbeat yet
    assert tr.tick(at(310)) == [ev(310, True, HB)]
    assert tr.observe(at(400), True) == []
    assert tr.observe(at(405), False) == []  # hold now runs until 1005
    assert tr.tick(at(610)) == [ev(610, True, HB)]
    # a late tick still dates the vacancy at the end of the hold, not at the tick
    assert tr.tick(at(1010)) == [ev(1005, False)]
    assert tr.tick(at(1300)) == []
    assert tr.tick(at(1305)) == [ev(1305, False, HB)]


def test_debounce_ignores_blips_and_dates_changes_when_they_began() -> None:
    tr = PresenceTracker(debounce_s=2, hold_s=0, heartbeat_s=300)
    assert tr.observe(at(0), False) == []  # not yet confirmed
    assert tr.tick(at(2)) == [ev(0, False)]
    assert tr.observe(at(10), True) == []
    assert tr.observe(at(11), False) == []  # 1 s blip < 2 s: ignored
    assert tr.tick(at(14)) == []
    assert tr.observe(at(20), True) == []
    assert tr.tick(at(21)) == []
    assert tr.tick(at(22)) == [ev(20, True)]
    assert tr.observe(at(30), False) == []
    assert tr.tick(at(32)) == [ev(30, False)]


def test_short_absence_within_debounce_does_not_end_occupancy() -> None:
    tr = PresenceTracker(debounce_s=5, hold_s=2, heartbeat_s=300)
    tr.observe(at(0), True)
    assert tr.tick(at(5)) == [ev(0, True)]
    assert tr.observe(at(10), False) == []
    assert tr.observe(at(13), True) == []  # back after 3 s < 5 s debounce
    assert tr.tick(at(20)) == []
    assert tr.occupied is True


def test_vacancy_after_debounce_and_hold() -> None:
    # absence from 10 confirmed at 15; hold 3 s after the last activity -> vacant at 13
    tr = PresenceTracker(debounce_s=5, hold_s=3, heartbeat_s=300)
    tr.observe(at(0), True)
    tr.tick(at(5))
    tr.observe(at(10), False)
    assert tr.tick(at(14)) == []
    assert tr.tick(at(15)) == [ev(13, False)]


def test_people_counts_travel_with_changes() -> None:
    tr = PresenceTracker(debounce_s=0, hold_s=0, heartbeat_s=60)
    assert tr.observe(at(0), None, people=0) == [ev(0, False, people=0)]
    assert tr.observe(at(5), None, people=2) == [ev(5, True, people=2)]
    assert tr.observe(at(6), None, people=3) == [ev(6, True, people=3)]
    assert tr.tick(at(66)) == [ev(66, True, HB, people=3)]
    assert tr.observe(at(70), None, people=0) == [ev(70, False, people=0)]


def test_no_events_before_the_first_reading_and_readings_without_presence() -> None:
    tr = PresenceTracker(debounce_s=0, hold_s=0, heartbeat_s=10)
    assert tr.tick(at(100)) == []
    assert tr.observe(at(101), None) == []  # e.g. a battery-only report
    assert tr.occupied is None
