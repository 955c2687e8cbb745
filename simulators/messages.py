"""Emission rows -> contract messages (live mode) or store points (backfill).

Messages are built with the ``core.messages`` models, so everything the
simulator publishes is validated against the contract. Backfill builds points
without a model per row for speed (``PointFactory``), or no points at all but
columns for ``Store.write_columns`` (``ColumnFactory``, the default);
``tests/simulators`` checks that both equal ``storage.points`` applied to the
same messages.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from core.messages import (
    AgentHealth,
    AgentState,
    AgentStatus,
    Presence,
    PresenceKind,
    SensorHealth,
)
from core.topics import Topics
from simulators.layout import MS, Layout, battery_pct, from_ms, to_ms
from simulators.scenario import FaultKind
from simulators.sensors import (
    K_CHANGE,
    K_HEALTH,
    K_HEARTBEAT,
    K_STATUS_OFFLINE,
    K_STATUS_ONLINE,
    DayPlan,
    Emissions,
)
from storage.base import AGENT_HEALTH, PRESENCE, SENSOR_HEALTH, FieldValue, Point

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, slots=True)
class OutMessage:
    """One thing an agent does at ``pub_ms``: publish, or (``offline``) drop its
    connection so the broker publishes its Last Will."""

    pub_ms: int
    agent: str
    topic: str
    payload: bytes
    retain: bool
    kind: str  # presence | status | health | offline | counts


def presence_model(layout: Layout, e: Emissions, i: int) -> Presence:
    s = int(e.space[i])
    c = int(e.count[i])
    return Presence(
        space_id=layout.space_ids[s],
        agent_id=layout.agent_ids[int(e.agent[i])],
        sensor_id=layout.sensor_ids[s],
        occupied=bool(e.occ[i]),
        people_count=None if c < 0 else c,
        event_time=from_ms(int(e.event[i])),
        seq=int(e.seq[i]),
        kind=PresenceKind.CHANGE if e.kind[i] == K_CHANGE else PresenceKind.HEARTBEAT,
        heartbeat_interval_s=layout.hb_ms / MS,
    )


def status_model(layout: Layout, e: Emissions, i: int) -> AgentStatus:
    agent = layout.agent_ids[int(e.agent[i])]
    if e.kind[i] == K_STATUS_OFFLINE:
        return will_model(agent)
    return AgentStatus(agent_id=agent, state=AgentState.ONLINE, event_time=from_ms(int(e.event[i])))


def will_model(agent: str) -> AgentStatus:
    """The Last Will: fixed at connect time, so it carries no event time."""
    return AgentStatus(agent_id=agent, state=AgentState.OFFLINE)


def _last_seen(layout: Layout, plan: DayPlan, spaces: np.ndarray, t: int) -> np.ndarray:
    """Last heartbeat of each sensor at or before ``t`` (before any silence)."""
    hb = layout.hb_ms
    phase = layout.hb_phase_ms[spaces]
    seen = phase + ((t - phase) // hb) * hb
    for f in plan.faults:
        if f.kind is FaultKind.SILENT and f.start_ms <= t < f.end_ms:
            j = np.flatnonzero(spaces == f.spaces[0])
            before = f.start_ms - 1
            seen[j] = phase[j] + ((before - phase[j]) // hb) * hb
    return seen


def health_parts(
    layout: Layout, plan: DayPlan, agent: int, t_true: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(spaces, battery %, last seen ms, ok) of an agent's sensors at ``t_true``."""
    spaces = layout.spaces_of_agent(agent)
    battery = battery_pct(layout, t_true, spaces)
    seen = _last_seen(layout, plan, spaces, t_true)
    ok = (t_true - seen) <= 2.5 * layout.hb_ms
    return spaces, battery, seen, ok


def _uptime_s(layout: Layout, plan: DayPlan, agent: int, t: int, boot_ms: int) -> float:
    up_since = boot_ms
    for f in plan.faults:
        if f.kind is FaultKind.AGENT_OFFLINE and f.agent == agent and up_since < f.end_ms <= t:
            up_since = f.end_ms
    return max(0.0, (t - up_since) / MS)


