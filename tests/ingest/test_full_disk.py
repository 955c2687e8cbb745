"""The spool on a real, really full filesystem (a 1 MiB tmpfs): what the disk
refused is never acknowledged, and what it took is never lost."""

from __future__ import annotations

import random
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from core.registry import Registry
from ingest.config import IngestSettings
from ingest.deadletters import read_dead_letters
from ingest.pipeline import Reason
from ingest.service import IngestService
from ingest.spool import Spool, SpoolUnwritable
from storage.base import Point
from tests.ingest.conftest import STEP, expect_all, fill, make_settings, publish, value, wait_until
from tests.ingest.messages import recent_start, stream
from tests.ingest.test_spool import batch, drain
from tests.servers import InfluxServer, MosquittoServer


def noisy(n: int, start: int) -> list[Point]:
    # Random sensor names, so zlib cannot shrink a batch to almost nothing.
    rnd = random.Random(start)
    return [
        Point("presence", {"site": "s", "space": f"d{i}"}, {"sensor": rnd.randbytes(40).hex()},
              1_767_600_000_000_000_000 + i)
        for i in range(start, start + n)
    ]  # fmt: skip


def test_appends_the_disk_refuses_are_reported_and_leave_no_torn_bytes(small_fs: Path) -> None:
    spool = Spool(small_fs / "spool", max_bytes=1 << 30, segment_bytes=1 << 30)
    taken: list[list[Point]] = []
    refused = 0
    for k in range(400):
        b = noisy(50, 50 * k)
        try:
            spool.append(b)
        except SpoolUnwritable:
            refused += 1
            continue
        taken.append(b)
    assert refused > 0 and len(taken) > 0, (refused, len(taken))
    (segment,) = (small_fs / "spool").glob("*.spool")
    # The file holds exactly the records the spool reported as taken.
    assert segment.stat().st_size == spool.size_bytes
    assert spool.batches == len(taken)
    spool.close()
    reopened = Spool(small_fs / "spool", max_bytes=1 << 30)
    assert drain(reopened) == taken


def test_a_torn_record_mid_segment_keeps_the_records_after_it(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10 << 20)
    batches = [batch(3, 3 * k) for k in range(5)]
    offsets = []
    for b in batches:
        offsets.append(spool.size_bytes)
        spool.append(b)
    spool.close()
    (segment,) = tmp_path.glob("*.spool")
    data = bytearray(segment.read_bytes())
    data[offsets[2] + 20] ^= 0xFF  # a flipped byte inside the third record
    segment.write_bytes(bytes(data))
    reopened = Spool(tmp_path, max_bytes=10 << 20)
    assert reopened.batches == 4
    assert drain(reopened) == batches[:2] + batches[3:]


def test_a_failed_cut_seals_the_segment_and_later_appends_survive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    import ingest.spool as spool_mod

    spool = Spool(tmp_path, max_bytes=10 << 20)
    spool.append(batch(3))
    real_write = os.write

    def half_then_fail(fd: int, data: bytes) -> int:
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(spool_mod.os, "write", half_then_fail)
    monkeypatch.setattr(
        spool_mod.os, "ftruncate", lambda fd, n: (_ for _ in ()).throw(OSError(5, "EIO"))
    )
    with pytest.raises(SpoolUnwritable):
        spool.append(batch(3, 3))
    monkeypatch.undo()
    spool.append(batch(3, 6))
    spool.close()
    assert drain(Spool(tmp_path, max_bytes=10 << 20)) == [batch(3), batch(3, 6)]


def test_small_fs_is_really_small(small_fs: Path) -> None:
    assert shutil.disk_usage(small_fs).total <= 1 << 20
    filler = fill(small_fs, 4096)
    with pytest.raises(OSError), open(small_fs / "more", "wb") as fh:
        fh.write(b"x" * 65536)
        fh.flush()
    filler.unlink()


def test_full_disk_with_store_down_then_back_loses_nothing_without_restart(
    tmp_path: Path, small_fs: Path, mosquitto: MosquittoServer,
    influx_factory: Callable[..., InfluxServer], database: str, registry: Registry,
    run_service: Callable[[IngestSettings], IngestService],
) -> None:  # fmt: skip
    influx = influx_factory()
    n = 30_000
    msgs = stream(registry.site("virastotalo"), n, start=recent_start(n, STEP), step=STEP)
    settings = make_settings(
        tmp_path, mosquitto, influx, database, spool_dir=small_fs / "spool",
        batch_max_points=1_000, receive_maximum=5_000,
    )  # fmt: skip
    # Something else filled the disk: about 40 KB stay free for the spool.
    fill(small_fs, 40_000)
    service = run_service(settings)
    influx.stop()
    publish(mosquitto.url, msgs)
    wait_until(lambda: value(service, "ingest_backpressure") == 1, 60, "backpressure")
    time.sleep(2 * settings.store_retry_s)
    acked = value(service, "ingest_messages_acked_total")
    spooled = value(service, "ingest_points_spooled_total")
    # Acknowledged = what the spool took, nothing more; the disk refused the rest.
    assert acked == spooled and 0 < acked < n
    assert value(service, "ingest_store_up") == 0
    # The store comes back while the disk stays full: no restart.
    influx.start()
    expect_all(influx, database, n, timeout=120)
    wait_until(lambda: value(service, "ingest_messages_acked_total") == n, 30, "every ack")
    assert value(service, "ingest_store_up") == 1
    assert value(service, "ingest_backpressure") == 0
    assert sum(value(service, "ingest_dead_letters_total", reason=r.value) for r in Reason) == 0
    assert read_dead_letters(settings.dead_letter_dir) == []
