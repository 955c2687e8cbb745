"""Meeting and project rooms on a simulated day: the weekly recurring series,
ad hoc bookings, who actually comes (no-shows, late starts, early ends; the
attendees leave their desks) and walk-ins into rooms that are free."""

from __future__ import annotations

import math
from datetime import date, time

import numpy as np

from core.registry import SpaceType
from simulators.day import Booking, Series
from simulators.layout import MINUTE_MS, STREAM_SERIES, Layout, local_ms, rng_for
from simulators.persons import Person, Staff

BOOKING_TITLES = (
    "Tiimipalaveri",
    "Projektikokous",
    "Asiakastapaaminen",
    "Suunnittelu",
    "Ohjausryhmä",
    "Työpaja",
    "Perehdytys",
)

Spell = tuple[int, int, int, int]  # (space index, start ms, end ms, count or -1)


def recurring_series(layout: Layout) -> list[Series]:
    """Weekly meetings of each agency, fixed by the seed (not by the date range)."""
    sc = layout.scenario
    if sc.occupancy != "model" or sc.meetings.recurring_per_agency == 0:
        return []
    rooms = [
        i
        for i in layout.rooms()
        if layout.space_types[i] in (SpaceType.MEETING_ROOM, SpaceType.PROJECT_ROOM)
        and layout.capacity[i] >= 3
    ]
    if not rooms:
        return []
    rng = rng_for(sc.seed, STREAM_SERIES)
    taken: set[tuple[int, int, int]] = set()  # (room, weekday, hour)
    out = []
    for agency in layout.site.agencies:
        for k in range(sc.meetings.recurring_per_agency):
            for _ in range(50):
                room = rooms[int(rng.integers(len(rooms)))]
                weekday = int(rng.integers(1, 4))  # Tue-Thu, the busy days
                hour = int(rng.choice([9, 10, 13, 14]))
                if (room, weekday, hour) not in taken:
                    break
            else:
                continue
            taken.add((room, weekday, hour))
            cap = int(layout.capacity[room])
            out.append(
                Series(
                    series_id=f"rec-{agency.id}-{k + 1}",
                    space_id=layout.space_ids[room],
                    agency_id=agency.id,
                    weekday=weekday,
                    start=time(hour, 0),
                    minutes=60,
                    title=f"Viikkopalaveri ({agency.name})"[:120],
                    attendees=int(rng.integers(max(1, math.ceil(cap / 2)), cap + 1)),
                )
            )
    return out


class _Rooms:
    """The rooms' taken slots of the day, and the bookings held so far."""

    def __init__(self, window: tuple[int, int]) -> None:
        self.open_ms, self.close_ms = window
        self.slots: dict[int, list[tuple[int, int]]] = {}
        self.bookings: list[Booking] = []

    def fits(self, room: int, a: int, b: int) -> bool:
        return (
            a >= self.open_ms
            and b <= self.close_ms
            and all(b <= x or a >= y for x, y in self.slots.get(room, []))
        )

    def take(self, room: int, a: int, b: int) -> None:
        self.slots.setdefault(room, []).append((a, b))

    def hold(self, room: int, booking: Booking) -> None:
        self.take(room, booking.start_ms, booking.end_ms)
        self.bookings.append(booking)


def room_day(
    layout: Layout,
    day: date,
    window: tuple[int, int],
    persons: list[Person],
    series: list[Series],
    rng: np.random.Generator,
) -> tuple[list[Booking], list[Spell]]:
    """Bookings (recurring first, then ad hoc), their spells, and walk-ins.

    The steps draw from ``rng`` in this order, so a seed gives the same day."""
    sc = layout.scenario
    weekday_p = sc.people.office_day.of(day.weekday())
    mean_p = np.mean([sc.people.office_day.of(d) for d in range(5)]) or 1.0
    busy = float(weekday_p / mean_p)
    rooms = _Rooms(window)
    _book_series(layout, day, series, rooms, rng)
    _book_ad_hoc(layout, day, persons, busy, rooms, rng)
    bookings = sorted(rooms.bookings, key=lambda bk: (bk.start_ms, bk.space_id))
    spells = _meetings(layout, bookings, persons, rng)
    spells += _walk_ins(layout, day, busy, rooms, rng)
    return bookings, spells


def _book_series(
    layout: Layout, day: date, series: list[Series], rooms: _Rooms, rng: np.random.Generator
) -> None:
    stamp = day.strftime("%Y%m%d")
    no_show = layout.scenario.meetings.no_show
    for s in series:
        if s.weekday != day.weekday() or s.space_id not in layout.index:
            continue
        room = layout.index[s.space_id]
        a = local_ms(layout.site, day, s.start)
        b = a + s.minutes * MINUTE_MS
        if rooms.fits(room, a, b):
            rooms.hold(
                room,
                Booking(
                    f"{s.series_id}-{stamp}",
                    s.space_id,
                    s.agency_id,
                    a,
                    b,
                    s.title,
                    s.attendees,
                    bool(rng.random() < no_show),
                    s.series_id,
                ),
            )


