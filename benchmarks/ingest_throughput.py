"""Ingest throughput and latency: MQTT QoS 1 -> InfluxDB, against baselines.

Run: .venv/bin/python benchmarks/ingest_throughput.py [--messages 100000]

Starts a real Mosquitto (with deploy/mosquitto/tuning.conf) and a real
InfluxDB 1.x through tests/servers.py, then in one run:

1. Sustained rate, ``--runs`` times. For each consumer in turn (the order
   alternates between runs) a persistent session subscribes, the publisher
   queues N messages for it, and the consumer drains that backlog alone; its
   session is then ended:
   (a) a bare paho QoS 1 subscriber that does nothing with the messages,
   (c) the ingest (IngestService: batched, durable, acks after the write);
   (d) the ingest again, on a backlog of entrance counts (people-counter
       visit messages of the example site's service-point door: validated,
       rate-checked, reset-tracked, stored);
   in the first run also
   (b) a naive ingest: validate, then one HTTP write per message (timed on a
       slice of the backlog: it is too slow to drain all of it).
   Draining a backlog measures the consumer, not the publisher. The median
   of the runs' ingest/bare ratios is the figure; the CPU time each process
   spent per message shows what bounds it (Linux /proc).
2. Latency (measured first, on fresh servers). The ingest runs live while
   a publisher sends 2,000 msg/s for ``--latency-seconds``; a poller asks
   InfluxDB 50 times a second which messages are queryable, and each
   message's publish-to-queryable time is taken from the first poll that
   saw it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core.messages import Presence  # noqa: E402
from core.registry import load_registry  # noqa: E402
from ingest.config import IngestSettings  # noqa: E402
from ingest.pipeline import Reason  # noqa: E402
from ingest.service import IngestService  # noqa: E402
from storage import StoreSettings, open_store  # noqa: E402
from storage.points import presence_point  # noqa: E402
from tests.servers import InfluxServer, MosquittoServer  # noqa: E402

SITES = REPO / "examples" / "sites"
FILTER = "occupancy/v1/+/spaces/+/presence"
COUNTS_FILTER = "occupancy/v1/+/entrances/+/counts"


def bound_spaces() -> list[tuple[str, str, str]]:
    """(space, sensor, agent) of each space with a sensor: the ingest dead-letters
    presence from any other sensor or agent (identity_mismatch)."""
    site = load_registry(SITES).site("virastotalo")
    return [(s.id, s.sensor.id, s.sensor.agent) for s in site.spaces if s.sensor is not None]


def messages(n: int, start: datetime, step: timedelta) -> list[tuple[str, bytes]]:
    site = load_registry(SITES).site("virastotalo")
    spaces = bound_spaces()
    out = []
    for i in range(n):
        space, sensor, agent = spaces[i % len(spaces)]
        t = start + i * step
        body = {
            "schema_version": 1, "space_id": space, "agent_id": agent,
            "sensor_id": sensor, "occupied": bool(i % 2), "seq": i, "kind": "change",
            "event_time": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }  # fmt: skip
        out.append((f"occupancy/v1/{site.id}/spaces/{space}/presence", json.dumps(body).encode()))
    return out


def counts_messages(n: int, start: datetime, step: timedelta) -> list[tuple[str, bytes]]:
    """``n`` entrance counts of the service point's door, one per event time,
    with running totals (so the reset check runs on every one)."""
    site = load_registry(SITES).site("virastotalo")
    door = site.entrances[0]
    assert door.counter is not None
    topic = f"occupancy/v1/{site.id}/entrances/{door.id}/counts"
    out = []
    total_in = total_out = 0
    for i in range(n):
        came, left = i % 4, (i + 2) % 4
        total_in, total_out = total_in + came, total_out + left
        body = {
            "schema_version": 1, "entrance_id": door.id, "agent_id": door.counter.agent,
            "sensor_id": door.counter.id, "in_count": came, "out_count": left,
            "interval_s": 60.0, "seq": i, "total_in": total_in, "total_out": total_out,
            "event_time": (start + i * step).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }  # fmt: skip
        out.append((topic, json.dumps(body).encode()))
    return out


def v5_client(client_id: str, *, manual_ack: bool = False) -> tuple[paho.Client, Properties]:
    client = paho.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5,
        manual_ack=manual_ack,
    )  # fmt: skip
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600
    props.ReceiveMaximum = 20_000
    return client, props


def make_session(broker: MosquittoServer, client_id: str, topic_filter: str = FILTER) -> None:
    """Create a persistent session with the subscription, then leave."""
    client, props = v5_client(client_id)
    done = threading.Event()
    client.on_subscribe = lambda *a: done.set()
    client.connect("127.0.0.1", broker.port, clean_start=False, properties=props)
    client.loop_start()
    client.subscribe(topic_filter, qos=1)
    done.wait(10)
    client.disconnect()
    client.loop_stop()


def drop_session(broker: MosquittoServer, client_id: str) -> None:
    """End a session and its queue (clean start, expiry 0). A drained consumer's
    session left behind would still be subscribed, so the broker would queue
    every later message for it too, and save them all every second."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 0
    done = threading.Event()
    client.on_connect = lambda *a: done.set()
    client.connect("127.0.0.1", broker.port, clean_start=True, properties=props)
    client.loop_start()
    done.wait(10)
    client.disconnect()
    client.loop_stop()


