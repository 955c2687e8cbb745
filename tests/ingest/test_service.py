"""IngestService in-process against real Mosquitto and real InfluxDB."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.registry import Registry
from ingest.config import IngestSettings, MqttProtocol
from ingest.deadletters import read_dead_letters
from ingest.service import IngestService
from storage import open_store
from tests.ingest.conftest import (
    STEP,
    expect_all,
    influx_query,
    make_settings,
    presence_stats,
    publish,
    value,
    wait_until,
)
from tests.ingest.messages import presence_payload, presence_topic, recent_start, stream
from tests.servers import InfluxServer, MosquittoServer


def test_100k_messages_give_exactly_100k_points(
    tmp_path: Path, mosquitto: MosquittoServer, influx: InfluxServer, database: str,
    registry: Registry, run_service: Callable[[IngestSettings], IngestService],
) -> None:  # fmt: skip
    n = 100_000
    service = run_service(make_settings(tmp_path, mosquitto, influx, database))
    site = registry.site("virastotalo")
    publish(mosquitto.url, stream(site, n, start=recent_start(n, STEP), step=STEP))
    expect_all(influx, database, n, timeout=180)
    wait_until(lambda: value(service, "ingest_messages_acked_total") == n, 30, "all acks")
    assert value(service, "ingest_messages_received_total") == n
    assert value(service, "ingest_points_written_total") == n
    assert sum(value(service, "ingest_dead_letters_total", reason=r) for r in _reasons()) == 0


def _reasons() -> list[str]:
    from ingest.pipeline import Reason

    return [r.value for r in Reason]


def test_influx_down_30s_mid_stream_loses_nothing(
    tmp_path: Path, mosquitto: MosquittoServer,
    influx_factory: Callable[..., InfluxServer], database: str, registry: Registry,
    run_service: Callable[[IngestSettings], IngestService],
) -> None:  # fmt: skip
    import time

    influx = influx_factory()
    n = 15_000
    msgs = stream(registry.site("virastotalo"), n, start=recent_start(n, STEP), step=STEP)
    service = run_service(make_settings(tmp_path, mosquitto, influx, database))
    publish(mosquitto.url, msgs[:5_000])
    expect_all(influx, database, 5_000, timeout=60)
    # The service, not only the server, has seen every write answered: a batch
    # the server stored but had not yet answered when it stopped would be spooled
    # too (at least once; harmless on replay, but not the count asserted below).
    wait_until(lambda: value(service, "ingest_points_written_total") == 5_000, 30, "answers")
    influx.stop()
    down_at = time.monotonic()
    # Traffic keeps coming during the outage, in ten bursts over 30 s.
    for k in range(10):
        publish(mosquitto.url, msgs[5_000 + k * 500 : 5_000 + (k + 1) * 500])
        time.sleep(max(0.0, down_at + 3 * (k + 1) - time.monotonic()))
    wait_until(lambda: value(service, "ingest_messages_acked_total") == 10_000, 30, "acks")
    assert value(service, "ingest_points_spooled_total") == 5_000  # acked from the spool
    assert value(service, "ingest_store_up") == 0
    assert len(list((tmp_path / "ingest" / "spool").glob("*.spool"))) >= 1
    influx.start()
    publish(mosquitto.url, msgs[10_000:])
    expect_all(influx, database, n, timeout=120)
    wait_until(lambda: value(service, "ingest_spool_bytes") == 0, 30, "spool to drain")
    assert list((tmp_path / "ingest" / "spool").glob("*.spool")) == []


def test_full_spool_holds_acks_and_the_broker_keeps_messages(
    tmp_path: Path, mosquitto: MosquittoServer,
    influx_factory: Callable[..., InfluxServer], database: str, registry: Registry,
    run_service: Callable[[IngestSettings], IngestService],
) -> None:  # fmt: skip
    import time

    influx = influx_factory()
    n = 10_000
    msgs = stream(registry.site("virastotalo"), n, start=recent_start(n, STEP), step=STEP)
    settings = make_settings(
        tmp_path, mosquitto, influx, database, spool_max_bytes=65_536, batch_max_points=500,
        receive_maximum=1_000,
    )  # fmt: skip
    service = run_service(settings)
    influx.stop()
    publish(mosquitto.url, msgs)
    wait_until(lambda: value(service, "ingest_backpressure") == 1, 30, "backpressure")
    time.sleep(1.0)
    acked = value(service, "ingest_messages_acked_total")
    received = value(service, "ingest_messages_received_total")
    time.sleep(1.0)
    # The broker's in-flight window is exhausted: it keeps the rest and sends
    # nothing more until acknowledgements resume.
    assert value(service, "ingest_messages_received_total") == received < n
    assert value(service, "ingest_messages_acked_total") == acked
    assert 0 < acked < n  # the spool took some; the rest wait, unacknowledged
    assert value(service, "ingest_spool_bytes") <= 65_536
    influx.start()
    expect_all(influx, database, n, timeout=90)
    wait_until(lambda: value(service, "ingest_messages_acked_total") == n, 30, "every ack")
    assert value(service, "ingest_backpressure") == 0


def test_mosquitto_restart_mid_stream_loses_nothing(
    tmp_path: Path, mosquitto_factory: Callable[..., MosquittoServer], influx: InfluxServer,
    database: str, registry: Registry, run_service: Callable[[IngestSettings], IngestService],
) -> None:  # fmt: skip
    broker = mosquitto_factory()
    n = 20_000
    msgs = stream(registry.site("virastotalo"), n, start=recent_start(n, STEP), step=STEP)
    service = run_service(make_settings(tmp_path, broker, influx, database))

    def restart(i: int) -> None:
        if i == 8_000:
            broker.stop()  # SIGTERM: Mosquitto saves its persistence file
            broker.start()

    publish(broker.url, msgs, during=restart)
    expect_all(influx, database, n, timeout=120)
    assert value(service, "ingest_mqtt_connected") == 1


def test_two_replicas_on_one_shared_subscription_store_each_message_once(
    tmp_path: Path, mosquitto: MosquittoServer, influx: InfluxServer, database: str,
    registry: Registry, run_service: Callable[[IngestSettings], IngestService],
) -> None:  # fmt: skip
    n = 20_000
    a = run_service(make_settings(tmp_path, mosquitto, influx, database, name="a", share_group="g"))
    b = run_service(make_settings(tmp_path, mosquitto, influx, database, name="b", share_group="g"))
    msgs = stream(registry.site("virastotalo"), n, start=recent_start(n, STEP), step=STEP)
    publish(mosquitto.url, msgs)
    expect_all(influx, database, n, timeout=120)
    got_a = value(a, "ingest_messages_received_total")
    got_b = value(b, "ingest_messages_received_total")
    # Each message went to exactly one replica: none twice, none to neither.
    assert got_a + got_b == n
    assert got_a > 0 and got_b > 0
    wait_until(
        lambda: (
            value(a, "ingest_messages_acked_total") + value(b, "ingest_messages_acked_total") == n
        ),
        30,
        "acks",
    )


def test_stop_flushes_the_pending_batch_and_acks_it(
    tmp_path: Path, mosquitto: MosquittoServer, influx: InfluxServer, database: str,
    registry: Registry, run_service: Callable[[IngestSettings], IngestService],
) -> None:  # fmt: skip
    import time

    n = 100
    settings = make_settings(
        tmp_path, mosquitto, influx, database, batch_max_delay_s=60, batch_linger_s=60
    )
    service = run_service(settings)
    publish(mosquitto.url, stream(registry.site("virastotalo"), n, start=recent_start(n, STEP),
                                  step=STEP))  # fmt: skip
    wait_until(lambda: value(service, "ingest_messages_received_total") == n, 20, "receipt")
    assert presence_stats(influx, database) == (0, 0)  # still in the 60-second batch
    assert service.stop(timeout=10)
    assert presence_stats(influx, database) == (n, n * (n - 1) // 2)
    assert value(service, "ingest_messages_acked_total") == n
    # Same client id again: the broker has nothing left to deliver.
    again = run_service(settings)
    time.sleep(1.5)
    assert value(again, "ingest_messages_received_total") == 0


def test_bad_input_is_dead_lettered_and_counted(
    tmp_path: Path, mosquitto: MosquittoServer, influx: InfluxServer, database: str,
    run_service: Callable[[IngestSettings], IngestService],
) -> None:  # fmt: skip
    now = datetime.now(UTC)
    space = "f1-palvelu-01"
    settings = make_settings(tmp_path, mosquitto, influx, database)
    service = run_service(settings)
    msgs = [
        (presence_topic(space), b"{not json"),
        (presence_topic(space), b'{"space_id": "f1-palvelu-01"}'),
        (presence_topic(space, "elsewhere"), presence_payload(space, now)),
        (presence_topic(space), presence_payload(space, now + timedelta(hours=1))),
        (presence_topic(space), presence_payload(space, now, seq=5)),  # the one good message
    ]
    publish(mosquitto.url, msgs)
    wait_until(lambda: value(service, "ingest_messages_acked_total") == 5, 20, "acks")
    assert presence_stats(influx, database) == (1, 5)
    records = read_dead_letters(settings.dead_letter_dir)
    assert [(r["reason"], r["topic"], r["payload"]) for r in records] == [
        ("invalid_json", presence_topic(space), "{not json"),
        ("schema", presence_topic(space), '{"space_id": "f1-palvelu-01"}'),
        ("unknown_site", presence_topic(space, "elsewhere"), msgs[2][1].decode()),
        ("future_time", presence_topic(space), msgs[3][1].decode()),
    ]
    assert {r["replica"] for r in records} == {"ingest"}
    for reason in ("invalid_json", "schema", "unknown_site", "future_time"):
        assert value(service, "ingest_dead_letters_total", reason=reason) == 1
    rows = influx_query(influx, database, "SELECT reason, payload FROM dead_letters")
    assert sorted(r[1] for r in rows) == ["future_time", "invalid_json", "schema", "unknown_site"]


def test_points_the_store_refuses_are_dead_lettered(
    tmp_path: Path, mosquitto: MosquittoServer, influx: InfluxServer, database: str,
    run_service: Callable[[IngestSettings], IngestService],
) -> None:  # fmt: skip
    import urllib.request

    now = datetime.now(UTC).replace(microsecond=0)
    space = "f1-palvelu-01"
    settings = make_settings(tmp_path, mosquitto, influx, database)
    service = run_service(settings)
    # Someone wrote `occupied` as a string into this shard: InfluxDB now
    # refuses the ingest's integer `occupied` for presence points.
    influx.query(f'CREATE DATABASE "{database}"')
    line = f'presence,site=virastotalo,space=zz occupied="yes" {int(now.timestamp()) * 10**9}'
    req = urllib.request.Request(
        f"{influx.url}/write?db={database}", data=line.encode(), method="POST"
    )
    urllib.request.urlopen(req, timeout=5).close()
    status_topic = "occupancy/v1/virastotalo/agents/agent-f1/status"
    status = json.dumps(
        {"agent_id": "agent-f1", "state": "online", "event_time": now.isoformat()}
    ).encode()
    payload = presence_payload(space, now - timedelta(seconds=1))
    publish(mosquitto.url, [(presence_topic(space), payload), (status_topic, status)])
    wait_until(lambda: value(service, "ingest_messages_acked_total") == 2, 20, "acks")
    (record,) = read_dead_letters(settings.dead_letter_dir)
    assert record["reason"] == "store_rejected"
    assert record["payload"] == payload.decode()
    assert "field type conflict" in record["error"]
    assert influx_query(influx, database, "SELECT online FROM agent_status")[0][1] == 1


def test_protocol_311_with_clean_session_off(
    tmp_path: Path, mosquitto: MosquittoServer, influx: InfluxServer, database: str,
    registry: Registry, run_service: Callable[[IngestSettings], IngestService],
) -> None:  # fmt: skip
    settings = make_settings(tmp_path, mosquitto, influx, database, mqtt_protocol=MqttProtocol.V311)
    service = run_service(settings)
    n = 2_000
    publish(mosquitto.url, stream(registry.site("virastotalo"), n, start=recent_start(n, STEP),
                                  step=STEP))  # fmt: skip
    expect_all(influx, database, n, timeout=60)
    service.stop()
    # Away for a while: the broker keeps the persistent 3.1.1 session's messages.
    more = stream(registry.site("virastotalo"), n, start=recent_start(n, STEP) + n * STEP,
                  step=STEP)  # fmt: skip
    more = [(t, p.replace(b'"seq": ', b'"seq": 2')) for t, p in more]
    publish(mosquitto.url, more)
    run_service(settings)
    wait_until(lambda: presence_stats(influx, database)[0] == 2 * n, 60, "the queued messages")


def test_messages_published_right_after_start_reach_a_new_session(
    tmp_path: Path, mosquitto: MosquittoServer, influx: InfluxServer, database: str,
    registry: Registry,
) -> None:  # fmt: skip
    # start() returns once the receiver process has subscribed: a brand-new
    # session (nothing queued for it before) misses nothing published next.
    settings = make_settings(tmp_path, mosquitto, influx, database)
    service = IngestService(settings, registry, open_store(settings.store))
    service.start()
    try:
        n = 500
        publish(mosquitto.url, stream(registry.site("virastotalo"), n,
                                      start=recent_start(n, STEP), step=STEP))  # fmt: skip
        expect_all(influx, database, n, timeout=60)
    finally:
        assert service.stop(timeout=10)
        service.store.close()


def test_identity_mismatches_are_dead_lettered(
    tmp_path: Path, mosquitto: MosquittoServer, influx: InfluxServer, database: str,
    run_service: Callable[[IngestSettings], IngestService],
) -> None:  # fmt: skip
    """Issue 20 item 4: presence from another agent or sensor than the space's
    binding, and health about another agent's sensors, are not stored."""
    now = datetime.now(UTC)
    space = "f1-palvelu-01"  # bound to s-f1-palvelu-01 of agent-f1
    health = {
        "agent_id": "agent-f2", "event_time": now.isoformat(), "version": "1", "uptime_s": 1,
        "outbox_depth": 0,
        "sensors": [{"sensor_id": "s-f1-palvelu-01", "space_id": space, "battery_pct": 1}],
    }  # fmt: skip
    health_topic = "occupancy/v1/virastotalo/agents/agent-f2/health"
    settings = make_settings(tmp_path, mosquitto, influx, database)
    service = run_service(settings)
    msgs = [
        (presence_topic(space), presence_payload(space, now, agent="agent-f2")),
        (presence_topic(space), presence_payload(space, now, agent="ghost-7")),
        (presence_topic(space), presence_payload(space, now, sensor="s-f1-palvelu-02")),
        (health_topic, json.dumps(health).encode()),
        (presence_topic(space), presence_payload(space, now, seq=5)),  # the one good message
    ]
    publish(mosquitto.url, msgs)
    wait_until(lambda: value(service, "ingest_messages_acked_total") == 5, 20, "acks")
    assert presence_stats(influx, database) == (1, 5)
    records = read_dead_letters(settings.dead_letter_dir)
    assert [(r["reason"], r["payload"]) for r in records] == [
        ("identity_mismatch", m[1].decode()) for m in msgs[:4]
    ]
    assert value(service, "ingest_dead_letters_total", reason="identity_mismatch") == 4
    assert influx_query(influx, database, "SELECT count(battery_pct) FROM sensor_health") == []
