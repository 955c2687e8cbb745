"""Strict agent config: errors name file, line and field; secrets never in the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.yamlfile import ConfigError, YamlFileError
from edge.config import load_config, resolve_secrets
from edge.drivers.ld2410 import Ld2410Config
from edge.drivers.pir import PirConfig
from edge.drivers.simulated import SimulatedConfig
from edge.drivers.zigbee2mqtt import Zigbee2MqttConfig

REPO = Path(__file__).resolve().parents[2]

GOOD = """\
site: virastotalo
agent_id: agent-f1
broker:
  url: mqtts://broker.example.org:8883
  ca_file: /etc/ssl/certs/ca.pem
  username: agent-f1
  password_env: EDGE_BROKER_PASSWORD
outbox:
  path: {outbox}
  max_events: 1000
zigbee2mqtt:
  base_topic: zigbee2mqtt
sensors:
  - type: pir
    id: s-f1-d1
    space: f1-d1
    pin: 17
  - type: ld2410
    id: s-f1-palvelu-01
    space: f1-palvelu-01
    port: /dev/serial0
  - type: zigbee2mqtt
    id: s-f1-kokous-01
    space: f1-kokous-01
    device: meeting room 1/motion
  - type: simulated
    id: s-sim
    space: f1-d2
"""


def test_good_config_selects_each_driver_model(tmp_path: Path) -> None:
    f = tmp_path / "edge.yaml"
    f.write_text(GOOD.format(outbox=tmp_path / "o.db"))
    cfg = load_config(f)
    assert [type(s) for s in cfg.sensors] == [
        PirConfig,
        Ld2410Config,
        Zigbee2MqttConfig,
        SimulatedConfig,
    ]
    assert cfg.broker.tls and cfg.broker.port == 8883 and cfg.broker.host == "broker.example.org"
    assert cfg.outbox.max_events == 1000
    secrets = resolve_secrets(cfg, {"EDGE_BROKER_PASSWORD": "s3cret"})
    assert secrets.broker_password == "s3cret"
    with pytest.raises(ConfigError, match="EDGE_BROKER_PASSWORD is not set"):
        resolve_secrets(cfg, {})


def test_password_file(tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("from-file\n")
    f = tmp_path / "edge.yaml"
    text = GOOD.format(outbox=tmp_path / "o.db").replace(
        "password_env: EDGE_BROKER_PASSWORD", f"password_file: {pw}"
    )
    f.write_text(text)
    assert resolve_secrets(load_config(f), {}).broker_password == "from-file"


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "message"),
    [
        ("    pin: 17", "    pin: 17\n    pinn: 18", 18, "sensors[0].pinn", "unknown key 'pinn'"),
        ("  - type: ld2410", "  - type: ld2411", 18, "sensors[1]", "does not match"),
        ("    port: /dev/serial0\n", "", 18, "sensors[1].port", "Field required"),
        (
            "  password_env: EDGE_BROKER_PASSWORD",
            "  password: hunter2",
            3,
            "broker",
            "must not be written",
        ),
        (
            "mqtts://broker.example.org:8883",
            "http://broker.example.org",
            4,
            "broker.url",
            "mqtt://",
        ),
        ("agent_id: agent-f1", "agent_id: agent/f1", 2, "agent_id", "pattern"),
        ("    id: s-sim", "    id: s-f1-d1", 27, "sensors[3].id", "duplicate sensor id"),
    ],
)
def test_errors_name_file_line_and_field(
    tmp_path: Path, old: str, new: str, line: int, field: str, message: str
) -> None:
    f = tmp_path / "edge.yaml"
    text = GOOD.format(outbox=tmp_path / "o.db")
    assert old in text
    f.write_text(text.replace(old, new, 1))
    with pytest.raises(YamlFileError) as err:
        load_config(f)
    rendered = str(err.value)
    assert f"{f}:{line}: {field}: " in rendered, rendered
    assert message in rendered


def test_zigbee_sensor_needs_bridge_section(tmp_path: Path) -> None:
    f = tmp_path / "edge.yaml"
    text = GOOD.format(outbox=tmp_path / "o.db").replace(
        "zigbee2mqtt:\n  base_topic: zigbee2mqtt\n", ""
    )
    f.write_text(text)
    with pytest.raises(YamlFileError, match=r"sensors\[2\]\.type: zigbee2mqtt sensors need"):
        load_config(f)


def test_shipped_example_config_is_valid() -> None:
    cfg = load_config(REPO / "deploy" / "edge" / "edge.example.yaml")
    assert cfg.agent_id == "agent-f1"
    assert cfg.outbox.confirm is True and cfg.outbox.confirm_timeout_s == 60
