"""The ingest as a real process (``python -m ingest``): killed, restarted, fuzzed."""

from __future__ import annotations

import contextlib
import json
import random
import subprocess
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.registry import Registry
from ingest.deadletters import decode_payload, read_dead_letters
from tests.ingest.conftest import IngestProcess, expect_all, publish, wait_until
from tests.ingest.messages import iso, presence_payload, presence_topic, recent_start, stream
from tests.servers import InfluxServer, MosquittoServer, find_binary

STEP = timedelta(milliseconds=1)


def test_sigkill_mid_stream_then_restart_loses_nothing(
    mosquitto: MosquittoServer, influx: InfluxServer, database: str, registry: Registry,
    ingest_process: Callable[..., IngestProcess],
) -> None:  # fmt: skip
    n = 30_000
    msgs = stream(registry.site("virastotalo"), n, start=recent_start(n, STEP), step=STEP)
    ingest = ingest_process(mosquitto, influx, database).start()
    assert ingest.proc is not None
    (receiver,) = _children(ingest.proc.pid)  # the paho process (ingest.mqtt)
    killed: list[float] = []

    def kill(i: int) -> None:
        if i == 12_000:
            # Some messages are in the broker's window, some in a half-built
            # batch, some written but not yet acknowledged: all must survive.
            ingest.kill()
            killed.append(i)

    publish(mosquitto.url, msgs, during=kill)
    assert killed and ingest.proc is not None and ingest.proc.returncode == -9
    # The receiver leaves with the service (its socket closes) and acknowledges
    # nothing more: it must not hold the session against the restarted ingest.
    wait_until(lambda: not _alive(receiver), 10, "the receiver process to exit")
    ingest.start()
    (receiver,) = _children(ingest.proc.pid)
    expect_all(influx, database, n, timeout=120)
    assert ingest.stop() == 0  # SIGTERM: a clean stop
    assert not _alive(receiver)  # stopped (and reaped) by the service


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            out += [int(c) for c in (task / "children").read_text().split()]
    return out


def _alive(pid: int) -> bool:
    try:
        # A zombie (exited, not yet reaped by init) counts as gone.
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _without(body: dict[str, object], key: str) -> bytes:
    return json.dumps({k: v for k, v in body.items() if k != key}).encode()


def _with(body: dict[str, object], key: str, value: object) -> bytes:
    return json.dumps({**body, key: value}).encode()


def _bad_payloads(rng: random.Random, space: str, now: datetime) -> list[tuple[str, bytes]]:
    """(expected reason, payload) pairs; the reason follows from how each was made."""
    good = json.loads(presence_payload(space, now))
    kinds: list[tuple[str, Callable[[], bytes]]] = [
        ("invalid_json", lambda: json.dumps(good).encode()[: rng.randrange(1, 60)]),
        ("invalid_json", lambda: bytes([0xFF]) + rng.randbytes(rng.randrange(1, 80))),
        ("invalid_json", lambda: b"{" + bytes(rng.choices(b"abc:,{[\"'0123 ", k=30))),
        ("schema", lambda: _with(good, "occupied", rng.choice(["x", None, [1], {}]))),
        ("schema", lambda: json.dumps({**good, "seq": -rng.randrange(1, 10**6)}).encode()),
        ("schema", lambda: _without(good, rng.choice(
            ["space_id", "occupied", "event_time", "seq", "kind", "agent_id", "sensor_id"]))),
        ("schema", lambda: json.dumps([good]).encode()),
        ("schema", lambda: json.dumps({**good, "extra": rng.random()}).encode()),
        ("topic_mismatch", lambda: json.dumps({**good, "space_id": "f2-something"}).encode()),
        ("future_time", lambda: _with(
            good, "event_time", iso(now + timedelta(minutes=rng.randrange(6, 10_000))))),
        ("too_old", lambda: _with(
            good, "event_time", iso(now - timedelta(days=rng.randrange(31, 900))))),
    ]  # fmt: skip
    out = []
    for _ in range(10_000):
        reason, make = rng.choice(kinds)
        # mosquitto_pub -l reads C strings line by line: a NUL byte would end
        # its input early, and a newline would split the message in two.
        payload = make().replace(b"\n", b" ").replace(b"\x00", b"\x01")
        if reason == "invalid_json" and not payload.strip():
            payload = b"{"
        out.append((reason, payload))
    return out


