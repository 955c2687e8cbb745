"""Live mode: the simulated agents publish over MQTT on a (possibly accelerated) clock.

``LiveSimulator`` runs in a background thread, so it can be embedded
(``occupancy up``) or driven by the CLI. It asks the engine for a few
simulated seconds at a time, keeps the rows in a heap by publish time and
sends each when the simulated clock reaches it. An ``agent_offline`` fault
drops that agent's connection without DISCONNECT so the broker fires its Last
Will; when the fault ends the agent reconnects and says ``online`` again.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import IO, Protocol

from core.calendar import is_closed
from core.registry import Site
from core.topics import DEFAULT_PREFIX, Topics
from simulators.engine import Engine
from simulators.layout import MS, build_layout, to_ms
from simulators.messages import OutMessage, counts_out_messages, out_messages, will_model
from simulators.scenario import Scenario
from simulators.settings import PublisherSettings
from simulators.truth import Truth, TruthCollector
from simulators.visits import counted_doors

log = logging.getLogger(__name__)

__all__ = ["LiveSimulator", "PublisherSettings", "demo_start", "event_line", "message_stream"]


class Link(Protocol):
    """One agent's broker connection (``simulators.mqtt.AgentLink``)."""

    def connect(self) -> None: ...
    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None: ...
    def crash(self) -> None: ...
    def close(self, final: tuple[str, bytes] | None = None, timeout: float = 5.0) -> None: ...


def demo_start(site: Site, now: datetime | None = None) -> datetime:
    """A start that shows activity at once: now if the site is open, else 08:30
    local on the next open day (the morning arrivals)."""
    now = (now or datetime.now(UTC)).astimezone(site.tz)
    day: date = now.date()
    for r_start, r_end in (
        site.opening_hours.ranges(day.weekday()) if not is_closed(site, day) else []
    ):
        if r_start <= now.time() < r_end:
            return now.astimezone(UTC)
    for _ in range(30):
        day = day + timedelta(days=1)
        if not is_closed(site, day):
            return datetime.combine(day, dtime(8, 30), tzinfo=site.tz).astimezone(UTC)
    return now.astimezone(UTC)


