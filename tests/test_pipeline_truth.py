"""The whole pipeline reproduces the simulator's ground truth.

simulator (people model, random faults) -> real Mosquitto -> ingest -> real
InfluxDB -> metrics: the occupied time of every space in a working morning is
within 1 % of the truth's sensed occupied time. Spaces with an injected fault
in the window are left out, as the truth cannot say what a faulty sensor shows.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

from core.calendar import is_closed, opening_intervals
from core.registry import Registry
from ingest.config import IngestSettings
from ingest.service import IngestService
from metrics.utilisation import utilisation_table
from simulators.publisher import LiveSimulator, PublisherSettings
from simulators.scenario import Fault, FaultKind, Scenario
from simulators.truth import occupied_seconds
from storage import PRESENCE, StoreSettings, open_store
from summaries.raw import read_opening_intervals
from tests.conftest import EXAMPLE_SITES


def recent_midweek_day(site):  # type: ignore[no-untyped-def]
    """A Tuesday-Thursday open day in the past week (within the ingest's age limit)."""
    day = datetime.now(UTC).astimezone(site.tz).date() - timedelta(days=2)
    while day.weekday() not in (1, 2, 3) or is_closed(site, day):
        day -= timedelta(days=1)
    return day


def test_pipeline_reproduces_truth_within_one_percent(
    mosquitto, influx, example_site, tmp_path: Path
) -> None:
    site = example_site
    day = recent_midweek_day(site)
    start = datetime.combine(day, dtime(7, 0), tzinfo=site.tz).astimezone(UTC)
    end = datetime.combine(day, dtime(10, 30), tzinfo=site.tz).astimezone(UTC)

    def at(hour: float) -> datetime:
        return datetime.combine(day, dtime(0), tzinfo=site.tz).astimezone(UTC) + timedelta(
            hours=hour
        )

    db = f"truth_{uuid.uuid4().hex[:8]}"
    settings = StoreSettings(url=influx.url, database=db)
    store = open_store(settings)
    ingest = IngestService(
        IngestSettings(
            registry=EXAMPLE_SITES,
            broker_url=mosquitto.url,
            client_id=f"truth-{db}",
            spool_dir=tmp_path / "spool",
            dead_letter_dir=tmp_path / "dead",
            metrics_port=None,
            store=settings,
        ),
        Registry({site.id: site}),
        store,
    )
    ingest.start()
    sim = LiveSimulator(
        site,
        Scenario(
            seed=11,
            faults=[
                Fault(kind=FaultKind.STUCK_OCCUPIED, target="f3-c-d005", start=at(8), end=at(9)),
                Fault(kind=FaultKind.SILENT, target="f2-c-d010", start=at(8.5), end=at(9.5)),
                Fault(kind=FaultKind.FLAPPING, target="f4-room-02", start=at(9), end=at(9.5)),
                # the whole floor 1 agent drops off (its Last Will fires) for 20 min
                Fault(kind=FaultKind.AGENT_OFFLINE, target="agent-f1", start=at(9), end=at(9.33)),
            ],
        ),
        PublisherSettings(broker_url=mosquitto.url, client_id_prefix=f"truth-{db}"),
        speed=1000,
        start=start,
        end=end,
    )
    try:
        sim.start()
        sim.join(120)
        assert sim.error is None and not sim.running
        sent = sim.sent["presence"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and store.count(PRESENCE) < sent:
            time.sleep(0.3)
        assert store.count(PRESENCE) >= sent - sim.sent.get("duplicate", 0)
    finally:
        ingest.stop()
        sim.stop()

    truth = sim.truth()
    windows = list(opening_intervals(site, start, end))
    expected = occupied_seconds(truth, start=start, end=end, windows=windows, basis="sensed")
    faulted = set(truth.fault_windows())
    intervals = read_opening_intervals(store=store, site=site, start=start, end=end)
    table = utilisation_table(intervals=intervals, site=site, by="space").set_index("space")
    compared = [s.id for s in site.spaces if s.id not in faulted]
    # the four faults take out 3 sensors and the 11 spaces of floor 1
    assert faulted == {"f3-c-d005", "f2-c-d010", "f4-room-02"} | {
        s.id for s in site.spaces_of_agent("agent-f1")
    }
    busy = [s for s in compared if expected[s] > 0]
    assert len(busy) > 30, "the morning should see people arrive"
    for space in compared:
        measured = float(table.loc[space, "occupied_s"])
        want = expected[space]
        assert abs(measured - want) <= 0.01 * want, (space, measured, want)
    total_measured = sum(float(table.loc[s, "occupied_s"]) for s in compared)
    assert abs(total_measured - sum(expected[s] for s in compared)) <= 0.01 * sum(
        expected[s] for s in compared
    )
