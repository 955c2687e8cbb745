"""The service point's door counter: the customers' visits as entrance counts.

Every entrance of the site with a counter bound, serving a zone that holds
service points, counts the simulated customers (``DayPeople.visits``): a
party's people cross in when it arrives and out when its service ends, so the
counts and the counters' occupancy come from the same visits. The counter
reports every ``visitors.counts_interval_s`` on a grid aligned to UTC (hence
to the local hour too), zeros included (the heartbeat), all day every day.

No random draws happen here: the counts are a function of the visits, so the
desks' and rooms' random streams are untouched. A counts message's ``seq`` is
its interval's index on that grid (increasing, and the same however the run
is cut into windows); the counter keeps no running totals.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from core.messages import EntranceCounts
from core.registry import Entrance, SpaceType
from simulators.layout import MS, Layout, from_ms
from simulators.sensors import DayPlan


@dataclass(frozen=True, slots=True)
class CountedDoor:
    entrance: Entrance
    sensor: str
    agent: str


def counted_doors(layout: Layout) -> list[CountedDoor]:
    """Entrances with a counter that serve a zone with service points."""
    served = {
        layout.zone_ids[i] for i, t in enumerate(layout.space_types) if t is SpaceType.SERVICE_POINT
    }
    return [
        CountedDoor(e, e.counter.id, e.counter.agent)
        for e in layout.site.entrances
        if e.counter is not None and e.zone in served
    ]


def interval_counts(
    visits: list[tuple[int, int, int]], ends: np.ndarray, interval_ms: int
) -> tuple[np.ndarray, np.ndarray]:
    """People in and out over each interval [end - interval, end)."""
    if not visits or len(ends) == 0:
        return np.zeros(len(ends), np.int64), np.zeros(len(ends), np.int64)
    v = np.asarray(visits, np.int64)
    starts = ends - interval_ms
    out = []
    for column in (0, 1):
        t = v[:, column]
        order = np.argsort(t, kind="stable")
        t, people = t[order], v[order, 2]
        cum = np.concatenate([[0], np.cumsum(people)])
        a = np.searchsorted(t, starts, side="left")
        b = np.searchsorted(t, ends, side="left")
        out.append(cum[b] - cum[a])
    return out[0], out[1]


def counts_messages(layout: Layout, plan: DayPlan, t0: int, t1: int) -> Iterator[EntranceCounts]:
    """The counter reports whose interval ends in [t0, t1), in time order."""
    doors = counted_doors(layout)
    if not doors:
        return
    interval_s = layout.scenario.visitors.counts_interval_s
    iv = interval_s * MS
    first = -(-t0 // iv) * iv  # the first grid point at or after t0
    ends = np.arange(first, t1, iv, dtype=np.int64)
    ins, outs = interval_counts(plan.people.visits, ends, iv)
    for k, end in enumerate(ends.tolist()):
        for door in doors:
            yield EntranceCounts(
                entrance_id=door.entrance.id,
                agent_id=door.agent,
                sensor_id=door.sensor,
                in_count=int(ins[k]),
                out_count=int(outs[k]),
                interval_s=float(interval_s),
                event_time=from_ms(end),
                seq=end // iv,
                heartbeat_interval_s=float(interval_s),
            )


def day_visit_truth(layout: Layout, plan: DayPlan, lo: int, hi: int) -> dict[str, object]:
    """A day's service-point truth within [lo, hi): people in through the door,
    customers (parties), and each counter's busy seconds (physical truth)."""
    visits = [v for v in plan.people.visits if lo <= v[0] < hi]
    spells = plan.people.spells
    busy: dict[str, float] = {}
    for i, t in enumerate(layout.space_types):
        if t is not SpaceType.SERVICE_POINT:
            continue
        sel = spells.space == i
        a = np.maximum(spells.start[sel], lo)
        b = np.minimum(spells.end[sel], hi)
        busy[layout.space_ids[i]] = float(np.clip(b - a, 0, None).sum()) / MS
    return {
        "visits": sum(v[2] for v in visits),
        "customers": len(visits),
        "counter_busy_s": busy,
    }
