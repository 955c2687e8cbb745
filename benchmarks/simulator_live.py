"""Live mode CPU at 10,000 sensors from one process, against a real Mosquitto.

A synthetic site of 10,000 desks + 400 rooms on 40 floors (40 agents, one MQTT
connection each) publishes from Tuesday 09:00 local for a fixed wall time.
CPU share = (user + sys time of this process, all threads) / wall time, from
``resource.getrusage``. Baseline in the same run: the same process idle for the
same wall time. Rows at speed 1 (real time) and 10 (ten times the message rate).
Run: ``.venv/bin/python benchmarks/simulator_live.py [--seconds 60]``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulators.publisher import LiveSimulator, PublisherSettings
from simulators.scenario import Scenario
from simulators.synthetic import synthetic_site
from tests.servers import MosquittoServer

START = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)  # Tuesday 09:00 in Helsinki


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def broker_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    import os

    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    label: str, seconds: float, broker: MosquittoServer, speed: float | None
) -> tuple[str, float, float, int, float]:
    sim = None
    if speed is not None:
        site = synthetic_site(10_000)
        settings = PublisherSettings(
            broker_url=broker.url, mqtt_protocol="5", client_id_prefix=f"bench{speed:g}"
        )
        sim = LiveSimulator(site, Scenario(seed=1), settings, speed=speed, start=START)
        sim.start()
        time.sleep(5.0)  # warm-up: connections, first windows
    sent0 = sum(sim.sent.values()) if sim else 0
    assert broker.proc is not None
    c0, b0, t0 = cpu(), broker_cpu(broker.proc.pid), time.monotonic()
    time.sleep(seconds)
    c1, b1, t1 = cpu(), broker_cpu(broker.proc.pid), time.monotonic()
    sent = (sum(sim.sent.values()) if sim else 0) - sent0
    if sim is not None:
        sim.stop()
        assert sim.error is None, sim.error
    wall = t1 - t0
    return label, (c1 - c0) / wall, (b1 - b0) / wall, sent, sent / wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        broker = MosquittoServer(Path(tmp)).start()
        try:
            rows = [
                measure("idle process (baseline)", a.seconds, broker, None),
                measure("10,400 sensors, speed 1", a.seconds, broker, 1.0),
                measure("10,400 sensors, speed 10", a.seconds, broker, 10.0),
            ]
        finally:
            broker.stop()
    print(f"\nLive mode, {a.seconds:g} s wall per row, 40 agents, MQTT 5 QoS 1, heartbeat 300 s")
    head = (
        f"| {'run':<26} | {'CPU of one core':>15} | {'Mosquitto CPU':>13} "
        f"| {'messages':>9} | {'msg/s':>7} |"
    )
    print(head)
    print("|" + "|".join("-" * len(c) for c in head.split("|")[1:-1]) + "|")
    for label, share, bshare, sent, rate in rows:
        print(f"| {label:<26} | {share:>14.1%} | {bshare:>12.1%} | {sent:>9,} | {rate:>7.1f} |")


if __name__ == "__main__":
    main()
