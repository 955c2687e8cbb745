"""The agent against a real Mosquitto: availability, outage, SIGKILL and restart.

Time inside the agent is a FakeClock where the test needs minutes of events
(the 5-minute outage runs in about a second of wall time); the subprocess
tests run the real program (``python -m occupancy edge``) on the real clock.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import edge
from core.messages import AgentHealth, AgentStatus, Presence
from core.timeutil import from_ns
from edge.agent import EdgeAgent
from edge.config import load_config
from edge.outbox import Outbox
from tests.edge.conftest import T0, FakeClock, base_config, write_config

REPO = Path(__file__).resolve().parents[2]
PREFIX = "occupancy/v1/virastotalo"


def _run_until(agent: EdgeAgent, cond, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        agent.run_once(0.05)
        if cond():
            return True
    return bool(cond())


def test_five_minute_outage_delivers_everything_in_order(
    mosquitto_factory, recorders, tmp_path: Path
) -> None:
    broker = mosquitto_factory()
    rec = recorders(broker.port, [f"{PREFIX}/spaces/+/presence"], "rec-outage")
    sensors = [
        # square wave: occupied 45 s, vacant 75 s, from the start (hand-checked below)
        {
            "type": "simulated",
            "id": "sq",
            "space": "f1-d001",
            "mode": "square",
            "occupied_s": 45,
            "vacant_s": 75,
        },
        {
            "type": "simulated",
            "id": "r1",
            "space": "f1-d002",
            "occupied_s": 20,
            "vacant_s": 20,
            "seed": 1,
        },
        {
            "type": "simulated",
            "id": "r2",
            "space": "f1-d003",
            "occupied_s": 15,
            "vacant_s": 25,
            "seed": 2,
            "max_people": 4,
        },
    ]
    data = base_config(broker.port, tmp_path, sensors, heartbeat_s=30)
    clock = FakeClock()
    agent = EdgeAgent(load_config(write_config(tmp_path / "edge.yaml", data)), clock=clock)
    agent.start()
    try:
        assert _run_until(agent, lambda: agent.link.connected)
        for _ in range(20):  # 20 s connected
            clock.advance(1)
            agent.run_once(0.01)
        assert _run_until(agent, lambda: agent.outbox.depth == 0)
        before = agent.enqueued
        # a new outbox numbers from the clock (edge/outbox.py); the run's seqs follow on
        first_seq = agent.outbox.next_seq - before

        broker.stop()
        assert _run_until(agent, lambda: not agent.link.connected)
        for _ in range(300):  # five minutes of events with the broker down
            clock.advance(1)
            agent.run_once(0.0)
        during = agent.enqueued - before
        assert during > 0
        assert agent.outbox.depth == during  # nothing acknowledged, nothing lost

        broker.start()
        assert rec.ready()
        assert _run_until(agent, lambda: agent.outbox.depth == 0, timeout=60)
        total = agent.enqueued
        seqs = set(range(first_seq, first_seq + total))
        assert rec.wait_for(lambda: {p["seq"] for p in rec.payloads("/presence")} >= seqs)
    finally:
        agent.shutdown()

    msgs = [Presence.model_validate(p) for p in rec.payloads("/presence")]
    first: dict[int, Presence] = {}
    for m in msgs:
        first.setdefault(m.seq, m)
    # no loss; duplicates (at-least-once) allowed
    assert sorted(first) == sorted(seqs)
    # in order: first deliveries come in seq order
    assert list(first) == sorted(first)
    # original event times: the square sensor's timeline, worked out by hand
    # (changes at 0, 45, 120, 165, 240, 285 s; heartbeats 30 s after each message)
    expected = [
        (0, "change", True), (30, "heartbeat", True), (45, "change", False),
        (75, "heartbeat", False), (105, "heartbeat", False), (120, "change", True),
        (150, "heartbeat", True), (165, "change", False), (195, "heartbeat", False),
        (225, "heartbeat", False), (240, "change", True), (270, "heartbeat", True),
        (285, "change", False), (315, "heartbeat", False),
    ]  # fmt: skip
    sq = [m for m in first.values() if m.sensor_id == "sq"]
    assert [
        ((m.event_time - T0) / timedelta(seconds=1), m.kind.value, m.occupied) for m in sq
    ] == expected
    assert all(m.heartbeat_interval_s == 30 and m.agent_id == "agent-t" for m in sq)
    # every event time is sensor time within the run, none is a delivery time
    assert all(T0 <= m.event_time <= T0 + timedelta(seconds=320) for m in first.values())
    # per sensor, event times never go backwards
    for sid in ("sq", "r1", "r2"):
        times = [m.event_time for m in first.values() if m.sensor_id == sid]
        assert times == sorted(times)
    assert any(m.people_count for m in first.values() if m.sensor_id == "r2")


def _spawn(cfg: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "occupancy", "edge", "--config", str(cfg)],
        cwd=REPO,
        stdout=open(log, "ab"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_last_will_and_retained_status(mosquitto_factory, recorders, tmp_path: Path) -> None:
    broker = mosquitto_factory()
    status = f"{PREFIX}/agents/agent-t/status"
    rec = recorders(
        broker.port, [status, f"{PREFIX}/agents/agent-t/health"], "rec-will", clean=True
    )
    sensors = [{"type": "simulated", "id": "s1", "space": "f1-d001", "battery_pct": 80}]
    cfg = write_config(tmp_path / "edge.yaml", base_config(broker.port, tmp_path, sensors))
    proc = _spawn(cfg, tmp_path / "agent.log")
    try:
        assert rec.wait_for(lambda: any(p["state"] == "online" for p in rec.payloads("/status")))
        assert rec.wait_for(lambda: rec.payloads("/health") != [])
        health = AgentHealth.model_validate(rec.payloads("/health")[0])
        assert health.agent_id == "agent-t" and health.sensors[0].battery_pct == 80
        assert health.sensors[0].space_id == "f1-d001" and health.sensors[0].last_seen is not None
        assert health.version == edge.__version__ and health.uptime_s >= 0
        # the first report goes out with the sensor's first event, which may still
        # await its PUBACK: one event at most, none dropped
        assert health.outbox_depth in (0, 1) and health.outbox_dropped == 0
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        # keepalive 2 s: the broker notices the dead client within ~3 s and sends the will
        assert rec.wait_for(lambda: rec.payloads("/status")[-1]["state"] == "offline", timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    will = AgentStatus.model_validate(rec.payloads("/status")[-1])
    assert will.state == "offline" and will.event_time is None
    late = recorders(broker.port, [status], "rec-late", clean=True)
    assert late.wait_for(lambda: late.payloads("/status") != [])
    assert late.messages[-1][2] is True  # retained
    assert json.loads(late.messages[-1][1])["state"] == "offline"


def test_sigkill_then_restart_delivers_the_outbox(
    mosquitto_factory, recorders, tmp_path: Path
) -> None:
    broker = mosquitto_factory()
    rec = recorders(
        broker.port, [f"{PREFIX}/spaces/+/presence", f"{PREFIX}/agents/+/status"], "rec-kill"
    )
    sensors = [
        {
            "type": "simulated",
            "id": f"s{i}",
            "space": f"f1-d00{i}",
            "mode": "square",
            "occupied_s": 0.5,
            "vacant_s": 0.7,
        }
        for i in range(1, 4)
    ]
    cfg = write_config(tmp_path / "edge.yaml", base_config(broker.port, tmp_path, sensors))
    log = tmp_path / "agent.log"
    proc = _spawn(cfg, log)
    try:
        assert rec.wait_for(lambda: len(rec.payloads("/presence")) >= 3), log.read_text()
        broker.stop()
        time.sleep(3)  # events pile up in the outbox while the broker is away
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    ob = Outbox(tmp_path / "outbox.sqlite3", max_events=10**6, max_age_s=10**9)
    stranded = ob.pending(limit=10**6)
    ob.close()
    assert len(stranded) >= 5, "the killed agent should have left events in its outbox"

    broker.start()
    assert rec.ready()
    proc = _spawn(cfg, log)
    try:
        want = {r.seq for r in stranded}
        assert rec.wait_for(
            lambda: want <= {p["seq"] for p in rec.payloads("/presence")}, timeout=30
        ), log.read_text()[-2000:]
        # the restarted agent goes on numbering after the stranded events
        newest = max(want)
        assert rec.wait_for(lambda: any(p["seq"] > newest for p in rec.payloads("/presence")))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    assert proc.returncode == 0, log.read_text()[-2000:]
    # a clean stop publishes offline itself (with a time), as the will would not fire
    assert rec.wait_for(lambda: rec.payloads("/status")[-1]["state"] == "offline")
    assert AgentStatus.model_validate(rec.payloads("/status")[-1]).event_time is not None
    got = {p["seq"]: p for p in rec.payloads("/presence")}
    for row in stranded:
        msg = Presence.model_validate(got[row.seq])
        # delivered exactly as stored, with the original sensor time
        assert msg.event_time == from_ns(row.event_ns)
        assert Presence.model_validate_json(row.payload) == msg
