"""The service point through the whole pipeline: simulator -> real Mosquitto ->
ingest -> real InfluxDB -> the service-point API. A working day's door counts
add up exactly to the truth's visits, each counter's occupied time is within
1 % of the truth, and the API's visits per day and counter utilisation are
within 1 % of the truth's."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import create_key
from api.config import ApiSettings
from api.records import make_engine, make_sessionmaker
from core.calendar import opening_intervals
from core.registry import Registry, SpaceType
from ingest.config import IngestSettings
from ingest.service import IngestService
from metrics.utilisation import utilisation_table
from simulators.publisher import LiveSimulator, PublisherSettings
from simulators.scenario import Scenario
from simulators.truth import occupied_seconds
from storage import ENTRANCE_COUNTS, StoreSettings, open_store
from summaries.raw import read_opening_intervals
from tests.conftest import EXAMPLE_SITES
from tests.test_pipeline_truth import recent_midweek_day


def test_door_counts_and_counter_occupancy_match_the_truth(
    mosquitto, influx, example_site, tmp_path: Path
) -> None:
    site = example_site
    day = recent_midweek_day(site)
    start = datetime.combine(day, dtime(8, 0), tzinfo=site.tz).astimezone(UTC)
    end = datetime.combine(day, dtime(18, 0), tzinfo=site.tz).astimezone(UTC)
    db = f"service_{uuid.uuid4().hex[:8]}"
    settings = StoreSettings(url=influx.url, database=db)
    store = open_store(settings)
    ingest = IngestService(
        IngestSettings(
            registry=EXAMPLE_SITES, broker_url=mosquitto.url, client_id=f"svc-{db}",
            spool_dir=tmp_path / "spool", dead_letter_dir=tmp_path / "dead",
            metrics_port=None, store=settings,
        ),
        Registry({site.id: site}),
        store,
    )  # fmt: skip
    ingest.start()
    sim = LiveSimulator(
        site,
        Scenario(seed=13).without_faults(),
        PublisherSettings(broker_url=mosquitto.url, client_id_prefix=f"svc-{db}"),
        speed=1500,
        start=start,
        end=end,
    )
    try:
        sim.start()
        sim.join(180)
        assert sim.error is None and not sim.running
        sent = sim.sent["counts"]
        assert sent == 40  # every 15 min for ten hours
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and store.count(ENTRANCE_COUNTS) < sent:
            time.sleep(0.3)
        assert ingest.metrics.value("ingest_counts_messages_total") == sent
    finally:
        ingest.stop()
        sim.stop()
    truth = sim.truth()
    counts = store.read(ENTRANCE_COUNTS, start=start, end=end)
    visits = truth.visits_per_day()[day.isoformat()]
    assert visits > 100
    assert int(counts["in_count"].sum()) == visits
    assert int(counts["out_count"].sum()) <= visits
    assert set(counts["reset"].astype(int)) == {0}
    counters = [s.id for s in site.spaces if s.type is SpaceType.SERVICE_POINT]
    windows = list(opening_intervals(site, start, end))
    expected = occupied_seconds(
        truth, start=start, end=end, windows=windows, basis="sensed", spaces=counters
    )
    intervals = read_opening_intervals(store=store, site=site, start=start, end=end)
    table = utilisation_table(intervals=intervals, site=site, by="space").set_index("space")
    for space in counters:
        measured = float(table.loc[space, "occupied_s"])
        assert abs(measured - expected[space]) <= 0.01 * expected[space], space
    # what the sensors see is the service plus their hold: the physical truth
    # (counter_busy_s) is a little less, by about a minute per served visit
    busy = truth.counter_busy_seconds()[day.isoformat()]
    assert all(busy[s] <= expected[s] for s in counters)
    _check_the_api(store, settings, site, day, tmp_path, visits, expected, windows)
    store.close()


def _check_the_api(store, settings, site, day, tmp_path, visits, expected, windows) -> None:  # type: ignore[no-untyped-def]
    """The service-point API over the stored points, against the truth."""
    records = f"sqlite:///{tmp_path}/api.db"
    with make_sessionmaker(make_engine(records))() as session:
        key = create_key(session, role="facility", name="facility")
    api_settings = ApiSettings(
        registry=EXAMPLE_SITES, store=settings, records_url=records, broker_url=None,
        rollup_interval_s=0, feeds_poll_interval_s=0, summaries_interval_s=0,
    )  # fmt: skip
    app = create_app(api_settings, registry=Registry({site.id: site}), store=store)
    period = {"from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat()}
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {key}"}
        base = f"/v1/sites/{site.id}/service"
        r = client.get(f"{base}/visits", params=period, headers=headers)
        assert r.status_code == 200, r.text
        api_visits = sum(row["visits"] for row in r.json()["rows"])
        assert abs(api_visits - visits) <= 0.01 * visits
        r = client.get(f"{base}/summary", params=period, headers=headers)
        assert r.status_code == 200, r.text
        (row,) = r.json()["rows"]
    open_s = sum((b - a).total_seconds() for a, b in windows)
    truth_utilisation = sum(expected.values()) / (open_s * len(expected))
    assert abs(row["counter_utilisation"] - truth_utilisation) <= 0.01 * truth_utilisation
    assert row["visits"] == api_visits