def health_model(
    layout: Layout, plan: DayPlan, e: Emissions, i: int, boot_ms: int, *, t_true: int
) -> AgentHealth:
    agent = int(e.agent[i])
    spaces, battery, seen, ok = health_parts(layout, plan, agent, t_true)
    skew = int(e.event[i]) - t_true
    return AgentHealth(
        agent_id=layout.agent_ids[agent],
        event_time=from_ms(int(e.event[i])),
        version=layout.scenario.sensors.agent_version,
        uptime_s=_uptime_s(layout, plan, agent, t_true, boot_ms),
        outbox_depth=0,
        sensors=[
            SensorHealth(
                sensor_id=layout.sensor_ids[s],
                space_id=layout.space_ids[s],
                battery_pct=float(battery[j]),
                last_seen=from_ms(int(seen[j]) + skew),
                ok=bool(ok[j]),
                detail=None if ok[j] else f"no reading for {(t_true - int(seen[j])) // MS} s",
            )
            for j, s in enumerate(spaces.tolist())
        ],
    )


def true_times(plan: DayPlan, e: Emissions) -> np.ndarray:
    """Undo clock skew: the true instant each row describes."""
    t = e.event.copy()
    for f in plan.faults:
        if f.kind is FaultKind.CLOCK_SKEW:
            skew = round((f.param if f.param is not None else 90.0) * MS)
            sel = (e.agent == f.agent) & (t - skew >= f.start_ms) & (t - skew < f.end_ms)
            sel &= (e.kind != K_STATUS_ONLINE) & (e.kind != K_STATUS_OFFLINE)
            t[sel] -= skew
    return t


def out_messages(
    layout: Layout, plan: DayPlan, e: Emissions, topics: Topics, boot_ms: int
) -> Iterator[OutMessage]:
    """Contract messages of the rows, in the rows' order (publish order)."""
    site = layout.site.id
    truth_t = true_times(plan, e)
    for i in range(len(e)):
        k = int(e.kind[i])
        agent = layout.agent_ids[int(e.agent[i])]
        pub = int(e.pub[i])
        if k in (K_CHANGE, K_HEARTBEAT):
            msg = presence_model(layout, e, i)
            yield OutMessage(
                pub,
                agent,
                topics.presence(site, msg.space_id),
                msg.model_dump_json().encode(),
                False,
                "presence",
            )
        elif k == K_STATUS_ONLINE:
            yield OutMessage(
                pub,
                agent,
                topics.status(site, agent),
                status_model(layout, e, i).model_dump_json().encode(),
                True,
                "status",
            )
        elif k == K_STATUS_OFFLINE:
            yield OutMessage(
                pub,
                agent,
                topics.status(site, agent),
                will_model(agent).model_dump_json().encode(),
                True,
                "offline",
            )
        elif k == K_HEALTH:
            msg_h = health_model(layout, plan, e, i, boot_ms, t_true=int(truth_t[i]))
            yield OutMessage(
                pub,
                agent,
                topics.health(site, agent),
                msg_h.model_dump_json().encode(),
                False,
                "health",
            )


def counts_out_messages(
    layout: Layout, plan: DayPlan, t0: int, t1: int, topics: Topics
) -> Iterator[OutMessage]:
    """The door counter's reports of [t0, t1), published at their interval's end."""
    from simulators.visits import counts_messages

    site = layout.site.id
    for msg in counts_messages(layout, plan, t0, t1):
        yield OutMessage(
            to_ms(msg.event_time),
            msg.agent_id,
            topics.counts(site, msg.entrance_id),
            msg.model_dump_json(exclude_none=True).encode(),
            False,
            "counts",
        )


# ------------------------------------------------------------------ points


