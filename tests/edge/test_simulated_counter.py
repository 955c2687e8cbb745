"""The simulated people counter: every interval on the clock's grid, totals that
are the running sums, and through the agent on real Mosquitto."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.messages import EntranceCounts
from edge.agent import EdgeAgent
from edge.config import load_config
from edge.drivers.simulated_counter import SimulatedCounter, SimulatedCounterConfig
from tests.edge.conftest import FakeClock, at, base_config, write_config


def _cfg(**kw: object) -> SimulatedCounterConfig:
    values: dict[str, object] = {
        "type": "simulated", "id": "c-sim", "entrance": "f1-palvelu-ovi",
        "interval_s": 600, "per_hour": 60, "dwell_s": 900, "seed": 4, **kw,
    }  # fmt: skip
    return SimulatedCounterConfig.model_validate(values)


def test_every_interval_of_a_jump_with_running_totals() -> None:
    clock = FakeClock(at(-1))  # 07:59:59: the first interval ends at 08:00
    counter = SimulatedCounter(_cfg(), clock())
    got = counter.poll(at(3 * 3600))  # three hours in one jump
    assert [r.at for r in got] == [at(600 * k) for k in range(19)]  # 08:00 .. 11:00
    tin = tout = 0
    for r in got:
        tin, tout = tin + r.in_count, tout + r.out_count
        assert (r.total_in, r.total_out) == (tin, tout)
        assert r.interval_s == 600
        assert tout <= tin  # nobody leaves who did not come in
    # 60 an hour over ~3 h: the Poisson total is near 190 (a loose, seed-fixed check)
    assert 120 < tin < 260
    assert counter.poll(at(3 * 3600 + 599)) == []  # the next ends at 11:10
    assert SimulatedCounter(_cfg(), clock()).poll(at(3 * 3600)) == got  # seeded


def test_a_rate_past_the_contract_is_refused() -> None:
    with pytest.raises(ValidationError, match="over 10,000 arrivals an interval"):
        _cfg(per_hour=10_000, interval_s=86_400)


def test_agent_publishes_simulated_counts(mosquitto, tmp_path: Path, recorders) -> None:
    clock = FakeClock(at(1))
    data = base_config(mosquitto.port, tmp_path, [], counters=[_cfg().model_dump(mode="json")])
    data["agent_id"] = "agent-f1-lora"
    agent = EdgeAgent(load_config(write_config(tmp_path / "edge.yaml", data)), clock=clock)
    rec = recorders(mosquitto.port, ["occupancy/v1/virastotalo/entrances/#"], "rec-simc")
    agent.start()
    try:
        assert rec.wait_for(lambda: (agent.run_once(0.05), agent.link.connected)[1])
        clock.advance(3600)
        suffix = "/f1-palvelu-ovi/counts"
        assert rec.wait_for(lambda: (agent.run_once(0.05), len(rec.payloads(suffix)) >= 6)[1])
    finally:
        agent.shutdown()
    msgs = [EntranceCounts.model_validate(p) for p in rec.payloads(suffix)]
    assert [m.event_time for m in msgs] == [at(600 * k) for k in range(1, 7)]
    assert all(m.sensor_id == "c-sim" and m.heartbeat_interval_s == 600 for m in msgs)
    assert msgs[-1].event_time - msgs[0].event_time == timedelta(minutes=50)