def publish(broker: MosquittoServer, msgs: list[tuple[str, bytes]]) -> None:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-pub")
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    infos: list[paho.MQTTMessageInfo] = []
    for i, (topic, payload) in enumerate(msgs):
        if i >= 20_000:
            infos[i - 20_000].wait_for_publish(60)
        infos.append(client.publish(topic, payload, qos=1))
    for info in infos:
        info.wait_for_publish(60)
    client.disconnect()
    client.loop_stop()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drain_bare(broker: MosquittoServer, n: int, client_id: str) -> float:
    client, props = v5_client(client_id)
    count = 0
    first = last = 0.0
    done = threading.Event()

    def on_message(c: paho.Client, u: object, m: paho.MQTTMessage) -> None:
        nonlocal count, first, last
        count += 1
        if count == 1:
            first = time.perf_counter()
        if count == n:
            last = time.perf_counter()
            done.set()

    client.on_message = on_message
    client.connect("127.0.0.1", broker.port, clean_start=False, properties=props)
    client.loop_start()
    done.wait(600)
    client.disconnect()
    client.loop_stop()
    return (n - 1) / (last - first)


def drain_naive(broker: MosquittoServer, influx: InfluxServer, budget_s: float) -> float:
    """One HTTP write per message, acknowledged (auto) after the write."""
    registry = load_registry(SITES)
    store = open_store(StoreSettings(url=influx.url, database="bench_naive"))
    client, props = v5_client("bench-naive")
    count = 0
    first = 0.0
    done = threading.Event()

    def on_message(c: paho.Client, u: object, m: paho.MQTTMessage) -> None:
        nonlocal count, first
        if done.is_set():
            return
        msg = Presence.model_validate_json(m.payload)
        store.write([presence_point(registry.site(m.topic.split("/")[2]), msg)])
        count += 1
        if count == 1:
            first = time.perf_counter()
        if time.perf_counter() - first > budget_s and count > 1:
            done.set()

    client.on_message = on_message
    client.connect("127.0.0.1", broker.port, clean_start=False, properties=props)
    client.loop_start()
    done.wait(budget_s + 60)
    elapsed = time.perf_counter() - first
    client.disconnect()
    client.loop_stop()
    store.close()
    return (count - 1) / elapsed


def ingest_settings(broker: MosquittoServer, influx: InfluxServer, work: Path, db: str,
                    client_id: str) -> IngestSettings:  # fmt: skip
    return IngestSettings(
        registry=SITES, broker_url=broker.url, client_id=client_id, replica="bench",
        spool_dir=work / client_id / "spool", dead_letter_dir=work / client_id / "dead",
        metrics_port=None, store=StoreSettings(url=influx.url, database=db),
    )  # fmt: skip


def drain_ingest(
    broker: MosquittoServer, influx: InfluxServer, work: Path, n: int, client_id: str
) -> tuple[float, float]:
    """(msg/s, CPU seconds of the receiver process while draining)."""
    settings = ingest_settings(broker, influx, work, "bench_ingest", client_id)
    service = IngestService(settings, load_registry(SITES), open_store(settings.store))
    service.start()
    service.wait_connected(30)
    receiver = service.receiver_pid
    assert receiver is not None
    cpu0 = cpu_seconds(receiver)
    first = None
    while True:
        received = service.metrics.value("ingest_messages_received_total")
        if first is None and received > 0:
            first = time.perf_counter()
        if service.metrics.value("ingest_messages_acked_total") >= n:
            break
        time.sleep(0.005)
    elapsed = time.perf_counter() - (first or 0)
    cpu = cpu_seconds(receiver) - cpu0
    # every message must have been stored: a dead-lettered backlog would be
    # measuring the dead-letter path instead
    dead = sum(service.metrics.value("ingest_dead_letters_total", reason=r.value) for r in Reason)
    service.stop()
    if dead:
        raise SystemExit(f"{client_id}: {dead:.0f} of {n} messages were dead letters")
    service.store.close()
    return n / elapsed, cpu


