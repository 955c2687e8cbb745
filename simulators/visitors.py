"""Customers at a simulated service point: arrivals by the hourly and weekday
profile, served first come, first served at the counters (an M/M/c queue),
the waiting lounge's count, and each visit as the door counter sees it."""

from __future__ import annotations

from datetime import date, time

import numpy as np

from core.registry import SpaceType
from simulators.layout import MINUTE_MS, Layout, local_ms


def arrival_times(
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


def visitors_of_day(
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
    arrivals = arrival_times(layout, day, a0, a1, n, rng)
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
