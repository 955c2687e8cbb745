"""People: who comes in, when, where they sit, which rooms they book and use.

One local day at a time, each from its own random stream (seed, day), so any
day can be generated alone - the live mode and the backfill produce the same
day for the same seed. The output is the physical truth: when each space
really had someone in it (``Spells``) and the bookings made for it. The parts
of a day live beside this module: ``persons`` (arrivals, breaks, desks),
``rooms`` (bookings, meetings, walk-ins), ``visitors`` (the service point);
``day`` holds the types.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from core.calendar import is_closed
from core.registry import Site
from simulators.day import (
    MIN_SPELL_MS,
    WEEKDAY_CODES,
    Booking,
    DayPeople,
    Series,
    Spells,
    normalise,
)
from simulators.layout import STREAM_PEOPLE, STREAM_VISITORS, Layout, local_ms, rng_for, to_ms
from simulators.persons import Person, assign_desks, desk_bookings, persons_of_day
from simulators.rooms import BOOKING_TITLES, recurring_series, room_day
from simulators.visitors import visitors_of_day

__all__ = [
    "BOOKING_TITLES",
    "MIN_SPELL_MS",
    "WEEKDAY_CODES",
    "Booking",
    "DayPeople",
    "Series",
    "Spells",
    "normalise",
    "open_window",
    "recurring_series",
    "simulate_day",
]


def open_window(site: Site, day: date) -> tuple[int, int] | None:
    """UTC ms of the first opening and the last closing of a local day, or None."""
    if is_closed(site, day):
        return None
    ranges = site.opening_hours.ranges(day.weekday())
    first, last = ranges[0][0], ranges[-1][1]
    end = (
        to_ms(datetime.combine(day + timedelta(days=1), time(0), tzinfo=site.tz))
        if last == time.max
        else local_ms(site, day, last)
    )
    return local_ms(site, day, first), end


def simulate_day(layout: Layout, day: date, series: list[Series] | None = None) -> DayPeople:
    """The physical truth of one local day."""
    sc = layout.scenario
    site = layout.site
    if sc.occupancy == "script":
        return _scripted_day(layout, day)
    window = open_window(site, day)
    if window is None:
        return DayPeople(day, Spells.empty())
    rng = rng_for(sc.seed, STREAM_PEOPLE, day.toordinal())
    persons = persons_of_day(layout, day, window, rng)
    overflow = assign_desks(layout, persons, rng)
    bookings, room_spells = room_day(
        layout, day, window, persons, recurring_series(layout) if series is None else series, rng
    )
    if sc.people.shared_desk_booking > 0:
        bookings = sorted(
            bookings + desk_bookings(layout, day, persons),
            key=lambda bk: (bk.start_ms, bk.space_id),
        )
    visitor_spells, n_visitors, visits = visitors_of_day(
        layout, day, window, rng_for(sc.seed, STREAM_VISITORS, day.toordinal())
    )
    sp, st, en, ct, sittings = _desk_spells(persons, layout.counting.tolist())
    for room, a, b, c in room_spells + visitor_spells:
        sp.append(room)
        st.append(a)
        en.append(b)
        ct.append(c)
    present: dict[str, int] = {}
    desk_users: dict[int, list[str]] = {}
    for p in sorted(persons, key=lambda p: p.arrive):
        present[p.agency] = present.get(p.agency, 0) + 1
        if p.desk >= 0:
            desk_users.setdefault(p.desk, []).append(p.agency)
    return DayPeople(
        day,
        normalise(sp, st, en, ct),
        bookings,
        present,
        overflow,
        n_visitors,
        visits,
        desk_users,
        sittings,
    )


def _desk_spells(
    persons: list[Person], counting: list[bool]
) -> tuple[list[int], list[int], list[int], list[int], list[tuple[int, int, int, str]]]:
    """Each seated person's time at the desk, broken by their absences, as
    spell columns (space, start, end, count) and as sittings (with the agency).
    ``counting`` is a list, a lookup per spell rather than a numpy scalar."""
    sp: list[int] = []
    st: list[int] = []
    en: list[int] = []
    ct: list[int] = []
    sittings: list[tuple[int, int, int, str]] = []
    for p in persons:
        if p.desk < 0:
            continue
        t = p.arrive
        c = 1 if counting[p.desk] else -1
        for a, b in sorted(p.absences):
            a, b = max(a, p.arrive), min(b, p.leave)
            if a > t:
                sp.append(p.desk)
                st.append(t)
                en.append(a)
                ct.append(c)
                sittings.append((p.desk, t, a, p.agency))
            t = max(t, b)
        if p.leave > t:
            sp.append(p.desk)
            st.append(t)
            en.append(p.leave)
            ct.append(c)
            sittings.append((p.desk, t, p.leave, p.agency))
    return sp, st, en, ct, sittings


def _scripted_day(layout: Layout, day: date) -> DayPeople:
    site = layout.site
    lo = local_ms(site, day, time(0))
    hi = to_ms(datetime.combine(day + timedelta(days=1), time(0), tzinfo=site.tz))
    sp, st, en, ct = [], [], [], []
    for s in layout.scenario.script:
        a, b = max(to_ms(s.start), lo), min(to_ms(s.end), hi)
        if a < b and s.space in layout.index:
            i = layout.index[s.space]
            sp.append(i)
            st.append(a)
            en.append(b)
            ct.append(s.count if s.count is not None else (1 if layout.counting[i] else -1))
    bookings = []
    for k, bk in enumerate(layout.scenario.script_bookings):
        a_ms = to_ms(bk.start)
        if lo <= a_ms < hi:
            has_spell = any(
                s.space == bk.space and s.start < bk.end and s.end > bk.start
                for s in layout.scenario.script
            )
            bookings.append(
                Booking(
                    f"script-{k + 1}",
                    bk.space,
                    bk.agency,
                    a_ms,
                    to_ms(bk.end),
                    bk.title,
                    1,
                    not has_spell,
                )
            )
    return DayPeople(day, normalise(sp, st, en, ct), bookings)
