"""The alert engine's place in the API process: built from the settings at
start-up (a bad rules file stops the start with its line and field), run on a
background thread during the app's lifespan."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from alerts.config import AlertSettings
from alerts.engine import AlertEngine, AlertThread
from alerts.metrics import default_metrics
from alerts.rules import Rule, check_rules, load_rules
from core.registry import Registry


def file_rules(settings: AlertSettings, registry: Registry) -> list[Rule]:
    """The rules file's rules, checked against the registry; raises ``ConfigError``."""
    rules = load_rules(settings.rules)
    check_rules(rules, registry, settings.rules)
    return rules


def summariser_lag(summariser: Any) -> Callable[[str, datetime], float | None] | None:
    """Per site, seconds since the in-process summariser first saw it dirty
    (the ``summaries_lag_seconds`` rule, per site); None without one."""
    if summariser is None:
        return None
    inner = summariser.summariser

    def lag(site_id: str, now: datetime) -> float | None:
        since = inner.dirty_since.get(site_id)
        # dirty_since holds wall-clock seconds (time.time()), as now.timestamp() does
        return 0.0 if since is None else max(0.0, now.timestamp() - since)

    return lag


def start(ctx: Any, rules: list[Rule], *, summariser: Any) -> AlertThread | None:
    """Build the engine on ``ctx`` (``ctx.alerts``) and start its thread."""
    settings: AlertSettings = ctx.settings.alerts
    if not settings.enabled:
        return None
    from api.health import last_batteries

    mailer = None
    if settings.smtp_host:
        from alerts.mail import SmtpMailer

        mailer = SmtpMailer(settings)
    engine = AlertEngine(
        registry=ctx.registry,
        hub=ctx.hub,
        sessions=ctx.sessions,
        events=lambda: ctx.events,  # read on each tick: the sink may be set after start
        file_rules=rules,
        metrics=default_metrics(),
        digest_s=settings.digest_s,
        mailer=mailer,
        batteries=lambda site: last_batteries(ctx.store, site),
        summariser_lag=summariser_lag(summariser),
    )
    ctx.alerts = engine
    thread = AlertThread(engine, settings.tick_s)
    thread.start()
    return thread
