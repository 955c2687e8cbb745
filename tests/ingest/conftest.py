"""Helpers for ingest tests against real Mosquitto and InfluxDB.

The publisher here is a plain paho client (QoS 1) standing in for edge agents;
the fuzz test uses the real ``mosquitto_pub`` client instead.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from core.registry import Registry, load_registry
from ingest.config import IngestSettings
from ingest.service import IngestService
from storage import StoreSettings, open_store
from tests.conftest import EXAMPLE_SITES, REPO
from tests.servers import InfluxServer, MosquittoServer, free_port

_ids = itertools.count()


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry(EXAMPLE_SITES)


@pytest.fixture
def database() -> str:
    # A database per test keeps counts independent on the shared InfluxDB.
    return f"ingest_test_{os.getpid()}_{next(_ids)}"


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, poll: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def publish(
    url: str,
    messages: Sequence[tuple[str, bytes]],
    *,
    client_id: str | None = None,
    during: Callable[[int], None] | None = None,
    timeout: float = 300,
) -> None:
    """Publish at QoS 1 and return once the broker has acknowledged every message.

    ``during(i)`` is called after message i is handed to paho (e.g. to stop a
    server mid-stream). paho keeps unacknowledged QoS 1 messages and resends
    them after a reconnect, so a broker restart loses nothing on this side.
    """
    parts = urlsplit(url)
    client = paho.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id or f"test-pub-{os.getpid()}-{next(_ids)}",
        protocol=paho.MQTTv311,
        clean_session=False,
    )
    client.max_inflight_messages_set(500)
    client.max_queued_messages_set(0)
    client.reconnect_delay_set(1, 1)
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    client.loop_start()
    try:
        infos: list[paho.MQTTMessageInfo] = []
        deadline = time.monotonic() + timeout
        for i, (topic, payload) in enumerate(messages):
            if i >= 20_000:
                # paho's packet ids wrap at 65,535: keep fewer than that outstanding.
                _wait_published(infos[i - 20_000], deadline)
            infos.append(client.publish(topic, payload, qos=1))
            if during is not None:
                during(i)
        for info in infos:
            _wait_published(info, deadline)
    finally:
        client.disconnect()
        client.loop_stop()


def _acked(info: paho.MQTTMessageInfo) -> bool:
    if info.rc == paho.MQTT_ERR_NO_CONN:
        # queued while the broker was away: paho sends it after reconnecting,
        # but is_published() raises for it, so read the flag it sets on the ack
        with info._condition:
            return bool(info._published)
    return info.is_published()


def _wait_published(info: paho.MQTTMessageInfo, deadline: float) -> None:
    # Not wait_for_publish(): it raises for a message queued while the broker
    # was away, which paho still sends after reconnecting.
    while not _acked(info):
        if time.monotonic() > deadline:
            raise AssertionError("the broker did not acknowledge a publish in time")
        time.sleep(0.005)


def influx_query(influx: InfluxServer, db: str, q: str) -> list[list[Any]]:
    body = influx.query(q, db=db)
    result = body["results"][0]
    assert "error" not in result, result
    series = result.get("series") or []
    return series[0]["values"] if series else []


def presence_stats(influx: InfluxServer, db: str) -> tuple[int, int]:
    """(number of presence points, sum of their seq) - distinct identities only,
    since InfluxDB keeps one point per (measurement, tags, time)."""
    try:
        body = influx.query("SELECT count(seq), sum(seq) FROM presence", db=db)
    except OSError:  # InfluxDB down (outage tests)
        return (-1, -1)
    result = body["results"][0]
    if "database not found" in result.get("error", ""):
        return (0, 0)
    assert "error" not in result, result
    rows = result["series"][0]["values"] if result.get("series") else []
    if not rows:
        return (0, 0)
    return int(rows[0][1]), int(rows[0][2])


def expect_all(influx: InfluxServer, db: str, n: int, timeout: float) -> None:
    """Every one of n messages (seq 0..n-1, distinct identities) is stored, once."""
    want = (n, n * (n - 1) // 2)
    try:
        wait_until(lambda: presence_stats(influx, db) == want, timeout, f"{n} points")
    except AssertionError:
        raise AssertionError(
            f"stored (count, sum of seq) = {presence_stats(influx, db)}, want {want}"
        ) from None


class IngestProcess:
    """``python -m ingest`` as a child process, for tests that kill it."""

    def __init__(self, workdir: Path, args: list[str], env: dict[str, str] | None = None):
        self.workdir = workdir
        self.args = args
        self.env = {**os.environ, **(env or {})}
        self.metrics_port = free_port()
        self.log_path = workdir / f"ingest-{self.metrics_port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> IngestProcess:
        self.metrics_port = free_port()
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ingest", *self.args, "--metrics-port", str(self.metrics_port)],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        wait_until(lambda: self.metric("ingest_mqtt_connected") == 1.0, 30, "ingest to connect")
        return self

    def metric(self, name: str) -> float | None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"ingest exited with {self.proc.returncode}:\n{self.log_tail()}")
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=2
            ) as resp:
                text = resp.read().decode()
        except OSError:
            return None
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
        return None

    def stop(self, sig: int = 15) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return int(self.proc.returncode)

    def kill(self) -> None:
        self.stop(9)

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


@pytest.fixture
def ingest_process(tmp_path: Path) -> Iterator[Callable[..., IngestProcess]]:
    started: list[IngestProcess] = []

    def make(
        mosquitto: MosquittoServer,
        influx: InfluxServer,
        database: str,
        *extra: str,
        name: str = "ingest",
    ) -> IngestProcess:
        work = tmp_path / name
        work.mkdir(exist_ok=True)
        args = [
            "--registry", str(EXAMPLE_SITES),
            "--broker-url", mosquitto.url,
            "--client-id", f"{name}-{database}",
            "--replica", name,
            "--spool-dir", str(work / "spool"),
            "--dead-letter-dir", str(work / "dead-letters"),
            "--store-url", influx.url,
            "--store-database", database,
            *extra,
        ]  # fmt: skip
        proc = IngestProcess(work, args)
        started.append(proc)
        return proc

    yield make
    for p in started:
        if p.proc is not None and p.proc.poll() is None:
            p.kill()


@pytest.fixture(scope="module")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoServer]:
    """A broker of this module's own. The session's shared broker holds other
    tests' retained messages and sessions, which the exact counts here must not
    see."""
    server = MosquittoServer(tmp_path_factory.mktemp("mosquitto-ingest")).start()
    yield server
    server.stop()


def mount_small_fs(where: Path, size: str = "1m") -> Callable[[], None]:
    """A real small filesystem at ``where``: tmpfs, else a file-backed ext4 loop
    mount. Returns its unmount function. Fails (never skips) when neither works:
    the full-disk findings need a disk that really fills."""
    where.mkdir(parents=True, exist_ok=True)
    tried = []
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True, text=True,
    )  # fmt: skip
    if res.returncode == 0:
        return lambda: _umount(where)
    tried.append(f"tmpfs: {res.stderr.strip()}")
    image = where.parent / f"{where.name}.img"
    subprocess.run(["truncate", "-s", size.upper(), str(image)], check=True)
    for argv in (
        # No journal: a journal would not fit in a filesystem this small.
        ["mkfs.ext4", "-q", "-F", "-O", "^has_journal", str(image)],
        ["mount", "-o", "loop", str(image), str(where)],
    ):
        res = subprocess.run(argv, capture_output=True, text=True)
        if res.returncode != 0:
            tried.append(f"{argv[0]}: {res.stderr.strip()}")
            raise AssertionError("cannot mount a small filesystem: " + "; ".join(tried))
    return lambda: _umount(where)


def _umount(where: Path) -> None:
    subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB filesystem of this test's own."""
    where = tmp_path / "small-fs"
    unmount = mount_small_fs(where)
    yield where
    unmount()


