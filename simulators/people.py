"""People: who comes in, when, where they sit, which rooms they book and use.

One local day at a time, each from its own random stream (seed, day), so any
day can be generated alone - the live mode and the backfill produce the same
day for the same seed. The output is the physical truth: when each space
really had someone in it (``Spells``) and the bookings made for it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import numpy as np

from core.calendar import is_closed
from core.registry import Site, SpaceType
from simulators.layout import (
    MINUTE_MS,
    STREAM_DESK_BOOKINGS,
    STREAM_PEOPLE,
    STREAM_SERIES,
    STREAM_VISITORS,
    Layout,
    local_ms,
    rng_for,
    to_ms,
)

MIN_SPELL_MS = 30_000
BOOKING_TITLES = (
    "Tiimipalaveri",
    "Projektikokous",
    "Asiakastapaaminen",
    "Suunnittelu",
    "Ohjausryhmä",
    "Työpaja",
    "Perehdytys",
)
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True, slots=True)
class Booking:
    booking_id: str
    space_id: str
    agency_id: str
    start_ms: int
    end_ms: int
    title: str
    attendees: int
    no_show: bool
    series_id: str | None = None


@dataclass(frozen=True, slots=True)
class Series:
    """A weekly recurring meeting (one RRULE in the iCalendar export)."""

    series_id: str
    space_id: str
    agency_id: str
    weekday: int
    start: time
    minutes: int
    title: str
    attendees: int


@dataclass
class Spells:
    """True occupancy spells of one day: parallel arrays, sorted by (space, start)."""

    space: np.ndarray  # int32 index into layout spaces
    start: np.ndarray  # int64 UTC ms
    end: np.ndarray  # int64 UTC ms
    count: np.ndarray  # int32 people present, -1 when not counted

    @classmethod
    def empty(cls) -> Spells:
        return cls(
            np.zeros(0, np.int32),
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros(0, np.int32),
        )

    def __len__(self) -> int:
        return len(self.space)


@dataclass
class DayPeople:
    day: date
    spells: Spells
    bookings: list[Booking] = field(default_factory=list)
    present: dict[str, int] = field(default_factory=dict)  # agency -> persons in
    overflow: int = 0  # persons who found no free desk
    visitors: int = 0
    #: the customers' visits: (in at the door ms, out at the door ms, people)
    visits: list[tuple[int, int, int]] = field(default_factory=list)
    #: desk space index -> agencies of the persons who sat there (in arrival order)
    desk_users: dict[int, list[str]] = field(default_factory=dict)
    #: every person's time at a desk: (desk space index, start ms, end ms, agency)
    sittings: list[tuple[int, int, int, str]] = field(default_factory=list)


def _minutes(t: time) -> float:
    return t.hour * 60 + t.minute + t.second / 60


def normalise(space: list[int], start: list[int], end: list[int], count: list[int]) -> Spells:
    """Sort by (space, start) and merge overlapping spells of a space, so that each
    space's spells are disjoint (contiguous ones with different counts stay apart)."""
    if not space:
        return Spells.empty()
    sp = np.asarray(space, np.int32)
    st = np.asarray(start, np.int64)
    en = np.asarray(end, np.int64)
    ct = np.asarray(count, np.int32)
    order = np.lexsort((st, sp))
    sp, st, en, ct = sp[order], st[order], en[order], ct[order]
    keep = en - st >= MIN_SPELL_MS
    sp, st, en, ct = sp[keep], st[keep], en[keep], ct[keep]
    out_sp: list[int] = []
    out_st: list[int] = []
    out_en: list[int] = []
    out_ct: list[int] = []
    for s, a, b, c in zip(sp.tolist(), st.tolist(), en.tolist(), ct.tolist(), strict=True):
        if out_sp and out_sp[-1] == s and a < out_en[-1]:
            # overlap inside one space (e.g. a walk-in meeting a late leaver): one spell
            out_en[-1] = max(out_en[-1], b)
            if c >= 0:
                out_ct[-1] = max(out_ct[-1], c)
            continue
        if out_sp and out_sp[-1] == s and a == out_en[-1] and c == out_ct[-1]:
            out_en[-1] = b
            continue
        out_sp.append(s)
        out_st.append(a)
        out_en.append(b)
        out_ct.append(c)
    return Spells(
        np.asarray(out_sp, np.int32),
        np.asarray(out_st, np.int64),
        np.asarray(out_en, np.int64),
        np.asarray(out_ct, np.int32),
    )


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