def _book_ad_hoc(
    layout: Layout,
    day: date,
    persons: list[Person],
    busy: float,
    rooms: _Rooms,
    rng: np.random.Generator,
) -> None:
    """Bookings by the agencies in the building, in proportion to their persons in."""
    mt = layout.scenario.meetings
    present: dict[str, int] = {}
    for p in persons:
        present[p.agency] = present.get(p.agency, 0) + 1
    agencies = sorted(present)
    if not agencies:
        return
    weights = np.array([present[a] for a in agencies], float)
    share = weights / weights.sum()
    stamp = day.strftime("%Y%m%d")
    day_start = local_ms(layout.site, day, mt.day_start)
    day_end = local_ms(layout.site, day, mt.day_end)
    durations = np.asarray(mt.durations_min)
    for room in layout.rooms():
        rate = mt.per_room_day.get(layout.space_types[room].value, 0.0) * busy
        if rate <= 0:
            continue
        cap = int(layout.capacity[room])
        for k in range(int(rng.poisson(rate))):
            minutes = int(rng.choice(durations))
            quarters = (day_end - day_start - minutes * MINUTE_MS) // (15 * MINUTE_MS)
            if quarters <= 0:
                continue
            a = day_start + int(rng.integers(0, quarters + 1)) * 15 * MINUTE_MS
            b = a + minutes * MINUTE_MS
            agency = agencies[int(rng.choice(len(agencies), p=share))]
            attendees = int(rng.integers(max(1, math.ceil(cap / 3)), max(1, cap) + 1))
            title = BOOKING_TITLES[int(rng.integers(len(BOOKING_TITLES)))]
            no_show = bool(rng.random() < mt.no_show)
            if rooms.fits(room, a, b):
                booking_id = f"bk-{stamp}-{layout.space_ids[room]}-{k + 1}"[:100]
                rooms.hold(
                    room,
                    Booking(
                        booking_id,
                        layout.space_ids[room],
                        agency,
                        a,
                        b,
                        title,
                        attendees,
                        no_show,
                    ),
                )


def _meetings(
    layout: Layout, bookings: list[Booking], persons: list[Person], rng: np.random.Generator
) -> list[Spell]:
    """The spells of the bookings held (late start, early end); the attendees
    leave their desks for the meeting when the scenario says so."""
    mt = layout.scenario.meetings
    by_agency: dict[str, list[Person]] = {}
    for p in persons:
        by_agency.setdefault(p.agency, []).append(p)
    staff = {agency: Staff(people) for agency, people in by_agency.items()}
    no_staff = Staff([])
    spells: list[Spell] = []
    for bk in bookings:
        if bk.no_show:
            continue
        room = layout.index[bk.space_id]
        a = bk.start_ms + int(rng.uniform(0, mt.late_start_max_min) * MINUTE_MS)
        b = bk.end_ms - int(rng.uniform(0, mt.early_end_max_min) * MINUTE_MS)
        count = bk.attendees if layout.counting[room] else -1
        spells.append((room, a, b, count))
        if mt.attendees_leave_desks:
            agency_staff = staff.get(bk.agency_id, no_staff)
            pool = agency_staff.free_during(a, b)
            take = min(len(pool), bk.attendees)
            for j in sorted(rng.choice(len(pool), take, replace=False).tolist()) if take else []:
                agency_staff.add_absence(int(pool[j]), a - 2 * MINUTE_MS, b + 2 * MINUTE_MS)
    return spells


def _walk_ins(
    layout: Layout, day: date, busy: float, rooms: _Rooms, rng: np.random.Generator
) -> list[Spell]:
    """Unbooked use of rooms that are free right then (never inside a booking slot)."""
    mt = layout.scenario.meetings
    day_start = local_ms(layout.site, day, mt.day_start)
    day_end = local_ms(layout.site, day, mt.day_end)
    lo, hi = mt.walk_in_min
    spells: list[Spell] = []
    for room in layout.rooms():
        rate = mt.walk_in_per_room_day.get(layout.space_types[room].value, 0.0) * busy
        if rate <= 0:
            continue
        cap = int(layout.capacity[room])
        for _ in range(int(rng.poisson(rate))):
            length = int(rng.uniform(lo, hi) * MINUTE_MS)
            span = day_end - day_start - length
            if span <= 0:
                continue
            a = day_start + int(rng.integers(0, span))
            b = a + length
            if not rooms.fits(room, a - 5 * MINUTE_MS, b + 5 * MINUTE_MS):
                continue
            rooms.take(room, a, b)
            count = int(rng.integers(1, max(1, min(cap, 4)) + 1)) if layout.counting[room] else -1
            spells.append((room, a, b, count))
    return spells