def fill(fs: Path, leave_bytes: int) -> Path:
    """Fill ``fs`` with a filler file until about ``leave_bytes`` stay free."""
    import shutil

    free = shutil.disk_usage(fs).free
    filler = fs / "filler"
    with open(filler, "wb") as fh:
        fh.write(b"\0" * max(0, free - leave_bytes))
    return filler


STEP = timedelta(milliseconds=1)


def make_settings(
    tmp: Path, mosquitto: MosquittoServer, influx: InfluxServer, db: str, **kw: Any
) -> IngestSettings:
    name = kw.pop("name", "ingest")
    values: dict[str, Any] = {
        "registry": EXAMPLE_SITES,
        "broker_url": mosquitto.url,
        "client_id": f"{name}-{db}",
        "replica": name,
        "spool_dir": tmp / name / "spool",
        "dead_letter_dir": tmp / name / "dead-letters",
        "metrics_port": None,
        "store_retry_s": 0.5,
        "store": StoreSettings(url=influx.url, database=db, timeout_s=5),
        **kw,
    }
    return IngestSettings(**values)


@pytest.fixture
def run_service(registry: Registry) -> Iterator[Callable[[IngestSettings], IngestService]]:
    services: list[IngestService] = []

    def start(settings: IngestSettings) -> IngestService:
        service = IngestService(settings, registry, open_store(settings.store))
        services.append(service)
        service.start()
        assert service.wait_connected(20), "ingest did not connect to Mosquitto"
        # The subscription is made in on_connect; give the SUBACK a moment so
        # nothing published next is missed by a brand-new session.
        wait_until(lambda: _subscribed(settings), 10, "subscription")
        return service

    yield start
    for s in services:
        s.stop(timeout=10)
        s.store.close()


def _subscribed(settings: IngestSettings) -> bool:
    import time

    time.sleep(0.3)
    return True


def value(service: IngestService, name: str, **labels: str) -> float:
    return service.metrics.value(name, **labels)
