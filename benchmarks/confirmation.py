"""What end-to-end confirmation costs: messages, bytes, outbox size and rates.

Run: .venv/bin/python benchmarks/confirmation.py [--events 5000] [--backlog 20000]
     [--seconds 20] [--runs 3]

Real Mosquitto (deploy/mosquitto/tuning.conf), real InfluxDB 1.x, the real
ingest (in-process ``IngestService``) and real edge agents (in-process
``EdgeAgent``: SQLite outbox with synchronous=FULL, simulated sensors). Every
case runs twice on fresh servers, in this run: confirmation off (the
baseline: the agent deletes a row on the broker's PUBACK, the ingest
publishes no confirmations) and on. A subscriber on ``occupancy/v1/#`` counts
the presence and ``stored`` messages and their payload bytes.

1. agent drain: one agent's outbox holds ``--events`` events (as after an
   outage) and empties it, max_inflight 20; the rate is events over the time
   until the outbox is empty (off: every PUBACK in; on: every confirmation in).
2. ingest drain, the worst case for confirmations: every space of the example
   site its own agent (280 agents), ``--backlog`` messages queued for an
   absent ingest, which then drains them: one confirmation per agent per
   batch.
3. live: the example site's 4 agents, 10 simulated sensors each (random
   spells of 2 s on average, at least 1 s), on the real clock for
   ``--seconds``; the outbox depth is sampled every 50 ms.

Drains run ``--runs`` times, the order of off and on alternating; the table
gives the medians (this machine's disk and cores are shared: single runs
vary by tens of per cent).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import yaml
from paho.mqtt.enums import CallbackAPIVersion

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core.messages import Presence, PresenceKind  # noqa: E402
from core.registry import load_registry  # noqa: E402
from edge.agent import EdgeAgent  # noqa: E402
from edge.config import AgentConfig  # noqa: E402
from edge.presence import StateEvent  # noqa: E402
from ingest.config import IngestSettings  # noqa: E402
from ingest.service import IngestService  # noqa: E402
from storage import StoreSettings, open_store  # noqa: E402
from tests.servers import InfluxServer, MosquittoServer  # noqa: E402

SITE_FILE = REPO / "examples" / "sites" / "virastotalo.yaml"


@dataclass
class Tally:
    """Presence and stored messages seen on the broker, with payload bytes."""

    counts: dict[str, int] = field(default_factory=lambda: {"presence": 0, "stored": 0})
    sizes: dict[str, int] = field(default_factory=lambda: {"presence": 0, "stored": 0})

    def on_message(self, c: Any, u: Any, m: paho.MQTTMessage) -> None:
        kind = m.topic.rsplit("/", 1)[1]
        if kind in self.counts:
            self.counts[kind] += 1
            self.sizes[kind] += len(m.payload)


def monitor(broker: MosquittoServer, tally: Tally) -> paho.Client:
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-mon-{time.monotonic_ns()}")
    done = threading.Event()
    c.on_message = tally.on_message
    c.on_subscribe = lambda *a: done.set()
    c.connect("127.0.0.1", broker.port)
    c.loop_start()
    c.subscribe("occupancy/v1/#", qos=0)
    done.wait(10)
    return c


def ingest(broker: MosquittoServer, influx: InfluxServer, work: Path, db: str, *,
           registry: Path, confirm: bool) -> IngestService:  # fmt: skip
    settings = IngestSettings(
        registry=registry, broker_url=broker.url, client_id="bench-ingest", replica="bench",
        spool_dir=work / "spool", dead_letter_dir=work / "dead", metrics_port=None,
        confirm=confirm, store=StoreSettings(url=influx.url, database=db),
    )  # fmt: skip
    service = IngestService(settings, load_registry(registry), open_store(settings.store))
    service.start()
    service.wait_connected(30)
    return service


def stored_count(influx: InfluxServer, db: str) -> int:
    body = influx.query("SELECT count(seq) FROM presence", db=db)
    series = body["results"][0].get("series") or []
    return int(series[0]["values"][0][1]) if series else 0


def agent_config(broker: MosquittoServer, work: Path, agent: str, spaces: list[dict[str, Any]],
                 *, confirm: bool, spell_s: float) -> AgentConfig:  # fmt: skip
    # random spells (seeded per sensor), so that an agent's sensors do not all
    # change at the same instant
    sensors = [
        {"type": "simulated", "id": s["sensor"]["id"], "space": s["id"], "mode": "random",
         "occupied_s": spell_s, "vacant_s": spell_s, "seed": i}
        for i, s in enumerate(spaces[:10])
    ]  # fmt: skip
    return AgentConfig.model_validate(
        {
            "site": "virastotalo", "agent_id": agent, "tick_s": 0.01,
            "broker": {"url": broker.url, "keepalive_s": 10, "reconnect_max_s": 1},
            "outbox": {"path": str(work / f"{agent}.sqlite3"), "confirm": confirm},
            "sensors": sensors,
        }
    )  # fmt: skip


def site_spaces() -> dict[str, list[dict[str, Any]]]:
    data = yaml.safe_load(SITE_FILE.read_text(encoding="utf-8"))
    by_agent: dict[str, list[dict[str, Any]]] = {}
    for s in data["spaces"]:
        if "sensor" in s:
            by_agent.setdefault(s["sensor"]["agent"], []).append(s)
    return by_agent


def wait(cond: Callable[[], bool], timeout: float = 300) -> float:
    t0 = time.perf_counter()
    while not cond():
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError("the benchmark case did not finish")
        time.sleep(0.005)
    return time.perf_counter()


def run_agent(agent: EdgeAgent) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
    thread.start()
    return stop, thread


# ---- the cases -----------------------------------------------------------------
def agent_drain(work: Path, n: int, confirm: bool) -> dict[str, float]:
    broker = MosquittoServer(work / "mq").start()
    influx = InfluxServer(work / "influx").start()
    tally = Tally()
    mon = monitor(broker, tally)
    service = ingest(broker, influx, work / "ingest", "bench", registry=SITE_FILE,
                     confirm=confirm)  # fmt: skip
    try:
        spaces = site_spaces()["agent-f1"]
        cfg = agent_config(broker, work, "agent-f1", spaces, confirm=confirm, spell_s=10**6)
        agent = EdgeAgent(cfg)
        start = datetime.now(UTC) - timedelta(hours=1)
        for i in range(n):  # distinct event times per space: n distinct points
            sensor = cfg.sensors[i % 10].id
            agent._enqueue(sensor, StateEvent(start + timedelta(milliseconds=i), bool(i % 2),
                                              None, PresenceKind.CHANGE))  # fmt: skip
        total = agent.outbox.depth + 10  # each sensor's first state at start
        peak = agent.outbox.depth
        t0 = time.perf_counter()
        stop, thread = run_agent(agent)
        t_empty = wait(lambda: agent.outbox.depth == 0)
        t_stored = wait(lambda: stored_count(influx, "bench") >= total)
        stop.set()
        thread.join(10)
        time.sleep(0.5)  # the last confirmations reach the monitor
        return {
            "rate": total / (t_empty - t0), "stored_rate": total / (t_stored - t0),
            "events": total, "peak": peak, **_ratios(tally),
        }  # fmt: skip
    finally:
        service.stop()
        service.store.close()
        mon.disconnect()
        broker.stop()
        influx.stop()


def ingest_drain(work: Path, n: int, confirm: bool) -> dict[str, float]:
    # every space its own agent: one confirmation per message of a batch at worst
    data = yaml.safe_load(SITE_FILE.read_text(encoding="utf-8"))
    spaces = [s for s in data["spaces"] if "sensor" in s]
    for s in spaces:
        s["sensor"]["agent"] = f"a-{s['id']}"
    site_file = work / "site.yaml"
    site_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    broker = MosquittoServer(work / "mq").start()
    influx = InfluxServer(work / "influx").start()
    tally = Tally()
    mon = monitor(broker, tally)
    try:
        service = ingest(broker, influx, work / "ingest", "bench", registry=site_file,
                         confirm=confirm)  # fmt: skip
        service.stop()  # away: the broker queues the backlog for its session
        service.store.close()
        start = datetime.now(UTC) - timedelta(hours=1)
        msgs = []
        for i in range(n):
            s = spaces[i % len(spaces)]
            msg = Presence(space_id=s["id"], agent_id=s["sensor"]["agent"],
                           sensor_id=s["sensor"]["id"], occupied=bool(i % 2),
                           event_time=start + timedelta(milliseconds=i), seq=i // len(spaces),
                           kind=PresenceKind.CHANGE)  # fmt: skip
            topic = f"occupancy/v1/virastotalo/spaces/{s['id']}/presence"
            msgs.append((topic, msg.model_dump_json(exclude_none=True).encode()))
        _publish(broker, msgs)
        settings = service.settings
        service = IngestService(settings, load_registry(site_file), open_store(settings.store))
        # started on a thread: the backlog flows the moment it subscribes, so
        # the clock starts at the first message received, not when start() returns
        starter = threading.Thread(target=service.start, daemon=True)
        starter.start()
        metric = service.metrics.value
        t0 = wait(lambda: metric("ingest_messages_received_total") > 0, 60)
        t1 = wait(lambda: metric("ingest_messages_acked_total") >= n)
        starter.join(30)
        time.sleep(0.5)
        out = {"rate": n / (t1 - t0), "events": n, **_ratios(tally)}
        service.stop()
        service.store.close()
        return out
    finally:
        mon.disconnect()
        broker.stop()
        influx.stop()


def live(work: Path, seconds: float, confirm: bool) -> dict[str, float]:
    broker = MosquittoServer(work / "mq").start()
    influx = InfluxServer(work / "influx").start()
    tally = Tally()
    mon = monitor(broker, tally)
    service = ingest(broker, influx, work / "ingest", "bench", registry=SITE_FILE,
                     confirm=confirm)  # fmt: skip
    agents = [
        EdgeAgent(agent_config(broker, work, a, spaces, confirm=confirm, spell_s=2.0))
        for a, spaces in sorted(site_spaces().items())
    ]
    runs = [run_agent(a) for a in agents]
    depths: list[int] = []
    try:
        t_end = time.monotonic() + seconds
        while time.monotonic() < t_end:
            depths.append(sum(a.outbox.depth for a in agents))
            time.sleep(0.05)
        events = sum(a.enqueued for a in agents)
        for stop, _ in runs:
            stop.set()
        for _, thread in runs:
            thread.join(10)
        time.sleep(0.5)
        return {
            "rate": events / seconds, "events": events, "mean_depth": statistics.mean(depths),
            "peak": max(depths), **_ratios(tally),
        }  # fmt: skip
    finally:
        service.stop()
        service.store.close()
        mon.disconnect()
        broker.stop()
        influx.stop()


def _ratios(t: Tally) -> dict[str, float]:
    p = max(1, t.counts["presence"])
    return {
        "presence_msgs": t.counts["presence"], "stored_msgs": t.counts["stored"],
        "msgs_per": t.counts["stored"] / p,
        "bytes_per": t.sizes["stored"] / max(1, t.sizes["presence"]),
    }  # fmt: skip


def _publish(broker: MosquittoServer, msgs: list[tuple[str, bytes]]) -> None:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-pub")
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    infos = [client.publish(t, p, qos=1) for t, p in msgs]
    for info in infos:
        info.wait_for_publish(60)
    client.disconnect()
    client.loop_stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--backlog", type=int, default=20_000)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    cases: list[tuple[str, int, Callable[[Path, bool], dict[str, float]]]] = [
        (f"agent drain, {args.events:,} events", args.runs,
         lambda w, c: agent_drain(w, args.events, c)),
        (f"ingest drain, {args.backlog:,} msgs of 280 agents", args.runs,
         lambda w, c: ingest_drain(w, args.backlog, c)),
        (f"live, 4 agents, {args.seconds:.0f} s", 1, lambda w, c: live(w, args.seconds, c)),
    ]  # fmt: skip
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, runs, case) in enumerate(cases):
            got: dict[bool, list[dict[str, float]]] = {False: [], True: []}
            for run in range(runs):
                for confirm in (False, True) if run % 2 == 0 else (True, False):
                    work = Path(tmp) / f"c{i}-{run}-{int(confirm)}"
                    work.mkdir()
                    r = case(work, confirm)
                    print(f"  {name}, confirm={confirm}: {json.dumps(r)}", file=sys.stderr)
                    got[confirm].append(r)
            for confirm in (False, True):
                rs = got[confirm]
                medians = {k: statistics.median(r[k] for r in rs) for k in rs[0]}
                rows.append((name, confirm, medians))
    print("| case | confirmation | rate (median) | stored msgs / presence msg | their bytes / "
          "presence bytes | outbox depth |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for name, confirm, r in rows:
        unit = "msg/s" if "ingest" in name else "events/s"
        depth = f"mean {r['mean_depth']:.1f}, peak {r['peak']:,.0f}" if "mean_depth" in r else (
            f"{r['peak']:,.0f} at start" if "peak" in r else "-")  # fmt: skip
        note = f" (all stored: {r['stored_rate']:,.0f})" if "stored_rate" in r else ""
        print(f"| {name} | {'on' if confirm else 'off (baseline)'} | {r['rate']:,.0f} {unit}"
              f"{note} | {r['msgs_per']:.3f} | {r['bytes_per']:.3f} | {depth} |")  # fmt: skip


if __name__ == "__main__":
    main()