class PointFactory:
    """Store points straight from rows, identical to ``storage.points`` of the
    same messages (tags and constant fields shared, not rebuilt per row)."""

    def __init__(self, layout: Layout):
        self.layout = layout
        site = layout.site
        self.tags = [site.space_tags(s) for s in layout.space_ids]
        self.hb = float(layout.hb_ms / MS)
        self.agent_tags = [{"site": site.id, "agent": a} for a in layout.agent_ids]
        self.sensor_tags = [
            {
                "site": site.id,
                "agent": layout.agent_ids[int(layout.agent_of[s])],
                "sensor": layout.sensor_ids[s],
                "space": layout.space_ids[s],
            }
            for s in range(layout.n)
        ]

    def presence(self, e: Emissions, idx: np.ndarray) -> list[Point]:
        lay = self.layout
        sensors = lay.sensor_ids
        agents = lay.agent_ids
        hb = self.hb
        tags = self.tags
        out = []
        kinds = ("change", "heartbeat")
        for s, a, occ, c, seq, k, t in zip(
            e.space[idx].tolist(),
            e.agent[idx].tolist(),
            e.occ[idx].tolist(),
            e.count[idx].tolist(),
            e.seq[idx].tolist(),
            e.kind[idx].tolist(),
            e.event[idx].tolist(),
            strict=True,
        ):
            fields: dict[str, FieldValue] = {
                "occupied": occ,
                "seq": seq,
                "sensor": sensors[s],
                "agent": agents[a],
                "kind": kinds[k - K_CHANGE],
            }
            if c >= 0:
                fields["count"] = c
            fields["hb"] = hb
            out.append(Point(PRESENCE, tags[s], fields, t * 1_000_000))
        return out

    def health(
        self, plan: DayPlan, e: Emissions, i: int, boot_ms: int, *, t_true: int
    ) -> list[Point]:
        lay = self.layout
        agent = int(e.agent[i])
        t_ns = int(e.event[i]) * 1_000_000
        skew = int(e.event[i]) - t_true
        spaces, battery, seen, ok = health_parts(lay, plan, agent, t_true)
        points = [
            Point(
                AGENT_HEALTH,
                self.agent_tags[agent],
                {
                    "uptime_s": _uptime_s(lay, plan, agent, t_true, boot_ms),
                    "outbox_depth": 0,
                    "outbox_dropped": 0,
                    "version": lay.scenario.sensors.agent_version,
                },
                t_ns,
            )
        ]
        for s, b, seen_ms, good in zip(
            spaces.tolist(), battery.tolist(), seen.tolist(), ok.tolist(), strict=True
        ):
            fields: dict[str, FieldValue] = {
                "ok": int(good),
                "battery_pct": float(b),
                "last_seen_ns": (seen_ms + skew) * 1_000_000,
            }
            if not good:
                fields["detail"] = f"no reading for {(t_true - seen_ms) // MS} s"
            points.append(Point(SENSOR_HEALTH, self.sensor_tags[s], fields, t_ns))
        return points


# ------------------------------------------------------------------ columns


@dataclass(frozen=True, slots=True)
class _Codes:
    """Per index, a code into the distinct values (Categorical categories must be
    unique), with the Categorical dtype over those values. Both are built once per
    layout: a Categorical per column and day then costs one gather of the codes,
    not a new categories Index and a validation of every code."""

    codes: np.ndarray  # already of the integer type pandas keeps codes in
    dtype: pd.CategoricalDtype

    @classmethod
    def of(cls, values: list[str]) -> _Codes:
        import pandas as pd  # only the backfill needs it

        distinct = list(dict.fromkeys(values))
        position = {v: i for i, v in enumerate(distinct)}
        codes = np.array([position[v] for v in values], np.intp)
        dtype = pd.CategoricalDtype(pd.Index(distinct), ordered=False)
        narrow = np.array(pd.Categorical.from_codes(codes, dtype=dtype).codes)
        narrow.setflags(write=False)
        return cls(narrow, dtype)


