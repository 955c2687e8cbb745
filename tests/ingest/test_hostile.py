"""One hostile agent against the running ingest (real Mosquitto and InfluxDB):
huge payloads, a dead-letter disk it has filled, a flood it hopes will be held
in memory. Good messages must keep flowing, with exact counts."""

from __future__ import annotations

import random
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.messages import RawMessage
from core.registry import Registry
from ingest.batcher import Batch, BatchWriter
from ingest.config import IngestSettings
from ingest.deadletters import DeadLetter, DeadLetterFile, read_dead_letters
from ingest.metrics import IngestMetrics
from ingest.pipeline import Delivery
from ingest.service import IngestService
from ingest.spool import Spool
from storage import StoreSettings, open_store
from tests.ingest.conftest import (
    STEP,
    expect_all,
    fill,
    influx_query,
    make_settings,
    publish,
    value,
    wait_until,
)
from tests.ingest.messages import presence_topic, recent_start, stream
from tests.servers import InfluxServer, MosquittoServer, find_binary

MB = 1 << 20
TOPIC = presence_topic("f1-palvelu-01")


def dead_points(influx: InfluxServer, db: str) -> int:
    rows = influx_query(influx, db, "SELECT count(payload) FROM dead_letters")
    return int(rows[0][1]) if rows else 0


def test_huge_payloads_on_a_full_dead_letter_disk_do_not_stop_good_messages(
    tmp_path: Path, small_fs: Path, mosquitto: MosquittoServer, influx: InfluxServer,
    database: str, registry: Registry, run_service: Callable[[IngestSettings], IngestService],
) -> None:  # fmt: skip
    n = 3_000
    good = stream(registry.site("virastotalo"), n, start=recent_start(n, STEP), step=STEP)
    bad = [(TOPIC, b"{" + b"x" * MB) for _ in range(6)]  # six invalid 1 MB payloads
    msgs = good[:1000] + bad[:3] + good[1000:2000] + bad[3:] + good[2000:]
    settings = make_settings(
        tmp_path, mosquitto, influx, database, dead_letter_dir=small_fs / "dead-letters"
    )
    service = run_service(settings)
    fill(small_fs, 0)  # the hostile agent filled the dead-letter volume
    publish(mosquitto.url, msgs)
    expect_all(influx, database, n, timeout=120)
    wait_until(lambda: value(service, "ingest_messages_acked_total") == n + 6, 30, "every ack")
    assert value(service, "ingest_dead_letters_total", reason="payload_too_large") == 6
    assert value(service, "ingest_dead_letters_dropped_total", cause="write_failed") == 6
    # Each letter once in the store, with its excerpt and real size.
    rows = influx_query(influx, database, "SELECT payload, payload_bytes FROM dead_letters")
    assert len(rows) == 6
    assert {(r[1], r[2]) for r in rows} == {("{" + "x" * 1023, MB + 1)}


def test_a_retried_commit_writes_each_dead_letter_once(
    tmp_path: Path, influx: InfluxServer, database: str
) -> None:
    store = open_store(StoreSettings(url=influx.url, database=database, timeout_s=5))
    writer = BatchWriter(
        store=store, spool=Spool(tmp_path / "spool", max_bytes=MB),
        dead_file=DeadLetterFile(tmp_path / "dl", replica="r"), metrics=IngestMetrics(),
        replica="r",
    )  # fmt: skip
    batch = Batch()
    now = datetime.now(UTC)
    for i in range(6):
        raw = RawMessage(TOPIC, b"{bad", 1, False, i + 1, now)
        batch.add_dead(Delivery(raw), DeadLetter("invalid_json", "bad", TOPIC, b"{bad", now))
    for _ in range(3):  # what the service's retry loop does after a failure
        writer.commit(batch)
    assert dead_points(influx, database) == 6
    assert len(read_dead_letters(tmp_path / "dl")) == 6
    store.close()


