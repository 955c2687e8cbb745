"""After a restart: an agent the store last saw offline is counted offline
from that status, and an open alert stays open without firing again. The
engine is driven with an injected clock over a real SQLite store and records
database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client import CollectorRegistry

from alerts import records
from alerts.engine import AlertEngine
from alerts.metrics import AlertMetrics
from alerts.rules import Kind, Rule
from api.app import seed_live
from api.live import LiveHub
from api.records import make_engine, make_sessionmaker
from core.registry import Registry, load_site
from storage import AGENT_STATUS, Point, StoreSettings, open_store
from tests.api.conftest import SMALL_SITE
from webhooks.events import NullSink

SITE = load_site(SMALL_SITE)
REGISTRY = Registry({SITE.id: SITE})
RULE = Rule(id="agent", kind=Kind.AGENT_OFFLINE, threshold=600)


def engine(tmp_path: Path, now: datetime) -> AlertEngine:
    store = open_store(StoreSettings(url=f"sqlite:///{tmp_path}/store.db"))
    hub = LiveHub(REGISTRY)
    seed_live(hub, store)
    return AlertEngine(
        registry=REGISTRY,
        hub=hub,
        sessions=make_sessionmaker(make_engine(f"sqlite:///{tmp_path}/api.db")),
        events=NullSink,
        file_rules=[RULE],
        metrics=AlertMetrics(CollectorRegistry()),
        digest_s=300,
        clock=lambda: now,
    )


def test_an_agent_offline_before_a_restart_alerts_once_after_it(tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    went = now - timedelta(seconds=900)  # 15 min ago
    store = open_store(StoreSettings(url=f"sqlite:///{tmp_path}/store.db"))
    store.write(
        [
            Point(
                AGENT_STATUS,
                {"site": SITE.id, "agent": "ag"},
                {"online": 0},
                int(went.timestamp() * 1e9),
            )
        ]
    )
    store.close()
    first = engine(tmp_path, now)
    [fired] = first.tick(now)
    assert (fired.change, fired.subject, fired.value) == ("fired", "ag", 900.0)

    # a second process over the same records: the alert is open, nothing fires
    second = engine(tmp_path, now + timedelta(seconds=60))
    assert second.tick(now + timedelta(seconds=60)) == []
    with second.sessions() as session:
        [alert] = records.open_alerts(session)
    assert (alert.rule, alert.subject, alert.state) == ("agent", "ag", "firing")