def test_fuzzed_payloads_via_mosquitto_pub(
    tmp_path: Path, mosquitto: MosquittoServer, influx: InfluxServer, database: str,
    registry: Registry, ingest_process: Callable[..., IngestProcess],
) -> None:  # fmt: skip
    mosquitto_pub = find_binary("mosquitto_pub", "mosquitto-clients")
    rng = random.Random(20260105)
    now = datetime.now(UTC).replace(microsecond=0)
    spaces = [s.id for s in registry.site("virastotalo").spaces[:4]]
    ingest = ingest_process(mosquitto, influx, database, "--batch-max-delay-s", "0.2").start()

    # One mosquitto_pub per topic, each reading one message per line from stdin:
    # bad payloads interleaved with 500 valid ones per space.
    per_topic: dict[str, list[bytes]] = {}
    expected: Counter[str] = Counter()
    valid = 0
    bad = _bad_payloads(rng, spaces[0], now)
    chunks = [bad[i::4] for i in range(4)]
    for k, space in enumerate(spaces):
        lines = []
        for j, (reason, payload) in enumerate(chunks[k]):
            if reason == "topic_mismatch" or k == 0:
                lines.append(payload)  # built for spaces[0]: on another topic it mismatches
            else:
                lines.append(payload.replace(spaces[0].encode(), space.encode()))
            expected[reason] += 1
            if j % 5 == 0:
                t = now - timedelta(minutes=30) + timedelta(milliseconds=valid)
                lines.append(presence_payload(space, t, seq=valid))
                valid += 1
        per_topic[presence_topic(space)] = lines
    # Topics that are wrong whatever the payload says.
    wrong_topics = {
        presence_topic(spaces[0], "nosuchsite"): "unknown_site",
        presence_topic("f9-nowhere"): "unknown_space",
    }
    for topic, reason in wrong_topics.items():
        space = topic.split("/")[4]
        per_topic[topic] = [presence_payload(space, now, seq=i) for i in range(100)]
        expected[reason] += 100
    # A topic outside the contract gets no subscription, so nothing arrives from it.
    total = sum(len(v) for v in per_topic.values())

    procs = []
    for topic, lines in per_topic.items():
        p = subprocess.Popen(
            [mosquitto_pub, "-h", "127.0.0.1", "-p", str(mosquitto.port), "-q", "1",
             "-i", f"fuzz-{abs(hash(topic)) % 10**8}", "-t", topic, "-l"],
            stdin=subprocess.PIPE,
        )  # fmt: skip
        assert p.stdin is not None
        p.stdin.write(b"\n".join(lines) + b"\n")
        p.stdin.close()
        procs.append(p)
    for p in procs:
        assert p.wait(120) == 0

    wait_until(lambda: ingest.metric("ingest_messages_acked_total") == total, 120, "every ack")
    expect_all(influx, database, valid, timeout=30)
    records = read_dead_letters(tmp_path / "ingest" / "dead-letters")
    assert Counter(r["reason"] for r in records) == expected
    assert sum(expected.values()) == 10_200
    # The raw payload is kept exactly, binary ones included.
    sent = Counter(p for lines in per_topic.values() for p in lines)
    assert all(sent[decode_payload(r)] > 0 for r in records)
    for reason, count in expected.items():
        labelled = f'ingest_dead_letters_total{{reason="{reason}"}}'
        assert ingest.metric(labelled) == count
    assert ingest.proc is not None and ingest.proc.poll() is None  # still up