class _Person:
    __slots__ = ("absences", "agency", "arrive", "desk", "leave")

    def __init__(self, agency: str, arrive: int, leave: int):
        self.agency = agency
        self.arrive = arrive
        self.leave = leave
        self.desk = -1
        self.absences: list[tuple[int, int]] = []

    def free_during(self, a: int, b: int) -> bool:
        return (
            self.arrive <= a and self.leave >= b and all(y <= a or x >= b for x, y in self.absences)
        )


class _Staff:
    """One agency's persons with their absences as flat arrays, so that "who is free
    during [a, b)" (asked for every booking) is a few array operations instead of
    ``_Person.free_during`` on every person. ``add_absence`` keeps both in step."""

    def __init__(self, persons: list[_Person]):
        self.persons = persons
        self.arrive = np.array([p.arrive for p in persons], np.int64)
        self.leave = np.array([p.leave for p in persons], np.int64)
        spans = [(x, y, k) for k, p in enumerate(persons) for x, y in p.absences]
        self.n = len(spans)
        size = max(16, 2 * self.n)
        self.x = np.zeros(size, np.int64)  # absence starts
        self.y = np.zeros(size, np.int64)  # absence ends
        self.owner = np.zeros(size, np.intp)  # index into persons
        if spans:
            self.x[: self.n], self.y[: self.n], self.owner[: self.n] = np.array(spans).T

    def free_during(self, a: int, b: int) -> np.ndarray:
        """Indices (ascending) of the persons for whom ``free_during(a, b)`` holds."""
        busy = (self.arrive > a) | (self.leave < b)
        n = self.n
        # an absence overlaps [a, b) unless it ends by a or starts from b on
        clash = (self.x[:n] < b) & (self.y[:n] > a)
        busy[self.owner[:n][clash]] = True
        return np.flatnonzero(~busy)

    def add_absence(self, k: int, a: int, b: int) -> None:
        self.persons[k].absences.append((a, b))
        if self.n == len(self.x):
            for name in ("x", "y", "owner"):
                old = getattr(self, name)
                setattr(self, name, np.concatenate([old, np.zeros_like(old)]))
        self.x[self.n], self.y[self.n], self.owner[self.n] = a, b, k
        self.n += 1


