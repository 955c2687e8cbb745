"""The people model on the example site: calibration, calendar, desks, rooms, visitors."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.registry import Site, SpaceType
from simulators.layout import build_layout
from simulators.people import DayPeople, recurring_series, simulate_day
from simulators.persons import Person, Staff
from simulators.scenario import People, Scenario


@pytest.fixture(scope="module")
def weeks(example_site: Site) -> list[DayPeople]:
    """Eight weeks from Monday 2 February 2026 (no public holidays in it)."""
    layout = build_layout(example_site, Scenario(seed=11))
    series = recurring_series(layout)
    first = date(2026, 2, 2)
    return [simulate_day(layout, first + timedelta(days=i), series) for i in range(56)]


def _staff(site: Site) -> int:
    return sum(a.persons or round(a.headcount_htv) for a in site.agencies)


def _peak(spells_start: np.ndarray, spells_end: np.ndarray) -> int:
    times = np.concatenate([spells_start, spells_end])
    delta = np.concatenate([np.ones(len(spells_start)), -np.ones(len(spells_end))])
    order = np.lexsort((delta, times))  # ends before starts at the same instant
    return int(np.cumsum(delta[order]).max())


def test_about_a_third_present_and_hybrid_weekdays(
    example_site: Site, weeks: list[DayPeople]
) -> None:
    staff = _staff(example_site)
    layout = build_layout(example_site, Scenario(seed=11))
    desks = layout.desks()
    share: dict[int, list[float]] = {}
    use_rate: list[float] = []
    for dp in weeks:
        if dp.day.weekday() >= 5:
            assert dp.present == {} and len(dp.spells) == 0
            continue
        share.setdefault(dp.day.weekday(), []).append(sum(dp.present.values()) / staff)
        on_desk = np.isin(dp.spells.space, desks)
        use_rate.append(_peak(dp.spells.start[on_desk], dp.spells.end[on_desk]) / staff)
    mean = {w: float(np.mean(v)) for w, v in share.items()}
    # ministries' measured use rate averaged 32 % (docs/simulator.md)
    assert 0.29 <= float(np.mean(use_rate)) <= 0.35
    assert 0.31 <= float(np.mean(list(mean.values()))) <= 0.40
    assert min(mean[1], mean[2], mean[3]) > max(mean[0], mean[4])
    assert mean[4] < mean[0]  # Friday the quietest


def test_holidays_and_closures_are_empty(example_site: Site) -> None:
    layout = build_layout(example_site, Scenario(seed=2))
    # Loppiainen (6 Jan), Good Friday 2026 (3 Apr), and the site's closure days
    for day in (date(2026, 1, 6), date(2026, 4, 3), date(2026, 12, 24), date(2026, 12, 31)):
        dp = simulate_day(layout, day)
        assert len(dp.spells) == 0 and dp.bookings == [] and dp.present == {}
    assert len(simulate_day(layout, date(2026, 1, 7)).spells) > 0


def test_dedicated_zones_first(example_site: Site, weeks: list[DayPeople]) -> None:
    zone_agency = {z.id: z.agency for z in example_site.zones}
    layout = build_layout(example_site, Scenario(seed=11))
    for dp in weeks:
        for desk, users in dp.desk_users.items():
            owner = zone_agency[layout.zone_ids[desk]]
            if owner is not None:
                assert set(users) == {owner}, (dp.day, layout.space_ids[desk], users)


def test_nobody_uses_shared_desks_while_own_desks_are_plenty(example_site: Site) -> None:
    # a quiet scenario: at most 10 % come in, far fewer than each agency's own desks
    quiet = Scenario(
        seed=5, people=People(agency_factor={a.id: 0.2 for a in example_site.agencies})
    )
    layout = build_layout(example_site, quiet)
    zone_agency = {z.id: z.agency for z in example_site.zones}
    dedicated_to = {
        a.id for a in example_site.agencies if any(z.agency == a.id for z in example_site.zones)
    }
    for i in range(5):
        dp = simulate_day(layout, date(2026, 3, 2) + timedelta(days=i))
        for desk, users in dp.desk_users.items():
            if zone_agency[layout.zone_ids[desk]] is None:
                assert not set(users) & dedicated_to


def test_bookings_fit_rooms_and_no_shows_leave_rooms_empty(
    example_site: Site, weeks: list[DayPeople]
) -> None:
    layout = build_layout(example_site, Scenario(seed=11))
    n_bookings = n_no_show = n_walk_in = 0
    for dp in weeks:
        by_room: dict[int, list[tuple[int, int]]] = {}
        for s, a, b in zip(
            dp.spells.space.tolist(), dp.spells.start.tolist(), dp.spells.end.tolist(), strict=True
        ):
            by_room.setdefault(s, []).append((a, b))
        for bk in dp.bookings:
            n_bookings += 1
            room = layout.index[bk.space_id]
            assert layout.space_types[room] in (
                SpaceType.MEETING_ROOM,
                SpaceType.PROJECT_ROOM,
                SpaceType.FOCUS_ROOM,
                SpaceType.PHONE_BOOTH,
            )
            assert 1 <= bk.attendees <= layout.capacity[room]
            overlapping = [
                (a, b) for a, b in by_room.get(room, []) if a < bk.end_ms and b > bk.start_ms
            ]
            if bk.no_show:
                n_no_show += 1
                assert overlapping == []
            else:
                assert overlapping, bk
        booked = {(layout.index[b.space_id], b.start_ms, b.end_ms) for b in dp.bookings}
        for room, spans in by_room.items():
            if layout.space_types[room] is SpaceType.PHONE_BOOTH:
                n_walk_in += len(spans)  # phone booths are never booked: all walk-ins
            for a, b in spans:
                if layout.space_types[room] in (SpaceType.MEETING_ROOM,) and not any(
                    r == room and s < b and e > a for r, s, e in booked
                ):
                    n_walk_in += 1
    assert n_bookings > 500
    assert 0.06 < n_no_show / n_bookings < 0.2  # default no-show rate 12 %
    assert n_walk_in > 100


def test_recurring_series_meet_weekly(example_site: Site, weeks: list[DayPeople]) -> None:
    layout = build_layout(example_site, Scenario(seed=11))
    series = recurring_series(layout)
    assert len(series) == len(example_site.agencies)
    for s in series:
        days = [dp.day for dp in weeks for b in dp.bookings if b.series_id == s.series_id]
        assert len(days) == 8 and all(d.weekday() == s.weekday for d in days)


def test_visitors_counted_at_the_service_point(example_site: Site, weeks: list[DayPeople]) -> None:
    layout = build_layout(example_site, Scenario(seed=11))
    counters = [i for i, t in enumerate(layout.space_types) if t is SpaceType.SERVICE_POINT]
    lounge = next(i for i, t in enumerate(layout.space_types) if t is SpaceType.LOUNGE)
    dp = weeks[1]  # a Tuesday
    assert dp.visitors > 50
    at_counter = np.isin(dp.spells.space, counters)
    # clerk + a party of one or two
    assert set(dp.spells.count[at_counter].tolist()) <= {2, 3}
    waiting = dp.spells.count[dp.spells.space == lounge]
    assert len(waiting) > 0 and waiting.min() >= 1


# ``Staff.free_during`` (flat arrays, asked for every booking) agrees with the
# plain per-person rule ``Person.free_during`` it replaces.
span = st.tuples(st.integers(0, 100), st.integers(1, 40)).map(lambda t: (t[0], t[0] + t[1]))


@given(
    people=st.lists(st.tuples(span, st.lists(span, max_size=3)), max_size=8),
    asks=st.lists(st.tuples(span, st.integers(0, 7), span), max_size=10),
)
def test_staff_agrees_with_the_per_person_rule(
    people: list[tuple[tuple[int, int], list[tuple[int, int]]]],
    asks: list[tuple[tuple[int, int], int, tuple[int, int]]],
) -> None:
    persons = []
    for (arrive, leave), absences in people:
        p = Person("a", arrive, leave)
        p.absences.extend(absences)
        persons.append(p)
    staff = Staff(persons)
    for (a, b), k, absence in asks:
        want = [i for i, p in enumerate(persons) if p.free_during(a, b)]
        assert staff.free_during(a, b).tolist() == want
        if persons:  # then book one of them, as a meeting does
            staff.add_absence(k % len(persons), *absence)
