"""Home Assistant MQTT discovery: payloads against Home Assistant's documented
fields, published retained on a real Mosquitto, off by default.

The allowed keys are those of the MQTT binary sensor's configuration
variables in Home Assistant's documentation (home-assistant.io,
source/_integrations/binary_sensor.mqtt.markdown, "Configuration"; the
device map's keys listed there too), and the topic is the documented
``<discovery_prefix>/<component>/[<node_id>/]<object_id>/config`` with node
and object ids of ``[a-zA-Z0-9_-]`` only (docs/mqtt/discovery).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import jinja2
import pytest

from core.messages import AgentStatus, Presence
from core.topics import Topics
from core.yamlfile import ConfigError
from edge.agent import EdgeAgent
from edge.config import load_config
from edge.discovery import HomeAssistantConfig, discovery_messages
from tests.edge.conftest import FakeClock, base_config, write_config

BINARY_SENSOR_KEYS = {
    "availability", "availability_mode", "availability_template", "availability_topic",
    "device", "device_class", "enabled_by_default", "encoding", "entity_category",
    "entity_picture", "expire_after", "force_update", "icon", "json_attributes_template",
    "json_attributes_topic", "name", "object_id", "off_delay", "payload_available",
    "payload_not_available", "payload_off", "payload_on", "platform", "qos", "state_topic",
    "unique_id", "value_template",
}  # fmt: skip
DEVICE_KEYS = {
    "configuration_url", "connections", "hw_version", "identifiers", "manufacturer", "model",
    "model_id", "name", "serial_number", "suggested_area", "sw_version", "via_device",
}  # fmt: skip
#: binary sensor device classes of Home Assistant (integrations/binary_sensor): the one used
DEVICE_CLASS = "occupancy"
TOPIC = re.compile(r"^(?P<prefix>[^+#]+)/binary_sensor/[a-zA-Z0-9_-]+/[a-zA-Z0-9_-]+/config$")

SENSORS = [
    {"type": "simulated", "id": "s1", "space": "f1-d001", "occupied_s": 5, "vacant_s": 5},
    {"type": "simulated", "id": "s2", "space": "f1.d002", "occupied_s": 5, "vacant_s": 5},
]


def _run_until(agent: EdgeAgent, cond, timeout: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        agent.run_once(0.05)
        if cond():
            return True
    return bool(cond())


def test_payloads_use_only_documented_fields() -> None:
    msgs = discovery_messages(
        config=HomeAssistantConfig(discovery=True), topics=Topics(), site="virastotalo",
        agent_id="agent-t", spaces=["f1-d001", "f1.d002"], heartbeat_s=300, version="1.2",
    )  # fmt: skip
    assert [t for t, _ in msgs] == [
        "homeassistant/binary_sensor/agent-t/virastotalo_f1-d001/config",
        "homeassistant/binary_sensor/agent-t/virastotalo_f1_d002/config",
    ]
    for topic, raw in msgs:
        assert TOPIC.match(topic)
        payload = json.loads(raw)
        assert set(payload) <= BINARY_SENSOR_KEYS, set(payload) - BINARY_SENSOR_KEYS
        assert set(payload["device"]) <= DEVICE_KEYS
        assert payload["device_class"] == DEVICE_CLASS
        # availability_topic and availability are exclusive (the documentation says)
        assert not {"availability_topic", "availability"} <= set(payload)
        assert payload["device"]["identifiers"] == ["occupancy_virastotalo_agent-t"]
        assert payload["expire_after"] == 750  # 2.5 x 300 s: the contract's silence rule
    first = json.loads(msgs[0][1])
    assert first["state_topic"] == "occupancy/v1/virastotalo/spaces/f1-d001/presence"
    assert first["availability_topic"] == "occupancy/v1/virastotalo/agents/agent-t/status"
    assert first["unique_id"] == "occupancy_virastotalo_f1-d001"


def test_off_by_default_and_prefix_outside_the_contract(tmp_path: Path) -> None:
    data = base_config(1883, tmp_path, SENSORS)
    assert load_config(write_config(tmp_path / "a.yaml", data)).home_assistant.discovery is False
    bad = {**data, "home_assistant": {"discovery": True, "discovery_prefix": "occupancy/v1/ha"}}
    with pytest.raises(ConfigError, match="under the contract's topic_prefix"):
        load_config(write_config(tmp_path / "b.yaml", bad))
    clash = [*SENSORS, {**SENSORS[1], "id": "s3", "space": "f1_d002"}]
    both = {**data, "sensors": clash, "home_assistant": {"discovery": True}}
    with pytest.raises(ConfigError, match="share the discovery topic"):
        load_config(write_config(tmp_path / "c.yaml", both))


@pytest.mark.parametrize("enabled", [True, False])
def test_published_retained_on_mosquitto(
    mosquitto_factory, recorders, tmp_path: Path, enabled: bool
) -> None:  # type: ignore[no-untyped-def]
    broker = mosquitto_factory()
    ha = {"discovery": True} if enabled else {}
    data = base_config(broker.port, tmp_path, SENSORS, home_assistant=ha)
    clock = FakeClock()
    agent = EdgeAgent(load_config(write_config(tmp_path / "edge.yaml", data)), clock=clock)
    live = recorders(broker.port, ["occupancy/v1/#"], "rec-live")
    agent.start()
    try:
        assert _run_until(agent, lambda: agent.link.connected)
        for _ in range(12):  # the simulated sensors change every 5 s
            clock.advance(1)
            agent.run_once(0.01)
        assert _run_until(agent, lambda: agent.outbox.depth == 0)
        assert live.wait_for(lambda: bool(live.payloads("/presence")))
        # a late subscriber (Home Assistant starting later) gets the retained configs
        late = recorders(broker.port, ["homeassistant/#", "occupancy/v1/+/agents/+/status"],
                         "rec-ha", clean=True)  # fmt: skip
        if enabled:
            assert late.wait_for(lambda: len(late.payloads("/config")) == 2)
        else:
            assert late.wait_for(lambda: bool(late.payloads("/status")))
            time.sleep(0.5)
            assert late.payloads("/config") == []
    finally:
        agent.shutdown()
    configs = [(t, json.loads(p), r) for t, p, r in late.messages if t.endswith("/config")]
    assert all(retained for _, _, retained in configs)
    # the contract's own topics carry the contract's messages only, as before
    for topic, raw, _ in live.messages:
        assert not topic.startswith("homeassistant/")
        model = Presence if topic.endswith("/presence") else AgentStatus
        if topic.endswith(("/presence", "/status")):
            model.model_validate_json(raw)
    if not enabled:
        return
    # Home Assistant renders these templates with Jinja2 (value_json: the
    # payload decoded): rendered on the agent's real messages, they give the
    # documented payload_on/off and payload_available/not_available.
    env = jinja2.Environment()
    statuses = [json.loads(p) for t, p, _ in late.messages + live.messages if t.endswith("/status")]
    for topic, payload, _ in configs:
        avail = env.from_string(payload["availability_template"])
        # online on connect, offline on the clean stop: both reach Home Assistant
        assert {s["state"] for s in statuses} == {"online", "offline"}
        for s in statuses:
            key = "payload_available" if s["state"] == "online" else "payload_not_available"
            assert avail.render(value_json=s) == payload[key]
        mine = [json.loads(p) for t, p, _ in live.messages if t == payload["state_topic"]]
        assert mine, topic
        value = env.from_string(payload["value_template"])
        for msg in mine:
            want = payload["payload_on"] if msg["occupied"] else payload["payload_off"]
            assert value.render(value_json=msg) == want
