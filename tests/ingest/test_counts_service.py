"""Entrance counts through the running ingest: real Mosquitto, real InfluxDB."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingest.config import IngestSettings
from ingest.deadletters import read_dead_letters
from ingest.service import IngestService
from tests.ingest.conftest import influx_query, make_settings, publish, value, wait_until
from tests.ingest.messages import counts_payload, counts_topic
from tests.servers import InfluxServer, MosquittoServer

DOOR = "f1-palvelu-ovi"


def test_counts_are_stored_flagged_and_dead_lettered(
    tmp_path: Path, mosquitto: MosquittoServer, influx: InfluxServer, database: str,
    run_service: Callable[[IngestSettings], IngestService],
) -> None:  # fmt: skip
    settings = make_settings(tmp_path, mosquitto, influx, database)
    service = run_service(settings)
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    step = timedelta(minutes=10)
    topic = counts_topic(DOOR)

    def interval(k: int, i: int, o: int, tin: int, tout: int) -> tuple[str, bytes]:
        payload = counts_payload(
            DOOR, end + k * step, in_count=i, out_count=o, seq=k, total_in=tin, total_out=tout
        )
        return topic, payload

    good = [
        interval(0, 4, 1, 104, 91),
        interval(1, 6, 5, 110, 96),
        interval(2, 3, 2, 3, 2),  # the counter restarted: totals back to small numbers
        interval(3, 0, 0, 3, 2),  # a quiet interval (the heartbeat)
    ]
    bad = [
        (topic, b"{not json"),
        (counts_topic("no-such-door"), counts_payload("no-such-door", end)),
        (topic, counts_payload(DOOR, end, in_count=10_000, interval_s=60, seq=9)),
        (topic, counts_payload(DOOR, end, sensor="c-forged")),
    ]
    # good[1] twice: at-least-once delivery; its point overwrites itself
    msgs = good[:2] + bad + [good[1]] + good[2:]
    publish(mosquitto.url, msgs)
    wait_until(lambda: value(service, "ingest_messages_acked_total") == len(msgs), 20, "acks")
    rows = influx_query(
        influx, database,
        "SELECT in_count, out_count, total_in, total_out, reset, seq, zone "
        "FROM entrance_counts WHERE entrance = 'f1-palvelu-ovi'",
    )  # fmt: skip
    assert [r[1:] for r in rows] == [
        [4, 1, 104, 91, 0, 0, "f1-asiakas"],
        [6, 5, 110, 96, 0, 1, "f1-asiakas"],
        [3, 2, 3, 2, 1, 2, "f1-asiakas"],
        [0, 0, 3, 2, 0, 3, "f1-asiakas"],
    ]
    # visits over the four intervals: 4 + 6 + 3 + 0 in, never a negative delta
    assert sum(r[1] for r in rows) == 13
    assert value(service, "ingest_counts_messages_total") == 5  # the duplicate counts too
    assert value(service, "ingest_counts_resets_total") == 1
    records = read_dead_letters(settings.dead_letter_dir)
    assert [(r["reason"], r["topic"]) for r in records] == [
        ("invalid_json", topic),
        ("unknown_entrance", counts_topic("no-such-door")),
        ("implausible_count", topic),
        ("identity_mismatch", topic),
    ]
    for reason in ("invalid_json", "unknown_entrance", "implausible_count", "identity_mismatch"):
        assert value(service, "ingest_dead_letters_total", reason=reason) == 1
