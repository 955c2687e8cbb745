"""The edge agent: drivers -> presence logic -> outbox -> broker.

One main loop owns all state (trackers, outbox, in-flight table). Drivers and
paho callbacks only put items on ``self.events``; the loop takes them off,
decides, writes the outbox first and then publishes. At most ``max_inflight``
outbox rows are handed to paho at once, so paho's own queue never becomes a
second, volatile store; after every (re)connection the loop sends everything
still in the outbox again, oldest first. With ``outbox.confirm`` a row leaves
the outbox when the ingest confirms it stored, not on the broker's PUBACK
(``edge.confirm``).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.broker_url import parse_broker_url
from core.messages import AgentHealth, AgentState, AgentStatus, EntranceCounts, Presence
from core.timeutil import utcnow
from core.topics import Topics
from edge import __version__
from edge.config import AgentConfig, Secrets
from edge.confirm import Confirmations
from edge.discovery import discovery_messages
from edge.drivers import DRIVERS, Driver, Reading
from edge.drivers.base import CounterReading
from edge.drivers.chirpstack import ChirpStackCounterConfig, ChirpStackCounters, UplinkProblem
from edge.drivers.simulated_counter import SimulatedCounter, SimulatedCounterConfig
from edge.drivers.zigbee2mqtt import Zigbee2MqttDriver
from edge.health import SensorStatus, build_health
from edge.mqtt import Acked, Connected, Disconnected, Endpoint, Incoming, LinkEvent, MqttLink
from edge.outbox import Outbox
from edge.presence import PresenceTracker, StateEvent

log = logging.getLogger(__name__)

MAIN = "broker"
BRIDGE = "zigbee2mqtt"
CHIRPSTACK = "chirpstack"
# Say so in the log when uplinks cannot be read, at most this often per device (s).
UPLINK_WARN_EVERY_S = 300.0
EXPIRE_EVERY = timedelta(seconds=60)
# Say so in the log when confirmations stop coming, at most this often (s).
CONFIRM_WARN_EVERY_S = 300.0


@dataclass
class _Settle:
    """What one turn of the loop learnt about outbox rows (applied in one transaction)."""

    acked: list[int] = field(default_factory=list)
    confirmed: list[tuple[int, int]] = field(default_factory=list)


class EdgeAgent:
    def __init__(
        self,
        config: AgentConfig,
        secrets: Secrets | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
        driver_options: Mapping[str, Mapping[str, Any]] | None = None,
        version: str = __version__,
    ):
        self.config = config
        self.secrets = secrets or Secrets()
        self.clock = clock
        self.version = version
        self.topics = Topics(config.topic_prefix)
        self.events: queue.Queue[LinkEvent | Reading] = queue.Queue()
        self.outbox = Outbox(
            config.outbox.path,
            max_events=config.outbox.max_events,
            max_age_s=config.outbox.max_age_s,
        )
        self.trackers: dict[str, PresenceTracker] = {}
        self.status: dict[str, SensorStatus] = {}
        self.space_of: dict[str, str] = {}
        self.drivers: list[Driver] = []
        self._bridge_routes: dict[str, Zigbee2MqttDriver] = {}
        options = driver_options or {}
        for sensor in config.sensors:
            _, driver_cls = DRIVERS[sensor.type]
            kwargs = dict(options.get(sensor.type, {}))
            if driver_cls is Zigbee2MqttDriver:
                assert config.zigbee2mqtt is not None
                kwargs["base_topic"] = config.zigbee2mqtt.base_topic
            driver = driver_cls(sensor, self.events.put, clock, **kwargs)
            self.drivers.append(driver)
            if isinstance(driver, Zigbee2MqttDriver):
                for topic in driver.topics():
                    self._bridge_routes[topic] = driver
            self.trackers[sensor.id] = PresenceTracker(
                debounce_s=sensor.debounce_s, hold_s=sensor.hold_s, heartbeat_s=config.heartbeat_s
            )
            self.status[sensor.id] = SensorStatus(sensor.id, sensor.space)
            self.space_of[sensor.id] = sensor.space
        # Home Assistant discovery (off by default): sent on every connect, retained
        self.discovery = discovery_messages(
            config=config.home_assistant,
            topics=self.topics,
            site=config.site,
            agent_id=config.agent_id,
            spaces=[s.space for s in config.sensors],
            heartbeat_s=config.heartbeat_s,
            version=version,
        )
        self.confirms: Confirmations | None = None
        self._stored_topic = self.topics.stored(config.site, config.agent_id)
        if config.outbox.confirm:
            self.confirms = Confirmations(
                agent_id=config.agent_id, timeout_s=config.outbox.confirm_timeout_s
            )
        self.link = MqttLink(
            MAIN,
            self._main_endpoint(),
            config.broker.client_id or f"occupancy-edge-{config.agent_id}",
            self.events,
            will=(self._status_topic, self._status_payload(AgentState.OFFLINE)),
            subscriptions=[self._stored_topic] if self.confirms else None,
        )
        self.counters = ChirpStackCounters(
            [c for c in config.counters if isinstance(c, ChirpStackCounterConfig)]
        )
        self.simulated_counters = [
            SimulatedCounter(c, clock())
            for c in config.counters
            if isinstance(c, SimulatedCounterConfig)
        ]
        self.lora: MqttLink | None = None
        if self.counters.by_eui:
            assert config.chirpstack is not None
            self.lora = MqttLink(
                CHIRPSTACK,
                self._chirpstack_endpoint(),
                f"occupancy-edge-{config.agent_id}-chirpstack",
                self.events,
                subscriptions=[config.chirpstack.uplink_filter()],
            )
        self.uplink_problems = 0
        self.counts_enqueued = 0
        self._uplink_warned: dict[str, float] = {}
        self.bridge: MqttLink | None = None
        if self._bridge_routes:
            self.bridge = MqttLink(
                BRIDGE,
                self._bridge_endpoint(),
                f"occupancy-edge-{config.agent_id}-z2m",
                self.events,
                subscriptions=sorted(self._bridge_routes),
            )
        self.inflight: dict[int, int] = {}
        self._last_sent_id = 0
        # an overdue pass (edge.confirm): rows up to this seq, after this row id
        self._resend_upto: int | None = None
        self._resend_after = 0
        self._started_mono = time.monotonic()
        self._next_health: datetime | None = None
        self._next_expire: datetime | None = None
        self.enqueued = 0
        self.acked = 0
        self.published = 0
        self.resent = 0
        self.confirmed = 0
        self._confirm_warned = time.monotonic()
        self._offline_since = time.monotonic()
        self._offline_warned = 0.0

    # ---- set-up ----------------------------------------------------------
    def _main_endpoint(self) -> Endpoint:
        b = self.config.broker
        return Endpoint(
            host=b.host,
            port=b.port,
            tls=b.tls,
            ca_file=str(b.ca_file) if b.ca_file else None,
            client_cert=str(b.client_cert) if b.client_cert else None,
            client_key=str(b.client_key) if b.client_key else None,
            username=b.username,
            password=self.secrets.broker_password,
            keepalive_s=b.keepalive_s,
            reconnect_max_s=b.reconnect_max_s,
        )

    def _bridge_endpoint(self) -> Endpoint:
        z = self.config.zigbee2mqtt
        assert z is not None
        addr = parse_broker_url(z.url)
        return Endpoint(
            host=addr.host,
            port=addr.port,
            tls=addr.tls,
            ca_file=z.ca_file,
            username=z.username,
            password=self.secrets.zigbee_password,
            keepalive_s=self.config.broker.keepalive_s,
            reconnect_max_s=self.config.broker.reconnect_max_s,
        )

    def _chirpstack_endpoint(self) -> Endpoint:
        c = self.config.chirpstack
        assert c is not None
        addr = parse_broker_url(c.url)
        return Endpoint(
            host=addr.host,
            port=addr.port,
            tls=addr.tls,
            ca_file=c.ca_file,
            username=c.username,
            password=self.secrets.chirpstack_password,
            keepalive_s=self.config.broker.keepalive_s,
            reconnect_max_s=self.config.broker.reconnect_max_s,
        )

    @property
    def _status_topic(self) -> str:
        return self.topics.status(self.config.site, self.config.agent_id)

    def _status_payload(self, state: AgentState, at: datetime | None = None) -> bytes:
        msg = AgentStatus(agent_id=self.config.agent_id, state=state, event_time=at)
        return msg.model_dump_json(exclude_none=True).encode()

    # ---- life cycle --------------------------------------------------------
    def start(self) -> None:
        self._started_mono = time.monotonic()
        self.link.start()
        if self.bridge is not None:
            self.bridge.start()
        if self.lora is not None:
            self.lora.start()
        for driver in self.drivers:
            driver.start()

    def run(self, stop: threading.Event) -> None:
        self.start()
        try:
            while not stop.is_set():
                self.run_once(self.config.tick_s)
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        for driver in self.drivers:
            try:
                driver.stop()
            except Exception:
                log.exception("driver %s did not stop cleanly", driver.sensor_id)
        if self.bridge is not None:
            self.bridge.stop()
        if self.lora is not None:
            self.lora.stop()
        # a clean stop says offline itself: a clean disconnect suppresses the Last Will
        self.link.stop(
            last=(self._status_topic, self._status_payload(AgentState.OFFLINE, self.clock()))
        )
        self.outbox.close()

    # ---- the loop ----------------------------------------------------------
    def run_once(self, timeout: float = 0.0) -> None:
        """Handle what arrived (waiting up to ``timeout`` s for the first item), tick, send."""
        settle = _Settle()
        self._drain(settle, timeout)
        now = self.clock()
        for driver in self.drivers:
            driver.poll(now)
        for counter in self.simulated_counters:
            for reading in counter.poll(now):
                self._enqueue_counts(reading)
        # readings the polls just produced are handled before the timers run
        self._drain(settle, 0.0)
        self._settle(settle)
        self._timers(now)
        self.pump()

    def _settle(self, settle: _Settle) -> None:
        self.acked += len(settle.acked)
        if self.confirms is None:
            self.outbox.ack(settle.acked)
        else:
            self.confirmed += self.outbox.settle(settle.acked, settle.confirmed)

    def _drain(self, settle: _Settle, timeout: float) -> None:
        try:
            item = self.events.get(timeout=timeout) if timeout > 0 else self.events.get_nowait()
            while True:
                self._handle(item, settle)
                item = self.events.get_nowait()
        except queue.Empty:
            pass

    def _handle(self, item: LinkEvent | Reading, settle: _Settle) -> None:
        if isinstance(item, Reading):
            self._on_reading(item)
        elif isinstance(item, Acked):
            row_id = self.inflight.pop(item.mid, None)
            if row_id is not None:
                settle.acked.append(row_id)
        elif isinstance(item, Incoming):
            if item.link == MAIN:
                if self.confirms is not None and item.topic == self._stored_topic:
                    settle.confirmed.extend(self.confirms.take(item.payload))
                return
            if item.link == CHIRPSTACK:
                self._on_uplink(item)
                return
            driver = self._bridge_routes.get(item.topic)
            if driver is not None:
                driver.handle(item.topic, item.payload, item.received_at)
        elif isinstance(item, Connected):
            if item.link == MAIN:
                log.info(
                    "connected to %s; outbox holds %d event(s)",
                    self.config.broker.url,
                    self.outbox.depth,
                )
                for topic, payload in self.discovery:
                    self.link.publish(topic, payload, qos=1, retain=True)
                self.link.publish(
                    self._status_topic,
                    self._status_payload(AgentState.ONLINE, self.clock()),
                    qos=1,
                    retain=True,
                )
                # whatever was in flight may or may not have arrived, and a broker
                # back from a crash may have lost what it acknowledged: send it all again
                self.inflight.clear()
                self._last_sent_id = 0
                self._resend_upto = None
                if self.confirms is not None:
                    self.confirms.reconnected()
                self._offline_warned = 0.0
        elif isinstance(item, Disconnected):
            if item.link == MAIN:
                self._offline_since = time.monotonic()
            log.warning(
                "%s connection lost (%s); events are kept in the outbox", item.link, item.reason
            )

    def _on_uplink(self, item: Incoming) -> None:
        """A ChirpStack uplink: counts into the outbox; an unreadable or unknown
        one is logged (at most every UPLINK_WARN_EVERY_S per topic) and counted,
        and the agent carries on."""
        try:
            reading = self.counters.handle(item.topic, item.payload, item.received_at)
        except UplinkProblem as exc:
            self.uplink_problems += 1
            mono = time.monotonic()
            last = self._uplink_warned.get(item.topic)
            if last is None or mono - last >= UPLINK_WARN_EVERY_S:
                if len(self._uplink_warned) > 1000:  # topics are the network's to choose
                    self._uplink_warned.clear()
                self._uplink_warned[item.topic] = mono
                log.warning("uplink not used: %s (%d so far)", exc, self.uplink_problems)
            return
        if reading is not None:
            self._enqueue_counts(reading)

    def _enqueue_counts(self, reading: CounterReading) -> None:
        cfg = self.config

        def build(seq: int) -> bytes:
            msg = EntranceCounts(
                entrance_id=reading.entrance,
                agent_id=cfg.agent_id,
                sensor_id=reading.sensor_id,
                in_count=reading.in_count,
                out_count=reading.out_count,
                interval_s=reading.interval_s,
                event_time=reading.at,
                seq=seq,
                total_in=reading.total_in,
                total_out=reading.total_out,
                heartbeat_interval_s=reading.interval_s,
            )
            return msg.model_dump_json(exclude_none=True).encode()

        self.outbox.append(self.topics.counts(cfg.site, reading.entrance), reading.at, build)
        self.counts_enqueued += 1

    def _on_reading(self, reading: Reading) -> None:
        self.status[reading.sensor_id].update(reading)
        tracker = self.trackers[reading.sensor_id]
        for event in tracker.observe(reading.at, reading.active, reading.people):
            self._enqueue(reading.sensor_id, event)

    def _timers(self, now: datetime) -> None:
        if not self.link.connected:
            away = time.monotonic() - self._offline_since
            # paho retries quietly; say so in the log now and then, with what is waiting
            if away >= 30 and away - self._offline_warned >= 300:
                self._offline_warned = away
                log.warning(
                    "broker %s unreachable for %.0f s; %d event(s) wait in the outbox",
                    self.config.broker.url,
                    away,
                    self.outbox.depth,
                )
        for sensor_id, tracker in self.trackers.items():
            for event in tracker.tick(now):
                self._enqueue(sensor_id, event)
        if self._next_expire is None or now >= self._next_expire:
            self._next_expire = now + EXPIRE_EVERY
            self.outbox.expire(now)
        if self.confirms is not None and self.link.connected:
            self._confirm_timers()
        if self._next_health is None:
            self._next_health = now
        if now >= self._next_health and self.link.connected:
            self._next_health = now + timedelta(seconds=self.config.health_s)
            self.link.publish(
                self.topics.health(self.config.site, self.config.agent_id),
                self.health(now).model_dump_json(exclude_none=True).encode(),
                qos=1,
            )

    def _confirm_timers(self) -> None:
        confirms = self.confirms
        assert confirms is not None
        upto = confirms.overdue()
        if upto is not None:
            if self._resend_upto is None:
                self._resend_after = 0
            self._resend_upto = max(upto, self._resend_upto or 0)
        mono = time.monotonic()
        quiet = mono - (confirms.last_at or self._started_mono)
        if quiet >= 2 * confirms.timeout_s and mono - self._confirm_warned >= CONFIRM_WARN_EVERY_S:
            self._confirm_warned = mono
            waiting = self.outbox.unconfirmed
            if waiting:
                log.warning(
                    "no confirmation from the ingest for %.0f s: %d event(s) the broker "
                    "acknowledged wait in the outbox (is the ingest running with confirmations "
                    "on, and may it write %s?)",
                    quiet,
                    waiting,
                    self._stored_topic,
                )

    def health(self, now: datetime) -> AgentHealth:
        return build_health(
            agent_id=self.config.agent_id,
            now=now,
            version=self.version,
            uptime_s=time.monotonic() - self._started_mono,
            outbox_depth=self.outbox.depth,
            outbox_dropped=self.outbox.dropped,
            outbox_unconfirmed=self.outbox.unconfirmed,
            outbox_dropped_unconfirmed=self.outbox.dropped_acked,
            sensors=list(self.status.values()),
        )

    def _enqueue(self, sensor_id: str, event: StateEvent) -> None:
        space = self.space_of[sensor_id]
        cfg = self.config

        def build(seq: int) -> bytes:
            msg = Presence(
                space_id=space,
                agent_id=cfg.agent_id,
                sensor_id=sensor_id,
                occupied=event.occupied,
                people_count=event.people,
                event_time=event.at,
                seq=seq,
                kind=event.kind,
                heartbeat_interval_s=cfg.heartbeat_s,
            )
            return msg.model_dump_json(exclude_none=True).encode()

        self.outbox.append(self.topics.presence(cfg.site, space), event.at, build)
        self.enqueued += 1

    def pump(self) -> None:
        """Hand the oldest unsent rows to paho, keeping at most max_inflight unacknowledged;
        overdue rows (``edge.confirm``) go first."""
        if not self.link.connected:
            return
        room = self.config.outbox.max_inflight - len(self.inflight)
        if self._resend_upto is not None and room > 0:
            room = self._resend(room)
        while room > 0:
            rows = self.outbox.pending(after_id=self._last_sent_id, limit=room)
            if not rows:
                return
            for row in rows:
                mid = self.link.publish(row.topic, row.payload, qos=1)
                if mid is None:
                    return
                self.published += 1
                self.inflight[mid] = row.id
                self._last_sent_id = row.id
                room -= 1

    def _resend(self, room: int) -> int:
        """Send overdue rows again, oldest first; returns the room left (0: paho refused)."""
        busy = set(self.inflight.values())
        upto = self._resend_upto
        while room > 0:
            rows = self.outbox.pending(after_id=self._resend_after, limit=room, max_seq=upto)
            for row in rows:
                if row.id > self._last_sent_id:  # not sent yet: the ordinary pass takes it
                    rows = []
                    break
                self._resend_after = row.id
                if row.id in busy:
                    continue
                mid = self.link.publish(row.topic, row.payload, qos=1)
                if mid is None:
                    return 0
                self.published += 1
                self.resent += 1
                self.inflight[mid] = row.id
                room -= 1
            if not rows:
                self._resend_upto = None
                break
        return room
