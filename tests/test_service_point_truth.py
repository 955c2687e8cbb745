"""The service point through the whole pipeline: simulator -> real Mosquitto ->
ingest -> real InfluxDB. A working day's door counts add up exactly to the
truth's visits, and each counter's occupied time is within 1 % of the truth.
(The service-point metrics and API over these points are built elsewhere;
this checks what they read.)"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from datetime import time as dtime
from pathlib import Path

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
    store.close()