class LiveSimulator:
    """Simulated agents publishing the contract live.

    ``speed``: simulated seconds per wall second. ``start``: simulated start
    (default: now). ``shift_to_now``: publish times as if ``start`` were the
    moment ``start()`` was called (a demo can run a working morning at night).
    ``end``: stop by itself at this simulated time. ``events_out``: a file that
    receives every message as a JSON line (deterministic for a seed and start).
    """

    def __init__(
        self,
        site: Site,
        scenario: Scenario,
        settings: PublisherSettings,
        *,
        speed: float = 1.0,
        start: datetime | None = None,
        end: datetime | None = None,
        shift_to_now: bool = False,
        events_out: IO[str] | None = None,
        window_s: float = 5.0,
        link_factory: Callable[..., Link] | None = None,
    ):
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.site = site
        self.scenario = scenario
        self.settings = settings
        self.speed = speed
        self.layout = build_layout(site, scenario)
        self.topics = Topics(settings.topic_prefix)
        self.start_at = start or datetime.now(UTC)
        self.start_ms = to_ms(self.start_at)
        self.end_ms = to_ms(end) if end is not None else None
        self.shift_to_now = shift_to_now
        self.events_out = events_out
        self.window_ms = max(1000, round(window_s * speed * MS))
        self.engine = Engine(self.layout, self.start_ms)
        self.collector = TruthCollector(self.layout, self.start_ms, self.end_ms or 2**62)
        self.sent: Counter[str] = Counter()
        self._heap: list[tuple[int, int, OutMessage]] = []
        self._tiebreak = itertools.count()
        self._events: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._wall0 = 0.0
        self._shift_ms = 0
        self._down: set[str] = set()
        self._link_factory = link_factory
        self.links: dict[str, Link] = {}
        self.error: BaseException | None = None

    # ------------------------------------------------------------- control
    def start(self) -> None:
        """Connect the agents and start publishing in a background thread."""
        if self._thread is not None:
            raise RuntimeError("already started")
        # the door counters' agents (simulators.visits) publish counts only
        own = set(self.layout.agent_ids)
        doors = [d.agent for d in counted_doors(self.layout) if d.agent not in own]
        for agent in [*self.layout.agent_ids, *dict.fromkeys(doors)]:
            self.links[agent] = self._make_link(agent)
            self._link(agent).connect()
        self._wall0 = time.monotonic()
        if self.shift_to_now:
            self._shift_ms = to_ms(datetime.now(UTC)) - self.start_ms
        self._thread = threading.Thread(target=self._run, name="occupancy-sim", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop publishing; each agent says ``offline`` (retained) and disconnects."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        for agent in self.links:
            if agent not in self._down:
                self._link(agent).close(
                    (
                        self.topics.status(self.site.id, agent),
                        will_model(agent).model_dump_json().encode(),
                    )
                )

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def sim_now_ms(self) -> int:
        return self.start_ms + round((time.monotonic() - self._wall0) * self.speed * MS)

    def truth(self) -> Truth:
        """Truth of the days simulated so far (clipped to the start)."""
        return self.collector.truth(self.engine.series, end_ms=self.sim_now_ms())

    def crash_agent(self, agent_id: str) -> None:
        """Make an agent go offline now (its Last Will fires) until ``revive_agent``."""
        self._events.put((agent_id, "crash"))

    def revive_agent(self, agent_id: str) -> None:
        self._events.put((agent_id, "revive"))

    # ------------------------------------------------------------ internals
    def _make_link(self, agent: str) -> Link:
        from simulators.mqtt import AgentLink

        s = self.settings
        factory = self._link_factory or AgentLink
        return factory(
            agent_id=agent,
            client_id=f"{s.client_id_prefix}-{self.site.id}-{agent}"[:120],
            url=s.broker_url,
            protocol=s.mqtt_protocol,
            will_topic=self.topics.status(self.site.id, agent),
            will_payload=will_model(agent).model_dump_json().encode(),
            qos=s.qos,
            keepalive_s=s.keepalive_s,
            username=s.mqtt_username,
            password=s.mqtt_password.get_secret_value() if s.mqtt_password else None,
            ca_file=str(s.mqtt_ca_file) if s.mqtt_ca_file else None,
            max_inflight=s.max_inflight,
            on_event=lambda a, what: self._events.put((a, what)),
        )

    def _link(self, agent: str) -> Link:
        return self.links[agent]

    def _run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # the thread must not die silently
            self.error = exc
            log.exception("simulator stopped by an error")

    def _loop(self) -> None:
        connects: Counter[str] = Counter()
        while not self._stop.is_set():
            now = self.sim_now_ms()
            if self.end_ms is not None and now >= self.end_ms and not self._heap:
                break
            horizon = now + self.window_ms
            if self.end_ms is not None:
                horizon = min(horizon, self.end_ms)
            if self.engine.cursor < horizon:
                for plan, batch, t0, t1 in self.engine.windows(horizon):
                    self.collector.add(plan)
                    for msg in itertools.chain(
                        out_messages(self.layout, plan, batch, self.topics, self.start_ms),
                        counts_out_messages(self.layout, plan, t0, t1, self.topics),
                    ):
                        heapq.heappush(self._heap, (msg.pub_ms, next(self._tiebreak), msg))
            while True:
                try:
                    agent, what = self._events.get_nowait()
                except queue.Empty:
                    break
                if what == "connected":
                    connects[agent] += 1
                    if connects[agent] > 1 and agent not in self._down:
                        # back after a broker outage: the retained status says offline
                        self._send_status_online(agent)
                elif what == "crash":
                    self._crash(agent)
                elif what == "revive":
                    self._revive(agent, self.sim_now_ms())
            while self._heap and self._heap[0][0] <= now:
                _, _, msg = heapq.heappop(self._heap)
                self._deliver(msg)
            wait_ms = (self._heap[0][0] - now) if self._heap else self.window_ms
            self._stop.wait(min(0.2, max(0.001, wait_ms / MS / self.speed)))

    def _deliver(self, msg: OutMessage) -> None:
        if self.events_out is not None:
            self.events_out.write(event_line(msg))
        payload = self._shift(msg.payload) if self._shift_ms else msg.payload
        if msg.kind == "offline":
            self._crash(msg.agent)
            return
        if msg.kind == "status" and msg.agent in self._down:
            self._revive(msg.agent, msg.pub_ms, payload)
            return
        if msg.agent in self._down:
            return
        self._link(msg.agent).publish(msg.topic, payload, retain=msg.retain)
        self.sent[msg.kind] += 1

    def _crash(self, agent: str) -> None:
        if agent in self._down:
            return
        self._down.add(agent)
        self._link(agent).crash()
        self.sent["offline"] += 1

    def _revive(self, agent: str, at_ms: int, payload: bytes | None = None) -> None:
        self._down.discard(agent)
        link = self._make_link(agent)
        self.links[agent] = link
        link.connect()
        if payload is None:
            self._send_status_online(agent, at_ms)
        else:
            link.publish(self.topics.status(self.site.id, agent), payload, retain=True)
            self.sent["status"] += 1

    def _send_status_online(self, agent: str, at_ms: int | None = None) -> None:
        from core.messages import AgentState, AgentStatus
        from simulators.layout import from_ms

        when = from_ms((at_ms or self.sim_now_ms()) + self._shift_ms)
        msg = AgentStatus(agent_id=agent, state=AgentState.ONLINE, event_time=when)
        self._link(agent).publish(
            self.topics.status(self.site.id, agent), msg.model_dump_json().encode(), retain=True
        )
        self.sent["status"] += 1

    def _shift(self, payload: bytes) -> bytes:
        """Move the payload's times by the demo shift (re-validated by the model)."""
        import json

        from simulators.layout import from_ms

        doc = json.loads(payload)
        for key in ("event_time",):
            if doc.get(key):
                t = datetime.fromisoformat(doc[key].replace("Z", "+00:00"))
                doc[key] = from_ms(to_ms(t) + self._shift_ms).isoformat().replace("+00:00", "Z")
        for s in doc.get("sensors", []):
            if s.get("last_seen"):
                t = datetime.fromisoformat(s["last_seen"].replace("Z", "+00:00"))
                s["last_seen"] = (
                    from_ms(to_ms(t) + self._shift_ms).isoformat().replace("+00:00", "Z")
                )
        return json.dumps(doc, separators=(",", ":")).encode()


def write_events(path: Path) -> IO[str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("w", encoding="utf-8")


def message_stream(
    site: Site, scenario: Scenario, start: datetime, end: datetime, *, prefix: str = DEFAULT_PREFIX
) -> list[OutMessage]:
    """Every message of [start, end) in publish order, without a broker (for
    event dumps and tests; the live mode sends the same messages)."""
    layout = build_layout(site, scenario)
    topics = Topics(prefix)
    lo, hi = to_ms(start), to_ms(end)
    engine = Engine(layout, lo)
    heap: list[tuple[int, int, OutMessage]] = []
    tiebreak = itertools.count()
    for plan, batch, t0, t1 in engine.windows(hi):
        for msg in itertools.chain(
            out_messages(layout, plan, batch, topics, lo),
            counts_out_messages(layout, plan, t0, t1, topics),
        ):
            heapq.heappush(heap, (msg.pub_ms, next(tiebreak), msg))
    return [heapq.heappop(heap)[2] for _ in range(len(heap))]


def event_line(msg: OutMessage) -> str:
    """One JSON line per message (the format of ``--events``)."""
    return (
        f'{{"pub":{msg.pub_ms},"kind":"{msg.kind}","topic":"{msg.topic}",'
        f'"retain":{str(msg.retain).lower()},"payload":{msg.payload.decode()}}}\n'
    )
