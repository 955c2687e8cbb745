"""The alert engine in the API process: on every tick it snapshots the live
hub, evaluates the rules (``alerts.evaluate``, pure), records the transitions,
publishes them as events to the app's sink (the webhook outbox), updates the
metrics and, once per digest period, sends the e-mails.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import sessionmaker

from alerts import records
from alerts.digest import Digest, Mail, compose
from alerts.evaluate import Key, Reading, Track, Transition, evaluate
from alerts.mail import MailError
from alerts.metrics import AlertMetrics
from alerts.observe import Sample, SiteView, coverage_pct, known_pct, readings, trim
from alerts.rules import UNITS, Kind, Rule
from api.live import LiveHub
from core.registry import Registry, Site
from core.timeutil import utcnow
from webhooks.events import SENSOR_ALERT, SENSOR_RESOLVED, Event, EventSink

log = logging.getLogger(__name__)

MAX_HELD_ENTRIES = 5000  # transitions kept for the next period while SMTP is down


class Mailer(Protocol):  # what the engine needs of alerts.mail.SmtpMailer
    def send(self, mails: Sequence[Mail]) -> None: ...


class AlertEngine:
    def __init__(
        self,
        *,
        registry: Registry,
        hub: LiveHub,
        sessions: sessionmaker,
        events: Callable[[], EventSink],
        file_rules: Sequence[Rule],
        metrics: AlertMetrics,
        digest_s: float,
        mailer: Mailer | None = None,
        batteries: Callable[[Site], Mapping[str, float]] | None = None,
        summariser_lag: Callable[[str, datetime], float | None] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.registry = registry
        self.hub = hub
        self.sessions = sessions
        self.events = events
        self.file_rules = {r.id: r for r in file_rules}
        self.metrics = metrics
        self.mailer = mailer
        self.batteries = batteries
        self.summariser_lag = summariser_lag
        self.clock = clock
        self.digest = Digest(period_s=digest_s)
        self.state: dict[Key, Track] = {}
        self.coverage: dict[tuple[str, str], list[Sample]] = {}
        self.lock = threading.Lock()  # one tick at a time (thread and tests)
        self._resume()

    def _resume(self) -> None:
        # open alerts stay open across a restart: they must not fire again
        with self.sessions() as session:
            for a in records.open_alerts(session):
                self.state[(a.rule, a.site, a.subject)] = Track(True, None, a.value)
            self.metrics.set_open((a.site, a.kind) for a in records.open_alerts(session))

    def rules(self) -> dict[str, Rule]:
        with self.sessions() as session:
            made = records.api_rules(session)
        # the file's rules win: the API refuses their ids anyway
        return {**{r.id: r for r in made}, **self.file_rules}

    # ---- one tick ------------------------------------------------------------
    def tick(self, now: datetime | None = None) -> list[Transition]:
        with self.lock:
            now = now or self.clock()
            rules = self.rules()
            found = self._readings(rules, now)
            self.state, transitions = evaluate(
                rules=rules, readings=found, state=self.state, now=now
            )
            if transitions:
                self._record(transitions, rules)
            self.digest.add(transitions, rules, now=now)
            if self.digest.due(now):
                self._send_digest(now)
            self.metrics.last_tick.set(now.timestamp())
            return transitions

    def _readings(self, rules: Mapping[str, Rule], now: datetime) -> list[Reading]:
        active = [r for r in rules.values() if r.enabled]
        out: list[Reading] = []
        for site in self.registry:
            mine = [r for r in active if r.site in (None, site.id)]
            if not mine:
                continue
            view = self._view(site, mine, now)
            for rule in mine:
                out.extend(readings(rule, view, now=now))
        return out

    def _view(self, site: Site, rules: Sequence[Rule], now: datetime) -> SiteView:
        board = self.hub.board(site.id)
        spaces = board.spaces()
        kinds = {r.kind for r in rules}
        batteries: Mapping[str, float] = {}
        if Kind.BATTERY_LOW in kinds and self.batteries is not None:
            batteries = self.batteries(site)
        coverage: dict[str, float] = {}
        windows = [r.window_h for r in rules if r.kind is Kind.ZONE_COVERAGE]
        if windows:
            coverage = self._sample_coverage(site, spaces, now, timedelta(hours=max(windows)))
        lag = self.summariser_lag(site.id, now) if self.summariser_lag is not None else None
        return SiteView(
            site=site,
            spaces=spaces,
            agents=board.agents(),
            agent_since=board.agent_since(),
            batteries=batteries,
            coverage=coverage,
            summariser_lag_s=lag,
        )

    def _sample_coverage(
        self, site: Site, spaces: Sequence[Any], now: datetime, window: timedelta
    ) -> dict[str, float]:
        out = {}
        for zone, pct in known_pct(spaces).items():
            samples = self.coverage.setdefault((site.id, zone), [])
            if not samples or samples[-1][1] != pct:  # a sample holds until the next
                samples.append((now, pct))
            samples[:] = trim(samples, now=now, window=window)
            value = coverage_pct(samples, now=now, window=window)
            if value is not None:
                out[zone] = value
        return out

    # ---- acting on transitions ----------------------------------------------
    def _record(self, transitions: Sequence[Transition], rules: Mapping[str, Rule]) -> None:
        kinds = {rid: r.kind.value for rid, r in rules.items()}
        with self.sessions() as session:
            ids = records.record(session, transitions, kinds)
            self.metrics.set_open((a.site, a.kind) for a in records.open_alerts(session))
        sink = self.events()
        for t, alert_id in zip(transitions, ids, strict=True):
            rule = rules.get(t.rule)
            kind = rule.kind.value if rule is not None else kinds.get(t.rule, "")
            self.metrics.transitions.labels(t.site, kind, t.change).inc()
            if rule is not None and not rule.webhook:
                continue
            try:
                sink.publish(_event(t, alert_id, rule))
                self.metrics.notifications.labels("webhook", "published").inc()
            except Exception:  # a faulty sink must not stop the evaluation
                log.exception("publishing alert event failed")
                self.metrics.notifications.labels("webhook", "failed").inc()

    def _send_digest(self, now: datetime) -> None:
        start, entries = self.digest.take()
        if not entries or self.mailer is None:
            return
        mails = compose(entries, registry=self.registry, start=start or now, end=now)
        try:
            self.mailer.send(mails)
        except MailError as exc:
            log.warning("%s; the %d message(s) are tried again next period", exc, len(mails))
            self.metrics.notifications.labels("email", "failed").inc(len(mails))
            # held for the next period, the newest kept when SMTP stays down
            self.digest.pending[:0] = entries[-MAX_HELD_ENTRIES:]
            self.digest.start = now
            return
        self.metrics.notifications.labels("email", "sent").inc(len(mails))


def _event(t: Transition, alert_id: int | None, rule: Rule | None) -> Event:
    data: dict[str, Any] = {
        "alert_id": alert_id,
        "rule": t.rule,
        "subject": t.subject,
        "value": t.value,
        "context": dict(t.context),
    }
    if rule is not None:
        data.update(kind=rule.kind.value, unit=UNITS[rule.kind], threshold=rule.threshold)
    return Event(
        type=SENSOR_ALERT if t.change == "fired" else SENSOR_RESOLVED,
        site=t.site,
        occurred_at=t.at,
        data=data,
        agency=t.agency,
    )


class AlertThread(threading.Thread):
    """Runs a tick every ``tick_s`` seconds until stopped."""

    def __init__(self, engine: AlertEngine, tick_s: float):
        super().__init__(name="api-alerts", daemon=True)
        self.engine = engine
        self.tick_s = tick_s
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.tick_s):
            try:
                self.engine.tick()
            except Exception:  # a bug or a database hiccup must not end the alerts
                log.exception("alert evaluation failed")

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=10)
