"""Sensors: what the simulated hardware reports about the true spells.

PIR-like sensing (a detection latency at the start of a spell, a hold time
after it), heartbeats on a fixed grid per sensor, battery drain, and injected
faults. The result is a columnar batch of emissions (``Emissions``) in the
order an edge agent would send them, with its per-agent sequence numbers.
Live mode turns the rows into MQTT messages, backfill into store points.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import numpy as np

from core.calendar import is_closed
from simulators.layout import (
    HOUR_MS,
    MS,
    STREAM_FAULTS,
    STREAM_SENSING,
    Layout,
    local_ms,
    rng_for,
    to_ms,
)
from simulators.people import DayPeople, Series, Spells, open_window, recurring_series, simulate_day
from simulators.scenario import SPACE_FAULTS, FaultKind

# emission kinds, in the order rows at the same instant are sent
K_STATUS_ONLINE = 0
K_CHANGE = 1
K_HEARTBEAT = 2
K_HEALTH = 3
K_STATUS_OFFLINE = 4  # the broker publishes it (Last Will) when the agent drops

DEFAULT_PARAM = {
    FaultKind.FLAPPING: 20.0,  # mean seconds between toggles
    FaultKind.DUPLICATES: 0.3,  # share of messages sent twice
    FaultKind.OUT_OF_ORDER: 120.0,  # max delivery delay, seconds
    FaultKind.CLOCK_SKEW: 90.0,  # sensor clock ahead of true time, seconds
}


@dataclass(frozen=True, slots=True)
class FaultInstance:
    kind: FaultKind
    target: str
    agent: int  # agent index (the target's agent for space faults)
    spaces: tuple[int, ...]  # affected space indices
    start_ms: int
    end_ms: int
    param: float | None

    def overlaps(self, lo: int, hi: int) -> bool:
        return self.start_ms < hi and self.end_ms > lo


@dataclass
class Steps:
    """Reported state change points, sorted by (space, time): from ``t`` on, the
    sensor says ``occ`` with ``count`` (-1: not counted)."""

    space: np.ndarray
    t: np.ndarray
    occ: np.ndarray
    count: np.ndarray

    def __len__(self) -> int:
        return len(self.space)


@dataclass
class Emissions:
    """Rows of what agents send. ``pub`` is the true (wall) time of sending;
    ``event`` the sensor clock written into the message."""

    pub: np.ndarray  # int64 ms
    event: np.ndarray  # int64 ms
    kind: np.ndarray  # int8
    space: np.ndarray  # int32, -1 for agent-level rows
    agent: np.ndarray  # int32
    occ: np.ndarray  # int8
    count: np.ndarray  # int32, -1 none
    seq: np.ndarray  # int64 (presence rows), -1 otherwise

    def __len__(self) -> int:
        return len(self.pub)

    @classmethod
    def concat(cls, parts: list[Emissions]) -> Emissions:
        names = ("pub", "event", "kind", "space", "agent", "occ", "count", "seq")
        return cls(*(np.concatenate([getattr(p, n) for p in parts]) for n in names))

    def take(self, idx: np.ndarray) -> Emissions:
        return Emissions(
            self.pub[idx],
            self.event[idx],
            self.kind[idx],
            self.space[idx],
            self.agent[idx],
            self.occ[idx],
            self.count[idx],
            self.seq[idx],
        )


def _rows(n: int) -> dict[str, np.ndarray]:
    return {
        "pub": np.zeros(n, np.int64),
        "event": np.zeros(n, np.int64),
        "kind": np.zeros(n, np.int8),
        "space": np.full(n, -1, np.int32),
        "agent": np.zeros(n, np.int32),
        "occ": np.zeros(n, np.int8),
        "count": np.full(n, -1, np.int32),
        "seq": np.full(n, -1, np.int64),
    }


# ---------------------------------------------------------------- sensing


def sense(layout: Layout, spells: Spells, rng: np.random.Generator) -> Spells:
    """Sensed spells: each starts a detection latency late and lasts a hold time
    longer, cut at the next sensed start of the same space (then contiguous)."""
    n = len(spells)
    if n == 0:
        return spells
    lo, hi = layout.scenario.sensors.latency_s
    latency = np.round(rng.uniform(lo, hi, n) * MS).astype(np.int64)
    hold = round(layout.scenario.sensors.hold_s * MS)
    start = spells.start + latency
    end = spells.end + hold
    same_next = np.zeros(n, bool)
    same_next[:-1] = spells.space[1:] == spells.space[:-1]
    nxt = np.empty(n, np.int64)
    nxt[:-1] = start[1:]
    nxt[-1] = np.iinfo(np.int64).max
    end = np.where(same_next, np.minimum(end, nxt), end)
    return Spells(spells.space.copy(), start, end, spells.count.copy())


def idle_count(layout: Layout, space: np.ndarray) -> np.ndarray:
    """What a free sensor reports as count: 0 when it counts people, else none (-1)."""
    return layout.idle_count[space]


def steps_from(layout: Layout, sensed: Spells) -> Steps:
    """Change points of sensed spells: occupied at each start (or count change),
    free at each end not followed at once by the next spell."""
    n = len(sensed)
    if n == 0:
        z = np.zeros(0, np.int64)
        return Steps(z.astype(np.int32), z, z.astype(np.int8), z.astype(np.int32))
    contiguous = np.zeros(n, bool)
    contiguous[:-1] = (sensed.space[1:] == sensed.space[:-1]) & (
        sensed.end[:-1] >= sensed.start[1:]
    )
    ends = ~contiguous
    space = np.concatenate([sensed.space, sensed.space[ends]])
    t = np.concatenate([sensed.start, sensed.end[ends]])
    occ = np.concatenate([np.ones(n, np.int8), np.zeros(int(ends.sum()), np.int8)])
    count = np.concatenate([sensed.count, idle_count(layout, sensed.space[ends])])
    return _dedupe(layout, _sorted(Steps(space.astype(np.int32), t, occ, count)))


def _sorted(s: Steps) -> Steps:
    order = np.lexsort((s.t, s.space))
    return Steps(s.space[order], s.t[order], s.occ[order], s.count[order])


def _dedupe(layout: Layout, s: Steps) -> Steps:
    """Drop steps that repeat the state before them (the implicit start state is free);
    of several steps at one instant the last wins."""
    n = len(s)
    if n == 0:
        return s
    last_at_instant = np.ones(n, bool)
    last_at_instant[:-1] = ~((s.space[1:] == s.space[:-1]) & (s.t[1:] == s.t[:-1]))
    s = Steps(
        s.space[last_at_instant],
        s.t[last_at_instant],
        s.occ[last_at_instant],
        s.count[last_at_instant],
    )
    n = len(s)
    prev_occ = np.zeros(n, np.int8)
    prev_count = idle_count(layout, s.space)
    same = np.zeros(n, bool)
    same[1:] = s.space[1:] == s.space[:-1]
    prev_occ[1:] = np.where(same[1:], s.occ[:-1], 0)
    prev_count[1:] = np.where(same[1:], s.count[:-1], prev_count[1:])
    keep = (s.occ != prev_occ) | (s.count != prev_count)
    return Steps(s.space[keep], s.t[keep], s.occ[keep], s.count[keep])


def state_at(
    layout: Layout, steps: Steps, space: np.ndarray, t: np.ndarray, base: int
) -> tuple[np.ndarray, np.ndarray]:
    """Reported (occ, count) of ``space`` at ``t`` (a step at exactly ``t`` counts)."""
    span = 8 * 24 * HOUR_MS
    idle = idle_count(layout, space)
    if len(steps) == 0:
        return np.zeros(len(space), np.int8), idle
    keys = steps.space.astype(np.int64) * span + (steps.t - base)
    q = space.astype(np.int64) * span + (t - base)
    idx = np.searchsorted(keys, q, side="right") - 1
    # whole-array gathers instead of masked ones (this runs on every heartbeat);
    # idx == -1 (no step before) reads the last step, which ``ok`` then discards
    ok = (idx >= 0) & (steps.space[idx] == space)
    occ = np.where(ok, steps.occ[idx], 0).astype(np.int8)
    count = np.where(ok, steps.count[idx], idle).astype(np.int32)
    return occ, count


# ----------------------------------------------------------------- faults


def _fault_instance(
    layout: Layout, kind: FaultKind, target: str, a: int, b: int, param: float | None
) -> FaultInstance | None:
    if kind in SPACE_FAULTS:
        if target not in layout.index:
            return None
        i = layout.index[target]
        return FaultInstance(kind, target, int(layout.agent_of[i]), (i,), a, b, param)
    if target not in layout.agent_index:
        return None
    g = layout.agent_index[target]
    return FaultInstance(kind, target, g, tuple(layout.spaces_of_agent(g).tolist()), a, b, param)


def explicit_faults(layout: Layout) -> list[FaultInstance]:
    out = []
    for f in layout.scenario.faults:
        inst = _fault_instance(layout, f.kind, f.target, to_ms(f.start), to_ms(f.end), f.param)
        if inst is None:
            raise ValueError(f"fault {f.kind.value}: no simulated space or agent {f.target!r}")
        out.append(inst)
    return out


@lru_cache(maxsize=256)
def random_faults_on(layout: Layout, day: date) -> tuple[FaultInstance, ...]:
    """Faults drawn for ``day`` (cached: a live run asks for the same days often)."""
    return tuple(_random_faults(layout, day))


def _random_faults(layout: Layout, day: date) -> list[FaultInstance]:
    """Faults starting on ``day`` (open days only, inside opening hours)."""
    rf = layout.scenario.random_faults
    window = open_window(layout.site, day)
    if rf is None or window is None:
        return []
    rng = rng_for(layout.scenario.seed, STREAM_FAULTS, day.toordinal())
    out = []
    for kind in FaultKind:
        rate = rf.per_30_days.get(kind, 0.0) / 30.0
        for _ in range(int(rng.poisson(rate)) if rate > 0 else 0):
            a = int(rng.integers(window[0], window[1]))
            b = a + int(rng.uniform(*rf.duration_h) * HOUR_MS)
            if kind in SPACE_FAULTS:
                target = layout.space_ids[int(rng.integers(layout.n))]
            else:
                target = layout.agent_ids[int(rng.integers(len(layout.agent_ids)))]
            param = DEFAULT_PARAM.get(kind)
            if kind is FaultKind.CLOCK_SKEW:
                param = float(rng.choice([-1, 1]) * rng.uniform(30, 300))
            inst = _fault_instance(layout, kind, target, a, b, param)
            if inst is not None:
                out.append(inst)
    return out


MAX_RANDOM_FAULT_DAYS = 2


def faults_touching(
    layout: Layout, lo: int, hi: int, explicit: list[FaultInstance]
) -> list[FaultInstance]:
    """Every fault (explicit or drawn) overlapping [lo, hi), in a stable order."""
    tz = layout.site.tz
    first = datetime.fromtimestamp(lo / MS, tz).date() - timedelta(days=MAX_RANDOM_FAULT_DAYS)
    last = datetime.fromtimestamp((hi - 1) / MS, tz).date()
    out = [f for f in explicit if f.overlaps(lo, hi)]
    day = first
    while day <= last:
        out.extend(f for f in random_faults_on(layout, day) if f.overlaps(lo, hi))
        day += timedelta(days=1)
    return out


def apply_sensor_faults(
    layout: Layout,
    steps: Steps,
    faults: list[FaultInstance],
    lo: int,
    hi: int,
    rng: np.random.Generator,
) -> Steps:
    """Stuck and flapping sensors replace the reported state during the fault."""
    relevant = [f for f in faults if f.kind in (FaultKind.STUCK_OCCUPIED, FaultKind.FLAPPING)]
    if not relevant:
        return steps
    keep = np.ones(len(steps), bool)
    add_space: list[int] = []
    add_t: list[int] = []
    add_occ: list[int] = []
    add_count: list[int] = []
    base = lo - 24 * HOUR_MS
    for f in relevant:
        i = f.spaces[0]
        a, b = max(f.start_ms, lo), min(f.end_ms, hi)
        if a >= b:
            continue
        keep &= ~((steps.space == i) & (steps.t >= a) & (steps.t < b))
        occ_b, count_b = state_at(
            layout, steps, np.array([i], np.int32), np.array([b], np.int64), base
        )
        busy = 1 if layout.counting[i] else -1
        idle = 0 if layout.counting[i] else -1
        if f.kind is FaultKind.STUCK_OCCUPIED:
            add_space.append(i)
            add_t.append(a)
            add_occ.append(1)
            add_count.append(busy)
        else:
            mean_s = f.param or DEFAULT_PARAM[FaultKind.FLAPPING]
            t, state = a, 1
            while t < b:
                add_space.append(i)
                add_t.append(t)
                add_occ.append(state)
                add_count.append(busy if state else idle)
                state = 1 - state
                t += max(MS, int(rng.exponential(mean_s) * MS))
        if b < hi:
            add_space.append(i)
            add_t.append(b)
            add_occ.append(int(occ_b[0]))
            add_count.append(int(count_b[0]))
    merged = Steps(
        np.concatenate([steps.space[keep], np.asarray(add_space, np.int32)]),
        np.concatenate([steps.t[keep], np.asarray(add_t, np.int64)]),
        np.concatenate([steps.occ[keep], np.asarray(add_occ, np.int8)]),
        np.concatenate([steps.count[keep], np.asarray(add_count, np.int32)]),
    )
    # a fault's own steps must win over a true step at the same instant: sort keeps
    # insertion order for ties (stable), and _dedupe keeps the last at an instant
    order = np.lexsort((merged.t, merged.space))
    merged = Steps(merged.space[order], merged.t[order], merged.occ[order], merged.count[order])
    return _dedupe(layout, merged)


# ------------------------------------------------------------------- days


@dataclass
class DayPlan:
    """Everything about one local day: truth, sensed truth, reported steps, faults."""

    day: date
    lo: int  # UTC ms of local midnight
    hi: int  # UTC ms of the next local midnight
    people: DayPeople
    sensed: Spells
    steps: Steps
    faults: list[FaultInstance] = field(default_factory=list)


def plan_day(
    layout: Layout, day: date, explicit: list[FaultInstance], series: list[Series] | None = None
) -> DayPlan:
    lo = local_ms(layout.site, day, time(0))
    hi = to_ms(datetime.combine(day + timedelta(days=1), time(0), tzinfo=layout.site.tz))
    people = simulate_day(layout, day, recurring_series(layout) if series is None else series)
    rng = rng_for(layout.scenario.seed, STREAM_SENSING, day.toordinal())
    sensed = sense(layout, people.spells, rng)
    steps = steps_from(layout, sensed)
    faults = faults_touching(layout, lo, hi, explicit)
    steps = apply_sensor_faults(layout, steps, faults, lo, hi, rng)
    return DayPlan(day, lo, hi, people, sensed, steps, faults)


def is_open_day(layout: Layout, day: date) -> bool:
    return not is_closed(layout.site, day)


# -------------------------------------------------------------- emissions


def _hash_uniform(*keys: np.ndarray) -> np.ndarray:
    """Uniform [0, 1) per row from integer keys (splitmix64), so delivery faults do
    not depend on how the stream is cut into windows."""
    with np.errstate(over="ignore"):
        z = np.full(len(keys[0]), 0x9E3779B97F4A7C15, np.uint64)
        for k in keys:
            z = z ^ k.astype(np.uint64)
            z = z + np.uint64(0x9E3779B97F4A7C15)
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


@dataclass
class SeqCounter:
    """Per-agent sequence numbers, carried from window to window."""

    next: np.ndarray

    @classmethod
    def start(cls, n_agents: int) -> SeqCounter:
        return cls(np.zeros(n_agents, np.int64))


def emissions(
    layout: Layout,
    plan: DayPlan,
    t0: int,
    t1: int,
    seq: SeqCounter,
    *,
    boot_at: int | None = None,
) -> Emissions:
    """Everything agents send with true time in [t0, t1) (inside ``plan``'s day).

    ``boot_at``: the agents start at that instant (in the window): each
    publishes ``online`` and the current state of its sensors.
    """
    t0, t1 = max(t0, plan.lo), min(t1, plan.hi)
    if t1 <= t0:
        return Emissions(**_rows(0))
    steps = plan.steps
    base = plan.lo - 24 * HOUR_MS
    parts: list[Emissions] = []
    # state changes
    sel = (steps.t >= t0) & (steps.t < t1)
    r = _rows(int(sel.sum()))
    r["event"] = steps.t[sel]
    r["kind"][:] = K_CHANGE
    r["space"] = steps.space[sel]
    r["agent"] = layout.agent_of[r["space"]]
    r["occ"] = steps.occ[sel]
    r["count"] = steps.count[sel]
    parts.append(Emissions(**r))
    # heartbeats on each sensor's grid
    hb = layout.hb_ms
    phase = layout.hb_phase_ms
    k0 = -((phase - t0) // hb)  # ceil((t0 - phase) / hb)
    k1 = -((phase - t1) // hb)
    per = (k1 - k0).astype(np.int64)
    total = int(per.sum())
    if total:
        space = np.repeat(np.arange(layout.n, dtype=np.int32), per)
        offs = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(per) - per, per)
        t = phase[space] + (np.repeat(k0, per) + offs) * hb
        if boot_at is not None:
            grid = t != boot_at
            space, t = space[grid], t[grid]
            total = len(t)
        occ, count = state_at(layout, steps, space, t, base)
        r = _rows(total)
        r["event"] = t
        r["kind"][:] = K_HEARTBEAT
        r["space"] = space
        r["agent"] = layout.agent_of[space]
        r["occ"] = occ
        r["count"] = count
        parts.append(Emissions(**r))
    # boot: online + a snapshot of every sensor
    if boot_at is not None and t0 <= boot_at < t1:
        parts.append(_boot_rows(layout, plan, np.arange(len(layout.agent_ids)), boot_at, base))
    # health reports on each agent's grid
    hi_ms = round(layout.scenario.sensors.health_interval_s * MS)
    hk0 = -((layout.health_phase_ms - t0) // hi_ms)
    hk1 = -((layout.health_phase_ms - t1) // hi_ms)
    hper = (hk1 - hk0).astype(np.int64)
    htotal = int(hper.sum())
    if htotal:
        agent = np.repeat(np.arange(len(layout.agent_ids), dtype=np.int32), hper)
        offs = np.arange(htotal, dtype=np.int64) - np.repeat(np.cumsum(hper) - hper, hper)
        r = _rows(htotal)
        r["event"] = layout.health_phase_ms[agent] + (np.repeat(hk0, hper) + offs) * hi_ms
        r["kind"][:] = K_HEALTH
        r["agent"] = agent
        parts.append(Emissions(**r))
    e = Emissions.concat(parts)
    # every part above has its rows' agents set already (the agent of the space)
    e.pub[:] = e.event
    # silent sensors and offline agents send nothing
    drop = np.zeros(len(e), bool)
    extra: list[Emissions] = []
    for f in plan.faults:
        if f.kind is FaultKind.SILENT:
            drop |= (e.space == f.spaces[0]) & (e.event >= f.start_ms) & (e.event < f.end_ms)
        elif f.kind is FaultKind.AGENT_OFFLINE:
            drop |= (e.agent == f.agent) & (e.event >= f.start_ms) & (e.event < f.end_ms)
            if t0 <= f.start_ms < t1:
                r = _rows(1)
                r["event"][:] = f.start_ms
                r["kind"][:] = K_STATUS_OFFLINE
                r["agent"][:] = f.agent
                r["pub"][:] = f.start_ms
                extra.append(Emissions(**r))
            if t0 <= f.end_ms < t1:
                extra.append(_boot_rows(layout, plan, np.array([f.agent]), f.end_ms, base))
    # a (re)booting agent's snapshot replaces its grid heartbeats of that instant
    for f in plan.faults:
        if f.kind is FaultKind.AGENT_OFFLINE and t0 <= f.end_ms < t1:
            drop |= (e.kind == K_HEARTBEAT) & (e.agent == f.agent) & (e.event == f.end_ms)
    if drop.any():  # rare (fault days): spare the copy of every row otherwise
        e = e.take(np.flatnonzero(~drop))
    if extra:
        e = Emissions.concat([e, *extra])
    # send order: time, then kind (online before presence), then space
    # one int64 key (time, kind, space) sorts faster than a three-key lexsort
    key = ((e.event - base) * 8 + e.kind) * (layout.n + 1) + (e.space + 1)
    e = e.take(np.argsort(key, kind="stable"))
    presence = (e.kind == K_CHANGE) | (e.kind == K_HEARTBEAT)
    pidx = np.flatnonzero(presence)
    if len(pidx):
        agents = e.agent[pidx]
        per_agent = np.bincount(agents, minlength=len(seq.next))
        # rank of each row among its agent's rows: a stable sort by agent; numpy
        # radix-sorts 16-bit integers (much faster than its int32 sort)
        narrow = agents.astype(np.int16) if len(seq.next) <= 1 << 15 else agents
        by_agent = np.argsort(narrow, kind="stable")
        starts = np.repeat(np.cumsum(per_agent) - per_agent, per_agent)
        rank = np.empty(len(pidx), np.int64)
        rank[by_agent] = np.arange(len(pidx)) - starts
        e.seq[pidx] = seq.next[agents] + rank
        seq.next += per_agent
    return _delivery_faults(layout, e, plan.faults)


def _boot_rows(layout: Layout, plan: DayPlan, agents: np.ndarray, at: int, base: int) -> Emissions:
    spaces = np.flatnonzero(np.isin(layout.agent_of, agents)).astype(np.int32)
    occ, count = state_at(layout, plan.steps, spaces, np.full(len(spaces), at, np.int64), base)
    r = _rows(len(agents) + len(spaces))
    na = len(agents)
    r["event"][:] = at
    r["pub"][:] = at  # a reboot after an outage comes after the rows' send times are set
    r["kind"][:na] = K_STATUS_ONLINE
    r["agent"][:na] = agents
    r["kind"][na:] = K_HEARTBEAT
    r["space"][na:] = spaces
    r["agent"][na:] = layout.agent_of[spaces]
    r["occ"][na:] = occ
    r["count"][na:] = count
    return Emissions(**r)


def _delivery_faults(layout: Layout, e: Emissions, faults: list[FaultInstance]) -> Emissions:
    delivery = (FaultKind.CLOCK_SKEW, FaultKind.OUT_OF_ORDER, FaultKind.DUPLICATES)
    if not any(f.kind in delivery for f in faults):
        return e  # already in send order
    seed = np.full(len(e), layout.scenario.seed, np.int64)
    presence = (e.kind == K_CHANGE) | (e.kind == K_HEARTBEAT)
    dups: list[Emissions] = []
    for f in faults:
        mine = (e.agent == f.agent) & (e.event >= f.start_ms) & (e.event < f.end_ms)
        if f.kind is FaultKind.CLOCK_SKEW:
            skew = f.param if f.param is not None else DEFAULT_PARAM[FaultKind.CLOCK_SKEW]
            sel = mine & (e.kind != K_STATUS_OFFLINE) & (e.kind != K_STATUS_ONLINE)
            e.event[sel] += round(skew * MS)
        elif f.kind is FaultKind.OUT_OF_ORDER:
            delay = f.param if f.param is not None else DEFAULT_PARAM[FaultKind.OUT_OF_ORDER]
            sel = mine & presence
            u = _hash_uniform(seed, e.pub, e.space, np.full(len(e), 1))
            e.pub[sel] += (u[sel] * delay * MS).astype(np.int64)
        elif f.kind is FaultKind.DUPLICATES:
            share = f.param if f.param is not None else DEFAULT_PARAM[FaultKind.DUPLICATES]
            u = _hash_uniform(seed, e.pub, e.space, np.full(len(e), 2))
            sel = np.flatnonzero(mine & presence & (u < share))
            if len(sel):
                d = e.take(sel)
                d.pub = d.pub + 200 + (u[sel] * 10_000).astype(np.int64)
                dups.append(d)
    if dups:
        e = Emissions.concat([e, *dups])
    order = np.argsort(e.pub, kind="stable")
    return e.take(order)


def open_days_between(layout: Layout, first: date, last: date) -> list[date]:
    out = []
    d = first
    while d <= last:
        if not is_closed(layout.site, d):
            out.append(d)
        d += timedelta(days=1)
    return out