def queryable_seq(influx: InfluxServer, db: str) -> int:
    q = urllib.parse.urlencode({"q": "SELECT count(seq) FROM presence", "db": db})
    with urllib.request.urlopen(f"{influx.url}/query?{q}", timeout=5) as resp:
        body = json.loads(resp.read())
    series = body["results"][0].get("series")
    return int(series[0]["values"][0][1]) if series else 0


def latency(broker: MosquittoServer, influx: InfluxServer, work: Path, rate: int,
            seconds: float) -> tuple[float, float, float, int]:  # fmt: skip
    db = "bench_latency"
    settings = ingest_settings(broker, influx, work, db, "bench-latency")
    service = IngestService(settings, load_registry(SITES), open_store(settings.store))
    service.start()
    service.wait_connected(10)
    time.sleep(0.5)
    n = int(rate * seconds)
    spaces = bound_spaces()
    sent_at: list[float] = [0.0] * n
    seen_at: list[float] = [0.0] * n
    stop = threading.Event()

    def poll() -> None:
        # One ingest writes batches in arrival order, so "count = k" means
        # messages 0..k-1 are all queryable.
        done = 0
        while done < n and not stop.is_set():
            k = queryable_seq(influx, db)
            now = time.perf_counter()
            for i in range(done, min(k, n)):
                seen_at[i] = now
            done = max(done, k)
            time.sleep(0.02)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-lat-pub")
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    t0 = time.perf_counter()
    last_event = datetime.now(UTC) - timedelta(seconds=1)
    for i in range(n):
        target = t0 + i / rate
        delay = target - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        now = datetime.now(UTC)
        last_event = max(now, last_event + timedelta(microseconds=1))
        space, sensor, agent = spaces[i % len(spaces)]
        body = {
            "space_id": space, "agent_id": agent, "sensor_id": sensor, "occupied": True,
            "seq": i, "kind": "change", "event_time": last_event.isoformat(),
        }  # fmt: skip
        sent_at[i] = time.perf_counter()
        client.publish(f"occupancy/v1/virastotalo/spaces/{space}/presence", json.dumps(body), qos=1)
    achieved = n / (time.perf_counter() - t0)
    poller.join(60)
    stop.set()
    client.disconnect()
    client.loop_stop()
    service.stop()
    service.store.close()
    lat = sorted(seen_at[i] - sent_at[i] for i in range(n) if seen_at[i])
    missing = sum(1 for s in seen_at if not s)
    p50 = statistics.quantiles(lat, n=100)[49]
    p99 = statistics.quantiles(lat, n=100)[98]
    return achieved, p50, p99, missing


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5, help="bare/ingest pairs (median reported)")
    ap.add_argument("--naive-seconds", type=float, default=10.0)
    ap.add_argument("--latency-rate", type=int, default=2_000)
    ap.add_argument("--latency-seconds", type=float, default=15.0)
    args = ap.parse_args()
    n = args.messages
    rows: list[tuple[float, ...]] = []
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        work = Path(tmp)
        broker = MosquittoServer(work / "mosquitto").start()
        influx = InfluxServer(work / "influx").start()
        assert broker.proc is not None and influx.proc is not None
        servers = (broker.proc.pid, influx.proc.pid)
        try:
            # Latency first, on fresh servers: after the throughput runs have
            # loaded 500,000+ points, InfluxDB compacts its shards in the
            # background for minutes and the figure would measure that instead.
            achieved, p50, p99, missing = latency(
                broker, influx, work, args.latency_rate, args.latency_seconds
            )
            step = timedelta(milliseconds=1)
            base = datetime.now(UTC) - timedelta(hours=3)
            for run in range(args.runs):
                # Each consumer gets its own backlog, queued just before it
                # drains: no other session's backlog sits in the broker (which
                # saves its queues every second) while one is measured. Distinct
                # event times per run and consumer: every drain writes new points.
                order = (
                    ("bare", "ingest", "counts") if run % 2 == 0 else ("counts", "ingest", "bare")
                )
                got: dict[str, float] = {}
                for k, which in enumerate(order):
                    cid = f"bench-{which}-{run}"
                    counts = which == "counts"
                    make_session(broker, cid, COUNTS_FILTER if counts else FILTER)
                    start = base + (3 * run + k) * n * step
                    t = time.perf_counter()
                    publish(broker, (counts_messages if counts else messages)(n, start, step))
                    queued = time.perf_counter() - t
                    before = [cpu_seconds(pid) for pid in (os.getpid(), *servers)]
                    if which == "bare":
                        got["bare"] = drain_bare(broker, n, cid)
                        receiver_cpu = 0.0
                    elif counts:
                        got["counts"], receiver_cpu = drain_ingest(broker, influx, work, n, cid)
                    else:
                        got["ingest"], receiver_cpu = drain_ingest(broker, influx, work, n, cid)
                    after = [cpu_seconds(pid) for pid in (os.getpid(), *servers)]
                    drop_session(broker, cid)
                    cpu = [(y - x) * 1e6 / n for x, y in zip(before, after, strict=True)]
                    if which == "ingest":
                        got["cpu_service"], got["cpu_mosquitto"], got["cpu_influx"] = cpu
                        got["cpu_receiver"] = receiver_cpu * 1e6 / n
                    elif counts:
                        got["cpu_counts_service"] = cpu[0]
                    else:
                        got["cpu_bare"], got["cpu_mosquitto_bare"], _ = cpu
                    print(f"run {run + 1}: {which}: queued {n:,} in {queued:.1f} s, drained at "
                          f"{got[which]:,.0f} msg/s", file=sys.stderr)  # fmt: skip
                keys = ("bare", "ingest", "cpu_bare", "cpu_mosquitto_bare", "cpu_receiver",
                        "cpu_service", "cpu_mosquitto", "cpu_influx", "counts",
                        "cpu_counts_service")  # fmt: skip
                rows.append(tuple(got[k] for k in keys))
            # (b) once: it is too slow to drain a backlog, so it is timed on a slice.
            make_session(broker, "bench-naive")
            publish(broker, messages(min(n, 20_000), base - timedelta(hours=1), step))
            naive = drain_naive(broker, influx, args.naive_seconds)
            drop_session(broker, "bench-naive")
        finally:
            broker.stop()
            influx.stop()
    med = statistics.median
    bare = med(r[0] for r in rows)
    ingest = med(r[1] for r in rows)
    ratio = med(r[1] / r[0] for r in rows)
    visits = med(r[8] for r in rows)
    visits_ratio = med(r[8] / r[0] for r in rows)
    visits_vs_presence = med(r[8] / r[1] for r in rows)
    print()
    print(f"Sustained MQTT QoS 1 -> InfluxDB, backlog of {n:,} messages, same broker; "
          f"{args.runs} runs, bare and ingest each draining its own backlog")  # fmt: skip
    print()
    print("| run | (a) bare paho msg/s | ingest msg/s | ingest / bare |")
    print("|----:|--------------------:|-------------:|--------------:|")
    for i, r in enumerate(rows, 1):
        print(f"| {i:3d} | {r[0]:19,.0f} | {r[1]:12,.0f} | {r[1] / r[0]:13.1%} |")
    print(f"| median | {bare:16,.0f} | {ingest:12,.0f} | {ratio:13.1%} |")
    print()
    print("| consumer                                     |    msg/s | vs bare subscriber |")
    print("|----------------------------------------------|---------:|-------------------:|")
    print(f"| (a) bare paho QoS 1 subscriber, no work      | {bare:8,.0f} |             100 % |")
    print(
        f"| (b) naive ingest, one HTTP write per message | {naive:8,.0f} | {naive / bare:16.1%} |"
    )
    print(f"| ingest (batched, acked when durable)         | {ingest:8,.0f} | {ratio:16.1%} |")
    print(f"| ingest, entrance counts (visit messages)     | {visits:8,.0f} "
          f"| {visits_ratio:16.1%} |")  # fmt: skip
    print()
    print(f"Visit messages (entrance counts) / presence messages through the ingest, median "
          f"of the runs' ratios: {visits_vs_presence:.1%}; ingest service CPU per visit "
          f"message {med(r[9] for r in rows):.1f} µs")  # fmt: skip
    print()
    print("CPU per message while draining, median of the runs (µs):")
    print()
    print("| (a) bare | mosquitto for (a) | ingest receiver (paho) | ingest service "
          "| mosquitto for ingest | influxd |")  # fmt: skip
    print("|---------:|------------------:|-----------------------:|---------------:"
          "|---------------------:|--------:|")  # fmt: skip
    c = [med(r[k] for r in rows) for k in range(2, 8)]
    print(f"| {c[0]:8.1f} | {c[1]:17.1f} | {c[2]:22.1f} | {c[3]:14.1f} | {c[4]:20.1f} "
          f"| {c[5]:7.1f} |")  # fmt: skip
    print()
    print(f"Publish-to-queryable latency, {achieved:,.0f} msg/s for {args.latency_seconds:g} s "
          f"(poll every 20 ms)")  # fmt: skip
    print()
    print("|   p50 |   p99 | never seen |")
    print("|------:|------:|-----------:|")
    print(f"| {p50 * 1000:4.0f} ms | {p99 * 1000:4.0f} ms | {missing:10d} |")


if __name__ == "__main__":
    main()
