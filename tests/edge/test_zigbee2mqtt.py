"""zigbee2mqtt bridge driver: real device payload shapes, and end to end on real Mosquitto.

Payloads use the properties each device publishes according to its page in
zigbee2mqtt's documentation (values inside the documented ranges):

* Xiaomi RTCGQ11LM, Aqara human body movement and illuminance sensor:
  https://www.zigbee2mqtt.io/devices/RTCGQ11LM.html (battery, occupancy,
  device_temperature, voltage, illuminance_lux, illuminance, power_outage_count, linkquality)
* Philips 9290012607, Hue motion sensor:
  https://www.zigbee2mqtt.io/devices/9290012607.html (occupancy, temperature,
  illuminance, battery, linkquality; motion_sensitivity)
* Aqara RTCZCGQ11LM, presence sensor FP1 (mmWave):
  https://www.zigbee2mqtt.io/devices/RTCZCGQ11LM.html (presence, presence_event,
  device_temperature, power_outage_count, monitoring_mode, approach_distance, motion_sensitivity)
* SONOFF SNZB-03P, Zigbee PIR sensor:
  https://www.zigbee2mqtt.io/devices/SNZB-03P.html (occupancy, motion_timeout,
  illumination, battery, voltage)
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edge.agent import EdgeAgent
from edge.config import load_config
from edge.drivers.zigbee2mqtt import decode_availability, decode_state, parse_last_seen
from tests.edge.conftest import T0, base_config, write_config

RTCGQ11LM = {
    "battery": 100,
    "voltage": 3005,
    "device_temperature": 28,
    "power_outage_count": 9,
    "illuminance": 58,
    "illuminance_lux": 58,
    "occupancy": True,
    "linkquality": 120,
}
HUE_9290012607 = {
    "battery": 92,
    "illuminance": 7,
    "linkquality": 87,
    "motion_sensitivity": "high",
    "occupancy": False,
    "temperature": 21.58,
}
FP1_RTCZCGQ11LM = {
    "approach_distance": "far",
    "device_temperature": 33,
    "linkquality": 148,
    "monitoring_mode": "undirected",
    "motion_sensitivity": "high",
    "power_outage_count": 2,
    "presence": True,
    "presence_event": "enter",
}
SNZB_03P = {
    "battery": 100,
    "illumination": "dim",
    "linkquality": 160,
    "motion_timeout": 30,
    "occupancy": False,
    "voltage": 3100,
}


def _b(obj: object) -> bytes:
    return json.dumps(obj).encode()


@pytest.mark.parametrize(
    ("payload", "active", "battery"),
    [
        (RTCGQ11LM, True, 100.0),
        (HUE_9290012607, False, 92.0),
        (FP1_RTCZCGQ11LM, True, None),  # mains powered: no battery
        (SNZB_03P, False, 100.0),
        ({"battery": 55, "linkquality": 30}, None, 55.0),  # battery report only
    ],
)
def test_decode_device_payloads(payload: dict, active: bool | None, battery: float | None) -> None:
    r = decode_state("z1", "auto", _b(payload), T0)
    assert r is not None
    assert (r.active, r.battery_pct, r.at, r.ok) == (active, battery, T0, True)


def test_last_seen_is_the_sensor_time() -> None:
    expected = datetime(2026, 1, 5, 8, 0, 5, tzinfo=UTC)
    assert parse_last_seen("2026-01-05T10:00:05+02:00") == expected  # ISO_8601
    assert parse_last_seen("2026-01-05T08:00:05.000Z") == expected
    assert parse_last_seen(1767600005000) == expected  # epoch (ms)
    assert parse_last_seen("2026-01-05T10:00:05") is None  # ISO_8601_local: no offset
    r = decode_state("z1", "auto", _b({**RTCGQ11LM, "last_seen": 1767600005000}), T0)
    assert r is not None and r.at == expected


def test_bad_payloads_are_reported_not_raised() -> None:
    for bad in (b"\xff\xfe", b"not json", b"[1, 2]"):
        r = decode_state("z1", "auto", bad, T0)
        assert r is not None and r.ok is False and r.active is None
    assert decode_availability("z1", b'{"state":"offline"}', T0).ok is False
    assert decode_availability("z1", b"online", T0).ok is True


def test_a_deeply_nested_payload_is_reported_by_the_driver_not_raised() -> None:
    """100,000 nested brackets: json's decoder would raise RecursionError."""
    from edge.drivers.zigbee2mqtt import Zigbee2MqttConfig, Zigbee2MqttDriver

    config = Zigbee2MqttConfig.model_validate(
        {"type": "zigbee2mqtt", "id": "z1", "space": "f1-kokous-01", "device": "hue-1"}
    )
    got: list = []
    driver = Zigbee2MqttDriver(config, got.append, lambda: T0, base_topic="zigbee2mqtt")
    deep_list = b"[" * 100_000 + b"]" * 100_000
    deep_object = b'{"occupancy": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_001
    huge_int = b'{"battery": ' + b"9" * 5_000 + b"}"
    for payload in (deep_list, deep_object, huge_int):
        driver.handle("zigbee2mqtt/hue-1", payload, T0)
    driver.handle("zigbee2mqtt/hue-1/availability", b'{"state": ' + b"[" * 100_000, T0)
    assert [(r.sensor_id, r.active, r.ok) for r in got] == [("z1", None, False)] * 4
    assert got[0].detail == "payload is not a device state: JSON nested too deeply"
    assert got[1].detail == "payload is not a device state: JSON nested too deeply"
    assert got[2].detail == "payload is not JSON"
    assert got[3].detail == "zigbee unknown"
    # the driver still decodes the next good message
    driver.handle("zigbee2mqtt/hue-1", b'{"occupancy": true}', T0)
    assert got[-1].active is True and got[-1].ok is True