def _persons(
    layout: Layout, day: date, window: tuple[int, int], rng: np.random.Generator
) -> list[_Person]:
    sc = layout.scenario.people
    site = layout.site
    open_ms, close_ms = window
    base = local_ms(site, day, time(0))
    out: list[_Person] = []
    weekday_p = sc.office_day.of(day.weekday())
    latest = close_ms - int(sc.min_stay_h * 60 * MINUTE_MS)
    lo, hi = sc.break_min
    for agency in site.agencies:
        n = agency.persons if agency.persons is not None else round(agency.headcount_htv)
        p = min(1.0, weekday_p * sc.agency_factor.get(agency.id, 1.0))
        comes = rng.random(n) < p
        k = int(comes.sum())
        arrive_min = rng.normal(_minutes(sc.arrival_mean), sc.arrival_sd_min, k)
        stay_min = rng.normal(sc.stay_mean_h * 60, sc.stay_sd_h * 60, k)
        lunch_goes = rng.random(k) < sc.lunch_share
        lunch_at = rng.normal(_minutes(sc.lunch_mean), sc.lunch_sd_min, k)
        lunch_len = np.clip(rng.normal(sc.lunch_min, 10.0, k), 15.0, 75.0)
        n_breaks = rng.poisson(sc.breaks_per_day, k)
        # the loop below runs on Python floats (the same float64 values and arithmetic
        # as numpy's, but without a numpy scalar per operation)
        arrive_l, stay_l = arrive_min.tolist(), stay_min.tolist()
        goes_l, lunch_at_l, lunch_len_l = lunch_goes.tolist(), lunch_at.tolist(), lunch_len.tolist()
        for j, n_j in enumerate(n_breaks.tolist()):
            arrive = base + int(arrive_l[j] * MINUTE_MS)
            arrive = max(open_ms + 2 * MINUTE_MS, arrive)
            arrive = min(arrive, latest)
            stay = max(sc.min_stay_h * 60, float(stay_l[j]))
            leave = min(close_ms - 2 * MINUTE_MS, arrive + int(stay * MINUTE_MS))
            if leave - arrive < 30 * MINUTE_MS:
                continue
            person = _Person(agency.id, arrive, leave)
            if goes_l[j]:
                a = base + int(lunch_at_l[j] * MINUTE_MS)
                b = a + int(lunch_len_l[j] * MINUTE_MS)
                if arrive + 30 * MINUTE_MS < a and b < leave - 30 * MINUTE_MS:
                    person.absences.append((a, b))
            for _ in range(n_j):
                length = int(rng.uniform(lo, hi) * MINUTE_MS)
                span = leave - arrive - length - 20 * MINUTE_MS
                if span <= 0:
                    continue
                a = arrive + 10 * MINUTE_MS + int(rng.integers(0, span))
                if all(a + length <= x or a >= y for x, y in person.absences):
                    person.absences.append((a, a + length))
            out.append(person)
    return out


@lru_cache(maxsize=16)
def _desk_pools(layout: Layout) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The desks, and per owning agency ("" for shared zones) the positions of its
    desks in that array (ascending). Fixed per layout, asked for every day."""
    desks = layout.desks()
    zone_agency = {z.id: z.agency for z in layout.site.zones}
    desk_agency = np.array([zone_agency.get(layout.zone_ids[i]) or "" for i in desks])
    pools = {str(a): np.flatnonzero(desk_agency == a) for a in dict.fromkeys(desk_agency.tolist())}
    return desks, pools


def _assign_desks(layout: Layout, persons: list[_Person], rng: np.random.Generator) -> int:
    """First come, first served: the agency's dedicated zones, then shared zones."""
    desks, pools = _desk_pools(layout)
    if len(desks) == 0:
        return len(persons)
    no_desks = np.zeros(0, np.intp)
    shared = pools.get("", no_desks)
    free_from = np.zeros(len(desks), np.int64)
    overflow = 0
    for person in sorted(persons, key=lambda p: (p.arrive, p.agency)):
        # the free desks among the agency's own (then the shared ones), ascending
        own = pools.get(person.agency, no_desks)
        candidates = own[free_from[own] <= person.arrive]
        if len(candidates) == 0:
            candidates = shared[free_from[shared] <= person.arrive]
        if len(candidates) == 0:
            overflow += 1
            continue
        k = int(candidates[int(rng.integers(len(candidates)))])
        person.desk = int(desks[k])
        free_from[k] = person.leave + 2 * MINUTE_MS
    return overflow