def test_dead_letters_stay_in_their_budget_and_count_what_rotated(
    tmp_path: Path, mosquitto: MosquittoServer, influx: InfluxServer, database: str,
    run_service: Callable[[IngestSettings], IngestService],
) -> None:  # fmt: skip
    n = 400
    settings = make_settings(
        tmp_path, mosquitto, influx, database, dead_letter_max_bytes=MB,
        dead_letters_to_store=False,
    )  # fmt: skip
    service = run_service(settings)
    publish(mosquitto.url, [(TOPIC, b"{%05d" % i + b"y" * 20_000) for i in range(n)])
    wait_until(lambda: value(service, "ingest_messages_acked_total") == n, 60, "every ack")
    on_disk = sum(p.stat().st_size for p in settings.dead_letter_dir.glob("*.jsonl"))
    assert on_disk <= MB
    kept = len(read_dead_letters(settings.dead_letter_dir))
    rotated = value(service, "ingest_dead_letters_dropped_total", cause="rotated")
    assert kept + rotated == n and rotated > 0
    assert value(service, "ingest_dead_letters_total", reason="invalid_json") == n


def test_unacknowledged_payload_bytes_stay_under_the_budget(
    tmp_path: Path, mosquitto: MosquittoServer, influx_factory: Callable[..., InfluxServer],
    database: str, run_service: Callable[[IngestSettings], IngestService],
) -> None:  # fmt: skip
    influx = influx_factory()
    n, size = 300, 40_000
    rnd = random.Random(7)
    # Invalid, incompressible payloads: their dead-letter points need the store.
    msgs = [(TOPIC, b"{" + rnd.randbytes(size)) for _ in range(n)]
    settings = make_settings(
        tmp_path, mosquitto, influx, database, inflight_max_bytes=MB, spool_max_bytes=1 << 16,
        batch_max_points=50, receive_maximum=1_000,
    )  # fmt: skip
    service = run_service(settings)
    influx.stop()
    publish(mosquitto.url, msgs)
    wait_until(lambda: value(service, "ingest_backpressure") == 1, 60, "backpressure")
    time.sleep(3)
    held = value(service, "ingest_messages_received_total") - value(
        service, "ingest_messages_acked_total"
    )
    # 1 MiB holds 26 such payloads; a few more may be on their way in a chunk.
    assert held <= MB // size + 8, held
    assert value(service, "ingest_inflight_bytes") <= MB + 8 * size
    influx.start()
    wait_until(lambda: value(service, "ingest_messages_acked_total") == n, 120, "every ack")
    assert value(service, "ingest_dead_letters_total", reason="invalid_json") == n
    assert dead_points(influx, database) == n


def test_a_thousand_1mb_payloads_keep_the_ingest_small(
    tmp_path: Path, mosquitto: MosquittoServer, influx_factory: Callable[..., InfluxServer],
    database: str, ingest_process: Callable[..., Any],
) -> None:  # fmt: skip
    influx = influx_factory()
    proc = ingest_process(mosquitto, influx, database).start()
    # The store is down: the dead letters' points go through the spool.
    influx.stop()
    # What the processes hold before the flood (interpreter, pandas, paho) is
    # not the point; what the flood adds is bounded by the in-flight budget.
    before = sum(_rss(pid, "VmRSS") for pid in [proc.proc.pid, *_children(proc.proc.pid)])
    payload = tmp_path / "payload"
    payload.write_bytes(b"{" + b"z" * (MB - 1))
    pub = find_binary("mosquitto_pub", "mosquitto-clients")
    subprocess.run(
        [pub, "-p", str(mosquitto.port), "-q", "1", "-t", TOPIC, "-f", str(payload),
         "--repeat", "1000"],
        check=True, timeout=300,
    )  # fmt: skip
    wait_until(lambda: proc.metric("ingest_messages_acked_total") == 1000, 180, "every ack")
    peak = sum(_rss(pid, "VmHWM") for pid in [proc.proc.pid, *_children(proc.proc.pid)])
    budget = IngestSettings.model_fields["inflight_max_bytes"].default
    # Unbounded, the 1,000 payloads held unacknowledged took over 500 MB.
    growth = peak - before
    print(f"before {before / MB:.0f} MB, peak {peak / MB:.0f} MB, growth {growth / MB:.0f} MB")
    assert growth < 2 * budget, f"the flood added {growth / MB:.0f} MB (budget {budget / MB:.0f})"
    assert proc.metric('ingest_dead_letters_total{reason="payload_too_large"}') == 1000
    influx.start()
    wait_until(lambda: proc.metric("ingest_spool_bytes") == 0, 60, "the spool to drain")
    assert influx_query(influx, database, "SELECT count(payload) FROM dead_letters")[0][1] == 1000
    proc.stop()


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _rss(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    return 0
