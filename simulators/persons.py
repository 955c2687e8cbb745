"""Who comes in on a simulated day, when, with which breaks, at which desk
(first come, first served: the agency's own zones, then the shared ones),
and which shared desks they book."""

from __future__ import annotations

from datetime import date, time
from functools import lru_cache

import numpy as np

from simulators.day import Booking
from simulators.layout import MINUTE_MS, STREAM_DESK_BOOKINGS, Layout, local_ms, rng_for


class Person:
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


class Staff:
    """One agency's persons with their absences as flat arrays, so that "who is free
    during [a, b)" (asked for every booking) is a few array operations instead of
    ``Person.free_during`` on every person. ``add_absence`` keeps both in step."""

    def __init__(self, persons: list[Person]):
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


def persons_of_day(
    layout: Layout, day: date, window: tuple[int, int], rng: np.random.Generator
) -> list[Person]:
    sc = layout.scenario.people
    site = layout.site
    open_ms, close_ms = window
    base = local_ms(site, day, time(0))
    out: list[Person] = []
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
            person = Person(agency.id, arrive, leave)
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
def desk_pools(layout: Layout) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The desks, and per owning agency ("" for shared zones) the positions of its
    desks in that array (ascending). Fixed per layout, asked for every day."""
    desks = layout.desks()
    zone_agency = {z.id: z.agency for z in layout.site.zones}
    desk_agency = np.array([zone_agency.get(layout.zone_ids[i]) or "" for i in desks])
    pools = {str(a): np.flatnonzero(desk_agency == a) for a in dict.fromkeys(desk_agency.tolist())}
    return desks, pools


def assign_desks(layout: Layout, persons: list[Person], rng: np.random.Generator) -> int:
    """First come, first served: the agency's dedicated zones, then shared zones."""
    desks, pools = desk_pools(layout)
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


def _minutes(t: time) -> float:
    return t.hour * 60 + t.minute + t.second / 60


def desk_bookings(layout: Layout, day: date, persons: list[Person]) -> list[Booking]:
    """Bookings of the shared desks by a share of the persons who sit at one
    (``People.shared_desk_booking``), from arrival to leaving; a desk is free
    again 2 minutes after its person leaves, so a desk's bookings never overlap."""
    desks, pools = desk_pools(layout)
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