def _room_day(
    layout: Layout,
    day: date,
    window: tuple[int, int],
    persons: list[_Person],
    series: list[Series],
    rng: np.random.Generator,
) -> tuple[list[Booking], list[tuple[int, int, int, int]]]:
    """Bookings (recurring first, then ad hoc), their spells, and walk-ins."""
    sc = layout.scenario
    mt = sc.meetings
    site = layout.site
    open_ms, close_ms = window
    weekday_p = sc.people.office_day.of(day.weekday())
    mean_p = np.mean([sc.people.office_day.of(d) for d in range(5)]) or 1.0
    busy = weekday_p / mean_p
    present: dict[str, int] = {}
    for p in persons:
        present[p.agency] = present.get(p.agency, 0) + 1
    agencies = sorted(present)
    weights = np.array([present[a] for a in agencies], float)
    bookings: list[Booking] = []
    spells: list[tuple[int, int, int, int]] = []
    slots: dict[int, list[tuple[int, int]]] = {}
    stamp = day.strftime("%Y%m%d")

    def fits(room: int, a: int, b: int) -> bool:
        return (
            a >= open_ms and b <= close_ms and all(b <= x or a >= y for x, y in slots.get(room, []))
        )

    def hold(room: int, booking: Booking) -> None:
        slots.setdefault(room, []).append((booking.start_ms, booking.end_ms))
        bookings.append(booking)

    for s in series:
        if s.weekday != day.weekday() or s.space_id not in layout.index:
            continue
        room = layout.index[s.space_id]
        a = local_ms(site, day, s.start)
        b = a + s.minutes * MINUTE_MS
        if fits(room, a, b):
            hold(
                room,
                Booking(
                    f"{s.series_id}-{stamp}",
                    s.space_id,
                    s.agency_id,
                    a,
                    b,
                    s.title,
                    s.attendees,
                    bool(rng.random() < mt.no_show),
                    s.series_id,
                ),
            )
    day_start = local_ms(site, day, mt.day_start)
    day_end = local_ms(site, day, mt.day_end)
    # fixed for the day: not rebuilt per booking (the same values, so the same draws)
    durations = np.asarray(mt.durations_min)
    share = weights / weights.sum() if agencies else weights
    for room in layout.rooms():
        rate = mt.per_room_day.get(layout.space_types[room].value, 0.0) * busy
        if rate <= 0 or not agencies:
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
            if fits(room, a, b):
                hold(
                    room,
                    Booking(
                        f"bk-{stamp}-{layout.space_ids[room]}-{k + 1}"[:100],
                        layout.space_ids[room],
                        agency,
                        a,
                        b,
                        title,
                        attendees,
                        no_show,
                    ),
                )
    bookings.sort(key=lambda bk: (bk.start_ms, bk.space_id))
    busy_people: dict[str, list[_Person]] = {}
    for p in persons:
        busy_people.setdefault(p.agency, []).append(p)
    staff = {agency: _Staff(people) for agency, people in busy_people.items()}
    no_staff = _Staff([])
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
    lo, hi = mt.walk_in_min
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
            # a walk-in takes a room that is free right then (never inside a booking slot)
            if not fits(room, a - 5 * MINUTE_MS, b + 5 * MINUTE_MS):
                continue
            slots.setdefault(room, []).append((a, b))
            count = int(rng.integers(1, max(1, min(cap, 4)) + 1)) if layout.counting[room] else -1
            spells.append((room, a, b, count))
    return bookings, spells


def _arrivals(
    layout: Layout, day: date, a0: int, a1: int, n: int, rng: np.random.Generator
) -> np.ndarray:
    """``n`` arrival times in [a0, a1), sorted, drawn from the hourly profile
    (``visitors.hourly``: a rate constant within each local hour)."""
    hourly = layout.scenario.visitors.hourly
    lo: list[int] = []
    hi: list[int] = []
    weight: list[float] = []
    for hour, w in sorted(hourly.items()):
        start = local_ms(layout.site, day, time(hour))
        end = start + 60 * MINUTE_MS
        a, b = max(a0, start), min(a1, end)
        if b > a and w > 0:
            lo.append(a)
            hi.append(b)
            weight.append(w * (b - a))
    if not weight or n == 0:
        return np.zeros(0, np.float64)
    p = np.asarray(weight) / sum(weight)
    seg = rng.choice(len(p), size=n, p=p)
    t = rng.uniform(np.asarray(lo, np.float64)[seg], np.asarray(hi, np.float64)[seg])
    return np.sort(np.clip(t, a0, a1 - MINUTE_MS))