@pytest.fixture
def z2m_agent(mosquitto, tmp_path: Path) -> Iterator[EdgeAgent]:
    sensors = [
        {
            "type": "zigbee2mqtt",
            "id": "z-aqara",
            "space": "f1-kokous-01",
            "device": "f1/aqara motion",
        },
        {"type": "zigbee2mqtt", "id": "z-hue", "space": "f1-kokous-02", "device": "hue-1"},
        {
            "type": "zigbee2mqtt",
            "id": "z-fp1",
            "space": "f1-kokous-03",
            "device": "fp1",
            "field": "presence",
        },
        {"type": "zigbee2mqtt", "id": "z-sonoff", "space": "f1-kokous-04", "device": "snzb"},
    ]
    data = base_config(mosquitto.port, tmp_path, sensors, zigbee2mqtt={"url": mosquitto.url})
    data["agent_id"] = "agent-z"
    agent = EdgeAgent(load_config(write_config(tmp_path / "edge.yaml", data)))
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
    thread.start()
    yield agent
    stop.set()
    thread.join(10)


def test_bridge_maps_zigbee_devices_to_spaces(mosquitto, z2m_agent: EdgeAgent, recorders) -> None:
    rec = recorders(mosquitto.port, ["occupancy/v1/virastotalo/#"], "rec-z2m", clean=True)
    assert rec.wait_for(lambda: z2m_agent.bridge is not None and z2m_agent.bridge.connected)
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="fake-zigbee2mqtt")
    pub.connect("127.0.0.1", mosquitto.port)
    pub.loop_start()
    try:
        for topic, payload in [
            ("zigbee2mqtt/f1/aqara motion", RTCGQ11LM),
            ("zigbee2mqtt/hue-1", HUE_9290012607),
            ("zigbee2mqtt/fp1", FP1_RTCZCGQ11LM),
            ("zigbee2mqtt/snzb", SNZB_03P),
            ("zigbee2mqtt/unbound-device", RTCGQ11LM),  # not configured: ignored
            ("zigbee2mqtt/snzb/availability", {"state": "offline"}),
        ]:
            pub.publish(topic, _b(payload), qos=1).wait_for_publish(5)
    finally:
        pub.disconnect()
        pub.loop_stop()
    assert rec.wait_for(lambda: len(rec.payloads("/presence")) >= 4)
    got = {
        p["space_id"]: (p["occupied"], p["sensor_id"], p["kind"]) for p in rec.payloads("/presence")
    }
    assert got == {
        "f1-kokous-01": (True, "z-aqara", "change"),
        "f1-kokous-02": (False, "z-hue", "change"),
        "f1-kokous-03": (True, "z-fp1", "change"),
        "f1-kokous-04": (False, "z-sonoff", "change"),
    }
    assert rec.wait_for(lambda: z2m_agent.status["z-sonoff"].ok is False)
    health = z2m_agent.health(datetime.now(UTC))
    by_id = {s.sensor_id: s for s in health.sensors}
    assert by_id["z-aqara"].battery_pct == 100.0
    assert by_id["z-hue"].battery_pct == 92.0
    assert by_id["z-fp1"].battery_pct is None
    assert by_id["z-sonoff"].ok is False and by_id["z-sonoff"].detail == "zigbee offline"
    assert by_id["z-aqara"].last_seen is not None
