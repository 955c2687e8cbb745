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
import math
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError

from core.messages import AgentState, AgentStatus, Presence, RawMessage
from core.registry import Registry, Site
from core.timeutil import utcnow
from core.topics import TopicError, TopicKind, Topics

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
        d = asdict(self)
        for k in ("since", "last_seen", "last_event"):
            v = d[k]
            d[k] = v.isoformat().replace("+00:00", "Z") if v is not None else None
        return d


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
        self._emit(changed)
        return changed

    def seed(
        self, *, presence: pd.DataFrame, status: pd.DataFrame, now: datetime | None = None
    ) -> None:
        """Initial state from the store's last point per space and per agent."""
        import pandas as pd

        def _f(v: Any, default: Any = None) -> Any:
            return default if v is None or (isinstance(v, float) and math.isnan(v)) else v

        offline_agents: dict[str, datetime] = {}
        for row in status.to_dict("records") if len(status) else []:
            t = pd.Timestamp(row["time"]).to_pydatetime()
            if not int(_f(row.get("online"), 1)):
                offline_agents[str(row["agent"])] = t
        with self._lock:
            for row in presence.to_dict("records") if len(presence) else []:
                sid = str(row.get("space"))
                cur = self._spaces.get(sid)
                if cur is None:
                    continue
                t = pd.Timestamp(row["time"]).to_pydatetime().astimezone(UTC)
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
                for sid, cur in self._spaces.items():
                    if cur.agent == agent and (cur.last_seen is None or cur.last_seen <= t):
                        self._spaces[sid] = replace(
                            cur, state="unknown", since=t, reason="agent offline"
                        )
        self.sweep(now)

    # ---- reading --------------------------------------------------------
    def spaces(self) -> list[SpaceLive]:
        with self._lock:
            return list(self._spaces.values())

    def agents(self) -> dict[str, bool]:
        with self._lock:
            known = {a: True for a in self.site.agents()}
            known.update(self._agents_online)
            return known

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


class LiveHub:
    """The live boards of every site, plus fan-out to asyncio listeners (SSE)."""

    def __init__(self, registry: Registry, *, silence_factor: float = 2.5):
        self.boards = {s.id: LiveBoard(s, silence_factor=silence_factor) for s in registry}

    def board(self, site_id: str) -> LiveBoard:
        return self.boards[site_id]

    def subscribe(
        self, site_id: str, loop: asyncio.AbstractEventLoop
    ) -> tuple[asyncio.Queue[SpaceLive], Callable[[SpaceLive], None]]:
        """A queue receiving every change of one site, filled from any thread."""
        queue: asyncio.Queue[SpaceLive] = asyncio.Queue(maxsize=10_000)

        def push(item: SpaceLive) -> None:
            def _put() -> None:
                if not queue.full():  # a stalled client loses events, never the server
                    queue.put_nowait(item)

            # a closed loop means the client has gone
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_put)

        self.boards[site_id].add_listener(push)
        return queue, push

    def unsubscribe(self, site_id: str, push: Callable[[SpaceLive], None]) -> None:
        self.boards[site_id].remove_listener(push)

    def sweep(self, now: datetime | None = None) -> None:
        for board in self.boards.values():
            board.sweep(now)


def apply_raw(hub: LiveHub, topics: Topics, raw: RawMessage) -> None:
    """Decode one broker message and apply it to its site's board.

    Invalid messages are ignored here: the ingest dead-letters them; the live
    view only shows what is valid.
    """
    try:
        parsed = topics.parse(raw.topic)
    except TopicError:
        return
    board = hub.boards.get(parsed.site)
    if board is None:
        return
    try:
        if parsed.kind is TopicKind.PRESENCE:
            msg = Presence.model_validate_json(raw.payload)
            if msg.space_id == parsed.subject:
                board.apply_presence(msg)
        elif parsed.kind is TopicKind.STATUS:
            status = AgentStatus.model_validate_json(raw.payload)
            board.apply_status(status, received_at=raw.received_at or utcnow())
    except ValidationError:
        return
