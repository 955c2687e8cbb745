"""Live occupancy: the current state of every space, kept in memory.

Fed by the broker (``api.mqtt``) and seeded from the store at start-up. The
state rules are the metric definitions' (DESIGN.md "Metrics"): a state holds
from one event until the next; a space is unknown once its sensor has been
silent for longer than ``silence_factor`` heartbeat intervals, or while its
agent is offline. Listeners (Server-Sent Events) receive every change.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError

from core.messages import AgentState, AgentStatus, Presence, RawMessage
from core.registry import LANGUAGES, Registry, Site
from core.timeutil import utcnow
from core.topics import TopicError, TopicKind, Topics
from core.validation import Window, message_problem

#: The contract's event-time window (the ingest's default too).
WINDOW = Window()

if TYPE_CHECKING:
    import pandas as pd

State = Literal["occupied", "free", "unknown"]


@dataclass(frozen=True, slots=True)
class SpaceLive:
    space: str
    zone: str
    floor: str
    space_type: str
    state: State = "unknown"
    since: datetime | None = None
    count: int | None = None
    last_seen: datetime | None = None
    last_event: datetime | None = None
    heartbeat_s: float = 300.0
    agent: str | None = None
    sensor: str | None = None
    reason: str | None = None  # why unknown: "no data", "silent", "agent offline"

    def as_json(self) -> dict[str, Any]:
        # built by hand: dataclasses.asdict deep-copies every datetime, which
        # made it most of the cost of a snapshot of a few hundred spaces
        return {
            "space": self.space,
            "zone": self.zone,
            "floor": self.floor,
            "space_type": self.space_type,
            "state": self.state,
            "since": _iso(self.since),
            "count": self.count,
            "last_seen": _iso(self.last_seen),
            "last_event": _iso(self.last_event),
            "heartbeat_s": self.heartbeat_s,
            "agent": self.agent,
            "sensor": self.sensor,
            "reason": self.reason,
        }


def _iso(t: datetime | None) -> str | None:
    return t.isoformat().replace("+00:00", "Z") if t is not None else None


def _dumps(value: Any) -> str:
    # what FastAPI's JSONResponse writes, so cached and uncached answers agree
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class LiveScope:
    """What one kind of key may see of a live snapshot.

    ``name`` identifies the scope in the snapshot cache: every key whose scope
    has the same name must be allowed to see exactly the same.
    """

    name: str
    spaces: frozenset[str] | None  # shown one by one; None: every space
    group_visible: Callable[[str, str, int], bool]  # (by, group, size): may it be shown
    agents: bool
    # The spaces every count (totals, floors, zones) is made of; None: every
    # space. An agency's counts leave out other agencies' dedicated spaces, so
    # no difference of two counts can isolate them (api.access).
    counted: frozenset[str] | None = None


EVERYTHING = LiveScope("all", None, lambda _by, _group, _size: True, agents=True)


class LiveBoard:
    """Live state of one site. Thread-safe; changes go to registered listeners."""

    def __init__(self, site: Site, *, silence_factor: float = 2.5):
        self.site = site
        self.silence_factor = silence_factor
        self._lock = threading.Lock()
        self._agents_online: dict[str, bool] = {}
        self._agent_since: dict[str, datetime] = {}
        self._spaces: dict[str, SpaceLive] = {}
        for s in site.spaces:
            zone = site.zone(s.zone)
            self._spaces[s.id] = SpaceLive(
                space=s.id,
                zone=zone.id,
                floor=zone.floor,
                space_type=s.type.value,
                heartbeat_s=site.heartbeat_s,
                agent=s.sensor.agent if s.sensor else None,
                sensor=s.sensor.id if s.sensor else None,
                reason="no data",
            )
        self._listeners: list[Callable[[SpaceLive], None]] = []
        # Bumped (under _lock) by every change to what a snapshot shows, heartbeats
        # included (they move last_seen): a cached snapshot is valid while it holds.
        self._version = 0
        self._build_lock = threading.Lock()
        self._snapshots: dict[str, tuple[int, str]] = {}
        self._fragments: dict[str, tuple[SpaceLive, str]] = {}
        # Until then a space never heard from is waiting for its first
        # heartbeat since start-up, not (yet) a silent sensor.
        self.warm_until = utcnow() + timedelta(seconds=site.heartbeat_s * silence_factor)

    # ---- listeners ------------------------------------------------------
    def add_listener(self, fn: Callable[[SpaceLive], None]) -> None:
        with self._lock:
            self._listeners.append(fn)

    def remove_listener(self, fn: Callable[[SpaceLive], None]) -> None:
        with self._lock:
            if fn in self._listeners:
                self._listeners.remove(fn)

    def _emit(self, changed: list[SpaceLive]) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for item in changed:
            for fn in listeners:
                fn(item)

    # ---- updates --------------------------------------------------------
    def apply_presence(self, msg: Presence, *, now: datetime | None = None) -> SpaceLive | None:
        with self._lock:
            cur = self._spaces.get(msg.space_id)
            if cur is None:
                return None
            if cur.last_event is not None and msg.event_time < cur.last_event:
                # Out-of-order or duplicate delivery: older than what we show.
                return None
            state: State = "occupied" if msg.occupied else "free"
            changed_state = state != cur.state
            new = replace(
                cur,
                state=state,
                since=msg.event_time if changed_state or cur.since is None else cur.since,
                count=msg.people_count,
                last_seen=msg.event_time,
                last_event=msg.event_time,
                heartbeat_s=msg.heartbeat_interval_s or self.site.heartbeat_s,
                sensor=msg.sensor_id,
                agent=msg.agent_id,
                reason=None,
            )
            if new.agent is not None:
                # a message from a space means its agent is alive again
                self._agents_online[new.agent] = True
            self._spaces[msg.space_id] = new
            self._version += 1
            visible_change = changed_state or new.count != cur.count
        if visible_change:
            self._emit([new])
        return new

    def apply_status(self, msg: AgentStatus, *, received_at: datetime) -> list[SpaceLive]:
        when = msg.event_time or received_at
        online = msg.state is AgentState.ONLINE
        changed: list[SpaceLive] = []
        with self._lock:
            self._agents_online[msg.agent_id] = online
            self._agent_since[msg.agent_id] = when
            self._version += 1
            if not online:
                for sid, cur in self._spaces.items():
                    if cur.agent == msg.agent_id and cur.state != "unknown":
                        new = replace(cur, state="unknown", since=when, reason="agent offline")
                        self._spaces[sid] = new
                        changed.append(new)
        self._emit(changed)
        return changed

    def sweep(self, now: datetime | None = None) -> list[SpaceLive]:
        """Mark spaces whose sensor has been silent too long as unknown."""
        now = now or utcnow()
        changed: list[SpaceLive] = []
        with self._lock:
            for sid, cur in self._spaces.items():
                if cur.state == "unknown" or cur.last_seen is None:
                    continue
                limit = cur.last_seen + timedelta(seconds=self.silence_factor * cur.heartbeat_s)
                if now > limit:
                    new = replace(cur, state="unknown", since=limit, reason="silent")
                    self._spaces[sid] = new
                    changed.append(new)
            if changed:
                self._version += 1
        self._emit(changed)
        return changed

    def seed(
        self, *, presence: pd.DataFrame, status: pd.DataFrame, now: datetime | None = None
    ) -> None:
        """Initial state from the store's last point per space and per agent."""
        import pandas as pd

        def _f(v: Any, default: Any = None) -> Any:
            return default if v is None or (isinstance(v, float) and math.isnan(v)) else v

        future = (now or utcnow()) + WINDOW.max_future
        offline_agents: dict[str, datetime] = {}
        for row in status.to_dict("records") if len(status) else []:
            t = pd.Timestamp(row["time"]).floor("us").to_pydatetime()
            if not int(_f(row.get("online"), 1)):
                offline_agents[str(row["agent"])] = t
        with self._lock:
            for row in presence.to_dict("records") if len(presence) else []:
                sid = str(row.get("space"))
                cur = self._spaces.get(sid)
                if cur is None:
                    continue
                t = pd.Timestamp(row["time"]).floor("us").to_pydatetime().astimezone(UTC)
                if t > future:  # outside the contract's window: would freeze the space
                    continue
                count = _f(row.get("count"))
                self._spaces[sid] = replace(
                    cur,
                    state="occupied" if int(_f(row.get("occupied"), 0)) else "free",
                    since=t,  # the true start may be earlier; the store's history has it
                    count=int(count) if count is not None else None,
                    last_seen=t,
                    last_event=t,
                    heartbeat_s=float(_f(row.get("hb"), self.site.heartbeat_s)),
                    reason=None,
                )
            for agent, t in offline_agents.items():
                self._agents_online[agent] = False
                self._agent_since[agent] = t  # offline since then (the alerts count from it)
                for sid, cur in self._spaces.items():
                    if cur.agent == agent and (cur.last_seen is None or cur.last_seen <= t):
                        self._spaces[sid] = replace(
                            cur, state="unknown", since=t, reason="agent offline"
                        )
            self._version += 1
        self.sweep(now)

    # ---- reading --------------------------------------------------------
    @property
    def version(self) -> int:
        """Changes whenever anything a snapshot shows has changed."""
        return self._version

    def snapshot_json(self, scope: LiveScope, *, at: datetime) -> str:
        """The live snapshot as JSON text: site, time, totals, floor and zone
        counts, spaces and agents, as ``scope`` may see them.

        Everything but the time is cached per scope until the board changes, so
        a hundred readers cost one serialisation per change, not one each; and a
        rebuild serialises again only the spaces that changed.
        """
        body = self._snapshots.get(scope.name)
        if body is None or body[0] != self._version:
            with self._build_lock:  # one rebuild per change, not one per waiting reader
                body = self._snapshots.get(scope.name)
                if body is None or body[0] != self._version:
                    body = self._build(scope)
                    self._snapshots[scope.name] = body
        return f'{{"site":{_dumps(self.site.id)},"at":"{_iso(at)}",{body[1]}}}'

    def _build(self, scope: LiveScope) -> tuple[int, str]:
        with self._lock:  # one consistent view of spaces, agents and version
            version = self._version
            spaces = list(self._spaces.values())
            agents = {a: True for a in self.site.agents()}
            agents.update(self._agents_online)
        totals = {"occupied": 0, "free": 0, "unknown": 0, "total": 0}
        floors: dict[str, dict[str, int]] = {}
        zones: dict[str, dict[str, int]] = {}
        shown: list[str] = []
        counted = [s for s in spaces if scope.counted is None or s.space in scope.counted]
        for s in counted:
            totals[s.state] += 1
            for counts, key in ((floors, s.floor), (zones, s.zone)):
                c = counts.get(key)
                if c is None:
                    c = counts[key] = {"occupied": 0, "free": 0, "unknown": 0, "total": 0}
                c[s.state] += 1
        for s in spaces:
            if scope.spaces is None or s.space in scope.spaces:
                frag = self._fragments.get(s.space)
                if frag is None or frag[0] is not s:  # SpaceLive is replaced on change
                    frag = (s, _dumps(s.as_json()))
                    self._fragments[s.space] = frag
                shown.append(frag[1])
        totals["total"] = len(counted)
        for groups in (floors, zones):
            for c in groups.values():
                c["total"] = c["occupied"] + c["free"] + c["unknown"]

        def visible(by: str, groups: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
            return {
                k: v for k, v in sorted(groups.items()) if scope.group_visible(by, k, v["total"])
            }

        shown_totals = totals if scope.group_visible("site", self.site.id, len(counted)) else {}
        agent_rows = (
            [{"agent": a, "online": on} for a, on in sorted(agents.items())] if scope.agents else []
        )
        body = (
            f'"totals":{_dumps(shown_totals)},"floors":{_dumps(visible("floor", floors))},'
            f'"zones":{_dumps(visible("zone", zones))},"spaces":[{",".join(shown)}],'
            f'"agents":{_dumps(agent_rows)},"warm_until":"{_iso(self.warm_until)}",'
            f'"names":{_dumps(self._names(floors, zones))}'
        )
        return version, body

    def _names(
        self, floors: dict[str, dict[str, int]], zones: dict[str, dict[str, int]]
    ) -> dict[str, dict[str, dict[str, str | None]]]:
        """The display names (fi, sv, en) of the floors and zones counted."""
        site = self.site

        def langs(thing: Any) -> dict[str, str | None]:
            return {lang: thing.name_in(lang) for lang in LANGUAGES}

        return {
            "floors": {f: langs(site.floor(f)) for f in sorted(floors)},
            "zones": {z: langs(site.zone(z)) for z in sorted(zones)},
        }

    def spaces(self) -> list[SpaceLive]:
        with self._lock:
            return list(self._spaces.values())

    def agents(self) -> dict[str, bool]:
        with self._lock:
            known = {a: True for a in self.site.agents()}
            known.update(self._agents_online)
            return known

    def agent_since(self) -> dict[str, datetime]:
        """When each agent's last status message came (offline since, for the alerts)."""
        with self._lock:
            return dict(self._agent_since)

    def counts(self, key: Literal["zone", "floor"]) -> dict[str, dict[str, int]]:
        out: dict[str, Counter[str]] = {}
        for s in self.spaces():
            c = out.setdefault(getattr(s, key), Counter())
            c[s.state] += 1
            c["total"] += 1
        return {
            k: {
                "occupied": c["occupied"],
                "free": c["free"],
                "unknown": c["unknown"],
                "total": c["total"],
            }
            for k, c in sorted(out.items())
        }


class _LoopFanout:
    """The SSE queues of one site on one event loop.

    One change costs one cross-thread wake-up of the loop, which then fills
    every queue, instead of one wake-up per client.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.queues: set[asyncio.Queue[SpaceLive]] = set()

    def push(self, item: SpaceLive) -> None:  # any thread
        # a closed loop means its clients have gone
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self._fill, item)

    def _fill(self, item: SpaceLive) -> None:  # on the loop
        for queue in self.queues:
            if not queue.full():  # a stalled client loses events, never the server
                queue.put_nowait(item)


@dataclass(eq=False)
class Subscription:
    site_id: str
    queue: asyncio.Queue[SpaceLive]
    fanout: _LoopFanout


class LiveHub:
    """The live boards of every site, plus fan-out to asyncio listeners (SSE)."""

    def __init__(self, registry: Registry, *, silence_factor: float = 2.5):
        self.boards = {s.id: LiveBoard(s, silence_factor=silence_factor) for s in registry}
        self._lock = threading.Lock()
        self._fanouts: dict[tuple[str, asyncio.AbstractEventLoop], _LoopFanout] = {}

    def board(self, site_id: str) -> LiveBoard:
        return self.boards[site_id]

    def subscribe(self, site_id: str, loop: asyncio.AbstractEventLoop) -> Subscription:
        """A queue on ``loop`` receiving every change of one site, filled from any thread."""
        queue: asyncio.Queue[SpaceLive] = asyncio.Queue(maxsize=10_000)
        with self._lock:
            fanout = self._fanouts.get((site_id, loop))
            if fanout is None:
                fanout = self._fanouts[(site_id, loop)] = _LoopFanout(loop)
                self.boards[site_id].add_listener(fanout.push)
            # the set is read on the loop; subscribing happens on the loop too
            fanout.queues.add(queue)
        return Subscription(site_id, queue, fanout)

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            sub.fanout.queues.discard(sub.queue)
            if not sub.fanout.queues:
                self.boards[sub.site_id].remove_listener(sub.fanout.push)
                self._fanouts.pop((sub.site_id, sub.fanout.loop), None)

    def sweep(self, now: datetime | None = None) -> None:
        for board in self.boards.values():
            board.sweep(now)


def apply_raw(hub: LiveHub, topics: Topics, raw: RawMessage, *, window: Window = WINDOW) -> None:
    """Decode one broker message and apply it to its site's board.

    The live view shows only what the ingest would store: the same schema,
    registry, identity and event-time checks (``core.validation``). Anything
    else is ignored here; the ingest dead-letters it. Without the time window a
    retained message dated 2099 would freeze its space, and without the
    identity check made-up agent ids would appear as agents.
    """
    try:
        parsed = topics.parse(raw.topic)
    except TopicError:
        return
    board = hub.boards.get(parsed.site)
    if board is None or parsed.kind not in _LIVE_MODELS:
        return
    try:
        msg = _LIVE_MODELS[parsed.kind].model_validate_json(raw.payload)
    except ValidationError:
        return
    now = utcnow()
    if message_problem(board.site, parsed.subject, msg, now=now, window=window) is not None:
        return
    if isinstance(msg, Presence):
        board.apply_presence(msg)
    else:
        board.apply_status(msg, received_at=raw.received_at or now)


#: What the live view reads from the broker (health reports go to the store only).
_LIVE_MODELS: dict[TopicKind, type[Presence] | type[AgentStatus]] = {
    TopicKind.PRESENCE: Presence,
    TopicKind.STATUS: AgentStatus,
}
