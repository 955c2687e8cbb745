"""LoRaWAN people counters through ChirpStack: recorded uplink shapes
(tests/edge/data/chirpstack, sources in its README), malformed ones, and the
agent end to end on real Mosquitto (standing in for ChirpStack's broker too)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion

from core.messages import EntranceCounts
from core.yamlfile import YamlFileError
from edge.agent import EdgeAgent
from edge.config import load_config
from edge.drivers.chirpstack import (
    ChirpStackCounterConfig,
    ChirpStackCounters,
    UplinkProblem,
    decode_uplink,
    parse_time,
)
from tests.edge.conftest import T0, base_config, write_config

DATA = Path(__file__).parent / "data" / "chirpstack"
EUI = "24e124795d101234"
APP = "17c82e96-be03-4f38-aef3-f83d48582d97"
TOPIC = f"application/{APP}/device/{EUI}/event/up"


def uplink(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text("utf-8"))
    return data


def counter(**kw: Any) -> ChirpStackCounterConfig:
    values: dict[str, Any] = {
        "type": "chirpstack",
        "id": "c-f1-palvelu-ovi",
        "entrance": "f1-palvelu-ovi",
        "dev_eui": EUI.upper(),  # written as ChirpStack's UI shows it
        "report_interval_s": 600,
        **kw,
    }
    return ChirpStackCounterConfig.model_validate(values)


def test_a_counting_report_becomes_a_reading() -> None:
    r = decode_uplink(counter(), uplink("vs133_counts.json"), T0)
    assert r is not None
    assert (r.sensor_id, r.entrance) == ("c-f1-palvelu-ovi", "f1-palvelu-ovi")
    assert (r.in_count, r.out_count, r.total_in, r.total_out) == (4, 1, 72, 200)
    assert r.interval_s == 600
    # ChirpStack's time has nanoseconds: cut to microseconds, UTC
    assert r.at == datetime(2026, 1, 5, 8, 0, 0, 583617, tzinfo=UTC)


def test_the_configured_line_and_direction_are_read() -> None:
    r = decode_uplink(counter(line=4), uplink("vs133_period.json"), T0)
    assert r is not None and (r.in_count, r.out_count, r.total_in) == (5, 7, None)
    swapped = decode_uplink(counter(line=4, swap_in_out=True), uplink("vs133_period.json"), T0)
    assert swapped is not None and (swapped.in_count, swapped.out_count) == (7, 5)


def test_a_report_without_period_counts_is_not_a_count() -> None:
    # totals only: nothing to count for the interval (the next period report has it)
    assert decode_uplink(counter(), uplink("vs133_totals_only.json"), T0) is None


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        ("no_object.json", None, "no decoded 'object'"),
        ("wrong_types.json", None, "line_1_period_in is '4'"),
        ("vs133_counts.json", {"line_1_period_out": -1}, "not a count"),
        ("vs133_counts.json", {"line_1_period_out": True}, "not a count"),
        ("vs133_counts.json", {"line_1_period_out": 1.5}, "not a count"),
        ("vs133_counts.json", {"line_1_period_out": None}, "no 'line_1_period_out'"),
        ("vs133_counts.json", {"line_1_period_in": 100_001}, "over the contract's 100000"),
    ],
)
def test_malformed_uplinks_are_problems_not_crashes(
    name: str, change: dict[str, Any] | None, message: str
) -> None:
    data = uplink(name)
    if change is not None:
        data["object"].update(change)
        data["object"] = {k: v for k, v in data["object"].items() if v is not None}
    with pytest.raises(UplinkProblem, match=message):
        decode_uplink(counter(), data, T0)


def test_the_router_drops_duplicates_and_names_unknown_devices() -> None:
    counters = ChirpStackCounters([counter()])
    body = (DATA / "vs133_counts.json").read_bytes()
    first = counters.handle(TOPIC, body, T0)
    assert first is not None and first.in_count == 4
    assert counters.handle(TOPIC, body, T0) is None  # the same fCnt again
    other = uplink("vs133_counts.json")
    other["deviceInfo"]["devEui"] = "0011223344556677"
    with pytest.raises(UplinkProblem, match="device '0011223344556677'"):
        counters.handle(TOPIC, json.dumps(other).encode(), T0)
    with pytest.raises(UplinkProblem, match="not JSON"):
        counters.handle(TOPIC, b"\x00\xff", T0)
    with pytest.raises(UplinkProblem, match="not a JSON object"):
        counters.handle(TOPIC, b"[1]", T0)


def test_time_parsing() -> None:
    assert parse_time("2026-01-05T08:00:00Z") == T0
    assert parse_time("2026-01-05T10:00:00.123456789+02:00") == T0.replace(microsecond=123456)
    assert parse_time("2026-01-05T08:00:00") is None  # no offset: not a usable time
    assert parse_time(12) is None and parse_time("soon") is None


def _config(port: int, tmp: Path, **extra: Any) -> Path:
    data = base_config(port, tmp, [], confirm=False, **extra)
    data["agent_id"] = "agent-f1-lora"
    return write_config(tmp / "edge.yaml", data)


def test_config_needs_a_chirpstack_section_and_something_to_read(tmp_path: Path) -> None:
    c = counter().model_dump(mode="json")
    with pytest.raises(YamlFileError, match="need a 'chirpstack:' section"):
        load_config(_config(1883, tmp_path, counters=[c]))
    with pytest.raises(YamlFileError, match="'sensors' or 'counters'"):
        load_config(_config(1883, tmp_path))
    twice = [c, {**c, "id": "c-2"}]
    with pytest.raises(YamlFileError, match="is bound twice"):
        load_config(_config(1883, tmp_path, counters=twice, chirpstack={}))
    cfg = load_config(_config(1883, tmp_path, counters=[c], chirpstack={"application_id": APP}))
    assert cfg.chirpstack is not None and cfg.chirpstack.uplink_filter() == (
        f"application/{APP}/device/+/event/up"
    )


@pytest.fixture
def lora_agent(mosquitto, tmp_path: Path) -> Iterator[EdgeAgent]:
    c = counter().model_dump(mode="json")
    path = _config(
        mosquitto.port, tmp_path, counters=[c],
        chirpstack={"url": mosquitto.url, "application_id": APP},
    )  # fmt: skip
    agent = EdgeAgent(load_config(path))
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
    thread.start()
    yield agent
    stop.set()
    thread.join(10)


def test_agent_turns_uplinks_into_entrance_counts(
    mosquitto, lora_agent: EdgeAgent, recorders
) -> None:
    rec = recorders(mosquitto.port, ["occupancy/v1/virastotalo/#"], "rec-lora", clean=True)
    assert rec.wait_for(lambda: lora_agent.lora is not None and lora_agent.lora.connected)
    assert rec.wait_for(lambda: lora_agent.link.connected)
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="fake-chirpstack")
    pub.connect("127.0.0.1", mosquitto.port)
    pub.loop_start()
    period = uplink("vs133_counts.json")
    period.update(fCnt=1212, time="2026-01-05T08:10:00Z")
    period["object"].update(line_1_period_in=2, line_1_period_out=5, line_1_total_in=74)
    period["object"]["line_1_total_out"] = 205
    try:
        for name, body in [
            ("counts", (DATA / "vs133_counts.json").read_bytes()),
            ("duplicate", (DATA / "vs133_counts.json").read_bytes()),
            ("no object", (DATA / "no_object.json").read_bytes()),
            ("wrong types", (DATA / "wrong_types.json").read_bytes()),
            ("totals only", (DATA / "vs133_totals_only.json").read_bytes()),
            ("not json", b"{oops"),
            ("next", json.dumps(period).encode()),
        ]:
            assert name
            pub.publish(TOPIC, body, qos=1).wait_for_publish(5)
        unknown = TOPIC.replace(EUI, "0011223344556677")
        stranger = uplink("vs133_counts.json")
        stranger["deviceInfo"]["devEui"] = "0011223344556677"
        pub.publish(unknown, json.dumps(stranger).encode(), qos=1).wait_for_publish(5)
    finally:
        pub.disconnect()
        pub.loop_stop()
    suffix = "/entrances/f1-palvelu-ovi/counts"
    assert rec.wait_for(lambda: len(rec.payloads(suffix)) >= 2)
    assert rec.wait_for(lambda: lora_agent.uplink_problems >= 4)
    msgs = [EntranceCounts.model_validate(p) for p in rec.payloads(suffix)]
    assert [(m.in_count, m.out_count, m.total_in, m.total_out) for m in msgs] == [
        (4, 1, 72, 200),
        (2, 5, 74, 205),
    ]
    assert {(m.agent_id, m.sensor_id, m.interval_s) for m in msgs} == {
        ("agent-f1-lora", "c-f1-palvelu-ovi", 600.0)
    }
    assert msgs[0].seq < msgs[1].seq  # the agent's sequence, from its outbox
    # no object, wrong types, not JSON, unknown device: counted, logged, agent alive
    assert lora_agent.uplink_problems == 4
    assert lora_agent.counts_enqueued == 2


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=15,
)


_WHERE = ["object", "deviceInfo", "time", "fCnt", "line_1_period_in", "line_1_total_out"]


@settings(max_examples=300, deadline=None)
@given(
    where=st.sampled_from(_WHERE),
    value=_json,
    junk=st.binary(max_size=60),
)
def test_any_uplink_is_a_reading_nothing_or_a_problem(
    where: str, value: object, junk: bytes
) -> None:
    data = uplink("vs133_counts.json")
    if where.startswith("line_"):
        data["object"][where] = value
    else:
        data[where] = value
    for body in (json.dumps(data).encode(), junk, b"[" * 100_000):
        counters = ChirpStackCounters([counter()])
        try:
            r = counters.handle(TOPIC, body, T0)
        except UplinkProblem:
            continue
        if r is not None:  # then it makes a valid contract message
            EntranceCounts(
                entrance_id=r.entrance, agent_id="a", sensor_id=r.sensor_id,
                in_count=r.in_count, out_count=r.out_count, interval_s=r.interval_s,
                event_time=r.at, seq=0, total_in=r.total_in, total_out=r.total_out,
            )  # fmt: skip
