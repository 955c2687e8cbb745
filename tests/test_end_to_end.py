"""The walking skeleton end to end, on real services:

simulated presence -> real Mosquitto -> ingest -> real InfluxDB -> API.

The API is started only after the simulator has stopped and with its live MQTT
feed off, so the states it shows can only have come through InfluxDB.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import create_key
from api.config import ApiSettings
from api.records import make_engine, make_sessionmaker
from core.registry import Registry
from ingest.config import IngestSettings
from ingest.service import IngestService
from simulators.publisher import LiveSimulator, PublisherSettings
from simulators.scenario import Scenario, ScriptedSpell
from storage import PRESENCE, StoreSettings, open_store
from tests.conftest import EXAMPLE_SITES


def test_simulated_presence_reaches_the_api_through_mosquitto_and_influxdb(
    mosquitto, influx, example_site, tmp_path: Path
) -> None:
    site = example_site
    db = f"e2e_{uuid.uuid4().hex[:8]}"
    store_settings = StoreSettings(url=influx.url, database=db)
    store = open_store(store_settings)
    now = datetime.now(UTC).replace(microsecond=0)
    # d001 sits down 100 s ago and stays; d002 came and went (the PIR holds
    # 60 s after the last motion, so it reports free ~25 s before the end).
    scenario = Scenario(
        seed=7,
        occupancy="script",
        script=[
            ScriptedSpell(
                space="f2-a-d001", start=now - timedelta(seconds=100), end=now + timedelta(hours=1)
            ),
            ScriptedSpell(
                space="f2-a-d002",
                start=now - timedelta(seconds=115),
                end=now - timedelta(seconds=85),
            ),
        ],
        random_faults=None,
    )
    ingest = IngestService(
        IngestSettings(
            registry=EXAMPLE_SITES,
            broker_url=mosquitto.url,
            client_id=f"e2e-{db}",
            spool_dir=tmp_path / "spool",
            dead_letter_dir=tmp_path / "dead",
            metrics_port=None,
            batch_max_delay_s=0.2,
            store=store_settings,
        ),
        Registry({site.id: site}),
        store,
    )
    ingest.start()
    try:
        sim = LiveSimulator(
            site,
            scenario,
            PublisherSettings(broker_url=mosquitto.url, client_id_prefix=f"e2e-{db}"),
            speed=40,
            start=now - timedelta(seconds=120),
            end=now,
        )
        sim.start()
        # The simulator stops publishing at ``end`` by itself; its agents stay
        # connected (stop() would announce them offline, making every space unknown).
        sim.join(30)
        assert sim.error is None and sim.sent["presence"] > 0

        # wait for the ingest to make the simulator's messages durable
        deadline = time.monotonic() + 20
        expected = sim.sent["presence"]
        while time.monotonic() < deadline and store.count(PRESENCE) < expected:
            time.sleep(0.2)
    finally:
        ingest.stop()
        sim.stop()

    raw = influx.query("SELECT last(occupied) FROM presence WHERE space = 'f2-a-d001'", db=db)[
        "results"
    ][0]["series"][0]["values"][0]
    assert raw[1] == 1, "InfluxDB itself holds the occupied state"

    records = f"sqlite:///{tmp_path}/api.db"
    with make_sessionmaker(make_engine(records))() as session:
        key = create_key(session, role="facility", name="e2e")
    settings = ApiSettings(
        registry=EXAMPLE_SITES, store=store_settings, records_url=records, broker_url=None
    )
    with TestClient(
        create_app(settings, registry=Registry({site.id: site}), store=store)
    ) as client:
        live = client.get(f"/v1/sites/{site.id}/live", headers={"Authorization": f"Bearer {key}"})
        assert live.status_code == 200
        states = {s["space"]: s for s in live.json()["spaces"]}
        assert states["f2-a-d001"]["state"] == "occupied", states["f2-a-d001"]
        assert states["f2-a-d002"]["state"] == "free", states["f2-a-d002"]
        zone = live.json()["zones"]["f2-a"]
        assert zone["occupied"] >= 1 and zone["total"] == 28
