"""Late data through the real ingest reaches the daily summaries: real
Mosquitto, real InfluxDB, two ingest processes on one MQTT 5 shared
subscription.

The example site has a week and a bit of hand-made data in InfluxDB (a dozen
desks free all day, hourly heartbeats with a one-hour interval), every day
summarised. Then an edge outbox delivers, through MQTT, messages for a day a
week ago (inside the contract's 30-day window): each desk occupied from 10:05
for a number of minutes of its own. Both replicas take some of them; their
marks make that day dirty; reports read it from raw points until one
summariser cycle later, when it comes from summaries again, equal to
``source=raw``, and each desk's figure for that day has grown by exactly its
occupied seconds, every other figure unchanged.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import create_key
from api.config import ApiSettings
from api.records import make_engine, make_sessionmaker
from core.calendar import is_closed
from core.messages import Presence
from core.registry import Registry, Site
from storage import StoreSettings, open_store
from storage.marks import MarkingStore
from storage.points import presence_point
from summaries.reader import clear_cache
from summaries.summariser import Summariser, SummaryParams, site_status
from tests.conftest import EXAMPLE_SITES
from tests.ingest.conftest import IngestProcess, publish, wait_until
from tests.ingest.messages import presence_payload, presence_topic
from tests.servers import InfluxServer, MosquittoServer

DESKS = 12
HB_S = 3600  # the heartbeat interval every message here declares
LATE_START = time(10, 5)  # local; the desks' own heartbeats are on the hour


def occupied_s(i: int) -> int:
    """How long desk i was occupied on the late day: 10 to 21 minutes."""
    return 600 + 60 * i


def late_day(site: Site, today: date) -> date:
    """The newest open day at least a week before today."""
    day = today - timedelta(days=7)
    while is_closed(site, day):
        day -= timedelta(days=1)
    return day


def heartbeats(site: Site, desks: list[str], first: date, last: date) -> list[Any]:
    """Free heartbeats on the hour, 06:00-19:00 local, every day first..last."""
    out = []
    day = first
    while day <= last:
        for hour in range(6, 20):
            at = datetime.combine(day, time(hour), tzinfo=site.tz).astimezone(UTC)
            for d in desks:
                space = site.space(d)
                assert space.sensor is not None
                msg = Presence(
                    space_id=d,
                    agent_id=space.sensor.agent,
                    sensor_id=space.sensor.id,
                    occupied=False,
                    event_time=at,
                    seq=hour,
                    kind="heartbeat",
                    heartbeat_interval_s=HB_S,
                )
                out.append(presence_point(site, msg))
        day += timedelta(days=1)
    return out


def started(p: IngestProcess) -> bool:
    return "event=ingest_started" in p.log_path.read_text()


@pytest.fixture
def api(tmp_path: Path, influx: InfluxServer, database: str, registry: Registry) -> Iterator[Any]:
    records = f"sqlite:///{tmp_path}/api.db"
    with make_sessionmaker(make_engine(records))() as session:
        key = create_key(session, role="facility", name="facility")
    settings = StoreSettings(url=influx.url, database=database)
    store = open_store(settings)
    app = create_app(
        ApiSettings(
            registry=EXAMPLE_SITES,
            store=settings,
            records_url=records,
            broker_url=None,
            rollup_interval_s=0,
            summaries_interval_s=0,  # the test runs the cycle
        ),
        registry=registry,
        store=store,
    )
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield client
    store.close()


def test_a_late_message_through_two_replicas_reaches_the_summaries(
    mosquitto: MosquittoServer,
    influx: InfluxServer,
    database: str,
    registry: Registry,
    ingest_process: Callable[..., IngestProcess],
    api: TestClient,
) -> None:
    site = registry.site("virastotalo")
    today = datetime.now(site.tz).date()
    day = late_day(site, today)
    first, last = day - timedelta(days=1), today - timedelta(days=1)
    desks = [s.id for s in site.spaces if s.type.value == "desk" and s.sensor][:DESKS]
    # replicas first: they start while the data is written and summarised
    replicas = [
        ingest_process(mosquitto, influx, database, "--share-group", "late", name=name)
        for name in ("a", "b")
    ]
    starting = [threading.Thread(target=p.start) for p in replicas]
    for t in starting:
        t.start()

    store = MarkingStore(
        open_store(StoreSettings(url=influx.url, database=database)), {site.id: site.tz}
    )
    store.write(heartbeats(site, desks, first, last))
    summariser = Summariser(store, [site], SummaryParams())
    assert summariser.cycle() == (last - first).days + 1
    assert site_status(store, site, SummaryParams()).dirty == []

    url = f"/v1/sites/{site.id}/utilisation"
    query = {"from": first.isoformat(), "to": today.isoformat(), "by": "space", "bucket": "day"}

    def report(**extra: str) -> dict[str, Any]:
        clear_cache()  # as a fresh API process would read it
        r = api.get(url, params={**query, **extra})
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    def figures(body: dict[str, Any]) -> dict[tuple[str, str], float]:
        return {(row["space"], row["bucket"][:10]): row["occupied_s"] for row in body["rows"]}

    before = report()
    assert before["meta"]["days_from_summaries"] == (last - first).days + 1
    assert all(figures(before)[(d, day.isoformat())] == 0 for d in desks)

    for t in starting:
        t.join()
    for p in replicas:  # subscribed, not only connected
        wait_until(partial(started, p), 20, "the replica to subscribe")
    start = datetime.combine(day, LATE_START, tzinfo=site.tz)
    messages = []
    for i, d in enumerate(desks):
        spell = [(start, True), (start + timedelta(seconds=occupied_s(i)), False)]
        for k, (at, occupied) in enumerate(spell):
            payload = presence_payload(
                d, at, occupied=occupied, seq=1000 + k, heartbeat_interval_s=HB_S
            )
            messages.append((presence_topic(d), payload))
    publish(mosquitto.url, messages)

    def written() -> list[float]:
        return [p.metric("ingest_points_written_total") or 0.0 for p in replicas]

    wait_until(lambda: sum(written()) == len(messages), 20, "both replicas to write")
    assert all(n > 0 for n in written()), written()  # each stored some
    assert site_status(store, site, SummaryParams()).dirty == [day]

    # dirty: that day from raw points, already right
    live = report()
    assert live["meta"]["stale_days"] == [day.isoformat()]
    assert live["rows"] == report(source="raw")["rows"]

    assert summariser.cycle() == 1  # that day alone: its carried state is unchanged
    after = report()
    assert after["meta"]["stale_days"] == [] and after["meta"]["days_from_raw"] == []
    assert after["meta"]["days_from_summaries"] == (last - first).days + 1
    assert after["rows"] == report(source="raw")["rows"] == live["rows"]
    want = figures(before)
    for i, d in enumerate(desks):
        want[(d, day.isoformat())] += occupied_s(i)
    assert figures(after) == want
    store.close()
