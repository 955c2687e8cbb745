"""The ingest against the embedded amqtt broker of ``occupancy up`` (MQTT 3.1.1,
sessions kept in the broker's memory), with real InfluxDB.

amqtt keeps offline messages only for sessions that are not anonymous
(amqtt/broker.py, ``_run_broadcast``); ``occupancy.broker`` therefore
authenticates every local client as identified, and messages published while
the ingest is away are delivered when it comes back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from core.registry import Registry
from ingest.config import IngestSettings, MqttProtocol
from ingest.service import IngestService
from occupancy.broker import EmbeddedBroker
from storage import StoreSettings, open_store
from tests.conftest import EXAMPLE_SITES
from tests.ingest.conftest import expect_all, publish, wait_until
from tests.ingest.messages import recent_start, stream
from tests.servers import InfluxServer, free_port

STEP = timedelta(milliseconds=1)


@pytest.fixture
def amqtt_broker() -> Iterator[EmbeddedBroker]:
    broker = EmbeddedBroker("127.0.0.1", free_port()).start()
    yield broker
    broker.stop()


def test_embedded_broker_qos1_and_restart_with_the_same_session(
    tmp_path: Path, amqtt_broker: EmbeddedBroker, influx: InfluxServer, database: str,
    registry: Registry,
) -> None:  # fmt: skip
    settings = IngestSettings(
        registry=EXAMPLE_SITES, broker_url=amqtt_broker.url, mqtt_protocol=MqttProtocol.V311,
        client_id=f"ingest-{database}", replica="embedded", spool_dir=tmp_path / "spool",
        dead_letter_dir=tmp_path / "dead", metrics_port=None,
        store=StoreSettings(url=influx.url, database=database, timeout_s=5),
    )  # fmt: skip
    n = 1_000
    site = registry.site("virastotalo")
    msgs = stream(site, 3 * n, start=recent_start(3 * n, STEP), step=STEP)
    services: list[IngestService] = []

    def start() -> IngestService:
        service = IngestService(settings, registry, open_store(settings.store))
        services.append(service)
        service.start()
        assert service.wait_connected(20), "ingest did not connect to the embedded broker"
        return service

    try:
        first = start()
        time.sleep(1.0)  # the SUBACK of a brand-new session: nothing published before it counts
        publish(amqtt_broker.url, msgs[:n])
        expect_all(influx, database, n, timeout=60)
        wait_until(lambda: first.metrics.value("ingest_messages_acked_total") == n, 20, "acks")
        assert first.stop(timeout=10)
        # Published while no ingest runs: the broker queues it for the
        # persistent session (amqtt does so only for non-anonymous sessions,
        # hence occupancy.broker.OpenAuthPlugin).
        publish(amqtt_broker.url, msgs[n : 2 * n])
        # Same client id, clean session off: the broker resumes the session.
        # Everything was acknowledged, so nothing is delivered twice; what is
        # published next is stored after what came before, none lost.
        second = start()
        time.sleep(1.0)
        publish(amqtt_broker.url, msgs[2 * n :])
        expect_all(influx, database, 3 * n, timeout=90)
        wait_until(lambda: second.metrics.value("ingest_messages_acked_total") == 2 * n, 20, "acks")
        assert second.metrics.value("ingest_messages_received_total") == 2 * n
        assert second.metrics.value("ingest_dead_letters_total", reason="schema") == 0
    finally:
        for s in services:
            s.stop(timeout=10)
            s.store.close()