class ColumnFactory:
    """The same points as ``PointFactory``, as columns for ``Store.write_columns``:
    no object per row. Every tag is a function of the space (or the agent), so
    each is a Categorical whose codes are looked up by the rows' space index."""

    def __init__(self, layout: Layout):
        self.layout = layout
        site = layout.site
        space_tags = [site.space_tags(s) for s in layout.space_ids]
        keys = list(space_tags[0]) if space_tags else []
        self.space_tags = {k: _Codes.of([t[k] for t in space_tags]) for k in keys}
        self.sensor = _Codes.of(layout.sensor_ids)
        self.space = _Codes.of(layout.space_ids)
        self.agent = _Codes.of(layout.agent_ids)
        self.agent_of_space = _Codes.of([layout.agent_ids[int(a)] for a in layout.agent_of])
        self.site = site.id
        self.hb = float(layout.hb_ms / MS)
        self.kinds = _Codes.of(["change", "heartbeat"])

    @staticmethod
    def _cat(codes: _Codes, index: np.ndarray) -> pd.Categorical[Any]:
        import pandas as pd  # only the backfill needs it

        # the codes were validated once in _Codes.of, and ``index`` picks among them
        return pd.Categorical.from_codes(codes.codes[index], dtype=codes.dtype, validate=False)

    def presence(self, e: Emissions, idx: np.ndarray) -> dict[str, Any]:
        """Keyword arguments of ``write_columns(PRESENCE, ...)`` for rows ``idx``."""
        space = e.space[idx]
        count = e.count[idx]
        return {
            "time_ns": e.event[idx].astype(np.int64, copy=False) * 1_000_000,
            "tags": {k: self._cat(c, space) for k, c in self.space_tags.items()},
            "fields": {
                "occupied": e.occ[idx],
                "seq": e.seq[idx],
                "sensor": self._cat(self.sensor, space),
                "agent": self._cat(self.agent, e.agent[idx]),
                "kind": self._cat(self.kinds, e.kind[idx] - K_CHANGE),
                "count": np.ma.masked_array(count, mask=count < 0),
                "hb": self.hb,
            },
        }

    def sensor_health(
        self, reports: list[tuple[int, int, int, tuple[np.ndarray, ...]]]
    ) -> dict[str, Any]:
        """Columns of ``SENSOR_HEALTH`` for health reports given as (event ms,
        true ms, agent, ``health_parts``): the sensor rows of ``health_points``."""
        spaces = np.concatenate([p[0] for *_, p in reports])
        sizes = [len(p[0]) for *_, p in reports]
        event = np.repeat(np.array([r[0] for r in reports], np.int64), sizes)
        true = np.repeat(np.array([r[1] for r in reports], np.int64), sizes)
        seen = np.concatenate([p[2] for *_, p in reports]).astype(np.int64)
        ok = np.concatenate([p[3] for *_, p in reports]).astype(bool)
        detail = np.empty(len(spaces), object)
        for j in np.flatnonzero(~ok).tolist():
            detail[j] = f"no reading for {(int(true[j]) - int(seen[j])) // MS} s"
        return {
            "time_ns": event * 1_000_000,
            "tags": {
                "site": self.site,
                "agent": self._cat(self.agent_of_space, spaces),
                "sensor": self._cat(self.sensor, spaces),
                "space": self._cat(self.space, spaces),
            },
            "fields": {
                "ok": ok.astype(np.int64),
                "battery_pct": np.concatenate([p[1] for *_, p in reports]).astype(np.float64),
                "last_seen_ns": (seen + (event - true)) * 1_000_000,
                "detail": detail,
            },
        }

    def agent_health(
        self, plan: DayPlan, e: Emissions, i: int, boot_ms: int, *, t_true: int
    ) -> Point:
        lay = self.layout
        agent = int(e.agent[i])
        return Point(
            AGENT_HEALTH,
            {"site": self.site, "agent": lay.agent_ids[agent]},
            {
                "uptime_s": _uptime_s(lay, plan, agent, t_true, boot_ms),
                "outbox_depth": 0,
                "outbox_dropped": 0,
                "version": lay.scenario.sensors.agent_version,
            },
            int(e.event[i]) * 1_000_000,
        )
