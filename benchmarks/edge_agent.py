"""Edge agent footprint and outbox drain rate, against a real Mosquitto.

    .venv/bin/python benchmarks/edge_agent.py [--seconds 30] [--sensors 50] [--events 5000]

Prints one table. Baselines measured in the same run:
* footprint: an idle Python process running a paho client alone (connected,
  network loop running) — the floor any MQTT agent in Python pays;
* drain: raw paho publishing the same payloads at QoS 1 with the same
  in-flight window, with no outbox (the broker round trip alone);
* outbox writes: synchronous=NORMAL next to the FULL the agent uses.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import yaml  # noqa: E402

from tests.servers import MosquittoServer  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def proc_sample(pid: int) -> tuple[float, int, int]:
    """(cpu seconds, RSS kB, peak RSS kB) of a process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICKS
    rss = hwm = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    return cpu, rss, hwm


def measure(
    argv: list[str], warmup: float, seconds: float, env: dict[str, str]
) -> tuple[float, float, float]:
    """Run a process, skip the warm-up, then return (CPU % of one core, RSS MB, peak RSS MB)."""
    proc = subprocess.Popen(
        argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        time.sleep(warmup)
        if proc.poll() is not None:
            raise RuntimeError(
                f"{argv} exited: {proc.stderr.read().decode() if proc.stderr else ''}"
            )
        c0, _, _ = proc_sample(proc.pid)
        t0 = time.monotonic()
        time.sleep(seconds)
        c1, rss, hwm = proc_sample(proc.pid)
        wall = time.monotonic() - t0
    finally:
        proc.terminate()
        proc.wait(20)
    return 100.0 * (c1 - c0) / wall, rss / 1024, hwm / 1024


IDLE_PAHO = textwrap.dedent(
    """
    import sys, time
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="idle-baseline")
    c.connect_async("127.0.0.1", int(sys.argv[1]), 30)
    c.loop_start()
    while True:
        time.sleep(1)
    """
)


def agent_config(
    port: int, workdir: Path, sensors: int, *, outbox: Path, inflight: int = 20
) -> Path:
    data = {
        "site": "virastotalo",
        "agent_id": "agent-bench",
        "heartbeat_s": 300,
        "health_s": 60,
        "tick_s": 1.0,
        "broker": {"url": f"mqtt://127.0.0.1:{port}", "keepalive_s": 30, "reconnect_max_s": 2},
        "outbox": {"path": str(outbox), "max_inflight": inflight},
        "sensors": [
            # busier than an office (spells of 2-3 minutes) so the run sees traffic
            {"type": "simulated", "id": f"s{i:03d}", "space": f"f1-d{i:03d}", "occupied_s": 120,
             "vacant_s": 180, "seed": i, "battery_pct": 90}
            for i in range(sensors)
        ],
    }  # fmt: skip
    path = workdir / f"edge-{sensors}-{inflight}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def payloads(n: int) -> list[tuple[str, datetime, bytes]]:
    from core.messages import Presence, PresenceKind

    t0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    out = []
    for i in range(n):
        at = t0 + timedelta(seconds=i)
        msg = Presence(
            space_id=f"f1-d{i % 50:03d}",
            agent_id="agent-bench",
            sensor_id=f"s{i % 50:03d}",
            occupied=bool(i % 2),
            event_time=at,
            seq=i,
            kind=PresenceKind.CHANGE,
            heartbeat_interval_s=300,
        )
        out.append(
            (
                f"occupancy/v1/virastotalo/spaces/f1-d{i % 50:03d}/presence",
                at,
                msg.model_dump_json().encode(),
            )
        )
    return out


def _constant(body: bytes) -> Callable[[int], bytes]:
    # the prepared payloads already carry their seq
    return lambda seq: body


def outbox_append_rate(workdir: Path, n: int, synchronous: str) -> float:
    from edge.outbox import Outbox

    ob = Outbox(
        workdir / f"append-{synchronous}.db",
        max_events=10**7,
        max_age_s=10**9,
        synchronous=synchronous,
    )
    items = payloads(n)
    t0 = time.perf_counter()
    for topic, at, body in items:
        ob.append(topic, at, _constant(body))
    rate = n / (time.perf_counter() - t0)
    ob.close()
    return rate


def drain_agent(port: int, workdir: Path, n: int, inflight: int) -> float:
    from edge.agent import EdgeAgent
    from edge.config import load_config
    from edge.outbox import Outbox

    box = workdir / f"drain-{inflight}.db"
    ob = Outbox(box, max_events=10**7, max_age_s=10**9)
    for topic, at, body in payloads(n):
        ob.append(topic, at, _constant(body))
    ob.close()
    cfg = load_config(agent_config(port, workdir, 1, outbox=box, inflight=inflight))
    # the one simulated sensor of this config stays quiet: only the backlog moves
    now = datetime(2026, 1, 5, 8, 0, tzinfo=UTC) + timedelta(seconds=n)
    agent = EdgeAgent(cfg, clock=lambda: now)
    agent.start()
    while not agent.link.connected:
        agent.run_once(0.05)
    t0 = time.perf_counter()
    while agent.outbox.depth > 1:  # the sensor's own first event may remain in flight
        agent.run_once(0.05)
    rate = (n - 1) / (time.perf_counter() - t0)
    agent.shutdown()
    return rate


def drain_paho(port: int, n: int, inflight: int) -> float:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    items = payloads(n)
    done = threading.Semaphore(inflight)
    acked = [0]
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"raw-{inflight}")

    def on_publish(client, userdata, mid, rc, props):
        acked[0] += 1
        done.release()

    c.on_publish = on_publish
    c.connect("127.0.0.1", port)
    c.loop_start()
    t0 = time.perf_counter()
    for topic, _, body in items:
        done.acquire()
        c.publish(topic, body, qos=1)
    while acked[0] < n:
        time.sleep(0.001)
    rate = n / (time.perf_counter() - t0)
    c.disconnect()
    c.loop_stop()
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--sensors", type=int, default=50)
    ap.add_argument("--events", type=int, default=5000)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="edge-bench-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o777)  # Mosquitto may drop root privileges
        broker = MosquittoServer(work / "mosquitto").start()
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        rows: list[tuple[str, str, str]] = []
        try:
            cpu, rss, hwm = measure(
                [sys.executable, "-c", IDLE_PAHO, str(broker.port)], args.warmup, args.seconds, env
            )
            rows.append(
                (
                    "baseline: idle python + paho",
                    f"{rss:.1f} MB (peak {hwm:.1f})",
                    f"{cpu:.2f} % CPU",
                )
            )
            cfg = agent_config(broker.port, work, args.sensors, outbox=work / "agent.db")
            cpu, rss, hwm = measure(
                [sys.executable, "-m", "occupancy", "edge", "--config", str(cfg)],
                args.warmup,
                args.seconds,
                env,
            )
            rows.append(
                (
                    f"edge agent, {args.sensors} simulated sensors",
                    f"{rss:.1f} MB (peak {hwm:.1f})",
                    f"{cpu:.2f} % CPU",
                )
            )
            n = args.events
            rows.append(
                (
                    "baseline: raw paho QoS 1, window 20",
                    f"{drain_paho(broker.port, n, 20):,.0f} ev/s",
                    f"{n} events",
                )
            )
            rows.append(
                (
                    "outbox drain, max_inflight 20",
                    f"{drain_agent(broker.port, work, n, 20):,.0f} ev/s",
                    f"{n} events",
                )
            )
            rows.append(
                (
                    "baseline: raw paho QoS 1, window 100",
                    f"{drain_paho(broker.port, n, 100):,.0f} ev/s",
                    f"{n} events",
                )
            )
            rows.append(
                (
                    "outbox drain, max_inflight 100",
                    f"{drain_agent(broker.port, work, n, 100):,.0f} ev/s",
                    f"{n} events",
                )
            )
            m = min(n, 2000)
            rows.append(
                (
                    "outbox append, synchronous=NORMAL",
                    f"{outbox_append_rate(work, m, 'NORMAL'):,.0f} ev/s",
                    f"{m} events",
                )
            )
            rows.append(
                (
                    "outbox append, synchronous=FULL",
                    f"{outbox_append_rate(work, m, 'FULL'):,.0f} ev/s",
                    f"{m} events",
                )
            )
        finally:
            broker.stop()

    print(f"\nEdge agent ({args.seconds:.0f} s windows after {args.warmup:.0f} s warm-up; "
          f"goal: RSS < 60 MB, CPU < 5 % of one core)\n")  # fmt: skip
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    print(f"| {'case':<{w0}} | {'memory / rate':<{w1}} | {'cpu / size':<14} |")
    print(f"|{'-' * (w0 + 2)}|{'-' * (w1 + 2)}|{'-' * 16}|")
    for a, b, c in rows:
        print(f"| {a:<{w0}} | {b:<{w1}} | {c:<14} |")


if __name__ == "__main__":
    main()