def _visitors(
    layout: Layout, day: date, window: tuple[int, int], rng: np.random.Generator
) -> tuple[list[tuple[int, int, int, int]], int, list[tuple[int, int, int]]]:
    """Customers at the service point: arrivals by the hourly and weekday
    profile, an M/M/c queue over the counters; the waiting lounge counts who is
    waiting. Also each visit as the door counter sees it: in on arrival, out
    when the service ends."""
    vs = layout.scenario.visitors
    counters = [i for i, t in enumerate(layout.space_types) if t is SpaceType.SERVICE_POINT]
    if not counters:
        return [], 0, []
    counter_zone = layout.zone_ids[counters[0]]
    lounges = [i for i, t in enumerate(layout.space_types) if t is SpaceType.LOUNGE]
    lounge = next((i for i in lounges if layout.zone_ids[i] == counter_zone), None)
    open_ms, close_ms = window
    a0 = max(open_ms, local_ms(layout.site, day, vs.service_start))
    a1 = min(close_ms, local_ms(layout.site, day, vs.service_end))
    if a1 <= a0:
        return [], 0, []
    n = int(rng.poisson(vs.per_counter_day * len(counters) * vs.weekday.of(day.weekday())))
    arrivals = _arrivals(layout, day, a0, a1, n, rng)
    n = len(arrivals)
    service = np.clip(rng.exponential(vs.service_mean_min, n), 3.0, 45.0)
    party = np.where(rng.random(n) < vs.party_of_two, 2, 1)
    free_at = np.full(len(counters), a0, np.int64)
    spells: list[tuple[int, int, int, int]] = []
    visits: list[tuple[int, int, int]] = []
    queue_events: list[tuple[int, int]] = []
    for j in range(n):
        arrive = int(arrivals[j])
        k = int(np.argmin(free_at))
        begin = max(arrive, int(free_at[k]))
        end = begin + int(service[j] * MINUTE_MS)
        free_at[k] = end
        room = counters[k]
        count = 1 + int(party[j]) if layout.counting[room] else -1
        spells.append((room, begin, end, count))
        visits.append((arrive, end, int(party[j])))
        if begin - arrive >= MINUTE_MS:
            queue_events.append((arrive, int(party[j])))
            queue_events.append((begin, -int(party[j])))
    if lounge is not None and queue_events:
        queue_events.sort()
        waiting = 0
        seg_start = 0
        for t, delta in queue_events:
            if waiting > 0 and t > seg_start:
                spells.append((lounge, seg_start, t, waiting if layout.counting[lounge] else -1))
            waiting += delta
            seg_start = t
    return spells, n, visits


def _desk_bookings(layout: Layout, day: date, persons: list[_Person]) -> list[Booking]:
    """Bookings of the shared desks by a share of the persons who sit at one
    (``People.shared_desk_booking``), from arrival to leaving; a desk is free
    again 2 minutes after its person leaves, so a desk's bookings never overlap."""
    desks, pools = _desk_pools(layout)
    shared = {int(desks[k]) for k in pools.get("", [])}
    rng = rng_for(layout.scenario.seed, STREAM_DESK_BOOKINGS, day.toordinal())
    share = layout.scenario.people.shared_desk_booking
    out = []
    for k, p in enumerate(sorted(persons, key=lambda p: (p.arrive, p.agency))):
        if p.desk in shared and rng.random() < share:
            out.append(
                Booking(
                    f"desk-{day.isoformat()}-{layout.space_ids[p.desk]}-{k + 1}",
                    layout.space_ids[p.desk],
                    p.agency,
                    p.arrive,
                    p.leave,
                    "Työpiste",
                    1,
                    False,
                )
            )
    return out


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
    persons = _persons(layout, day, window, rng)
    overflow = _assign_desks(layout, persons, rng)
    bookings, room_spells = _room_day(
        layout, day, window, persons, recurring_series(layout) if series is None else series, rng
    )
    if sc.people.shared_desk_booking > 0:
        bookings = sorted(
            bookings + _desk_bookings(layout, day, persons),
            key=lambda bk: (bk.start_ms, bk.space_id),
        )
    visitor_spells, n_visitors, visits = _visitors(
        layout, day, window, rng_for(sc.seed, STREAM_VISITORS, day.toordinal())
    )
    sp: list[int] = []
    st: list[int] = []
    en: list[int] = []
    ct: list[int] = []
    counting = layout.counting.tolist()  # a list lookup per spell, not a numpy scalar
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
