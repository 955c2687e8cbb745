"""Settings from the environment and the command line's one-line errors."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from ingest.config import IngestSettings, MqttProtocol
from tests.conftest import EXAMPLE_SITES, REPO


def test_environment_with_nested_store_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCCUPANCY_INGEST_REGISTRY", str(EXAMPLE_SITES))
    monkeypatch.setenv("OCCUPANCY_INGEST_BROKER_URL", "mqtts://broker.example:8884")
    monkeypatch.setenv("OCCUPANCY_INGEST_MQTT_PROTOCOL", "3.1.1")
    monkeypatch.setenv("OCCUPANCY_INGEST_SHARE_GROUP", "ingest")
    monkeypatch.setenv("OCCUPANCY_INGEST_STORE__URL", "http://influx:8086")
    monkeypatch.setenv("OCCUPANCY_INGEST_STORE__DATABASE", "occ")
    s = IngestSettings(client_id="ingest-2")
    assert (s.broker.tls, s.broker.host, s.broker.port) == (True, "broker.example", 8884)
    assert s.mqtt_protocol is MqttProtocol.V311
    assert (s.store.url, s.store.database) == ("http://influx:8086", "occ")
    assert s.subscriptions() == [
        "$share/ingest/occupancy/v1/+/spaces/+/presence",
        "$share/ingest/occupancy/v1/+/agents/+/status",
        "$share/ingest/occupancy/v1/+/agents/+/health",
        "$share/ingest/occupancy/v1/+/entrances/+/counts",
    ]
    assert IngestSettings(registry=EXAMPLE_SITES, broker_url="mqtt://h").broker.port == 1883
    assert s.confirm is True  # confirmations to the agents are on unless turned off
    monkeypatch.setenv("OCCUPANCY_INGEST_CONFIRM", "false")
    assert IngestSettings(client_id="ingest-2").confirm is False


@pytest.mark.parametrize(
    "kwargs",
    [
        {"broker_url": "http://broker:1883"},
        {"share_group": "a/b"},
        {"receive_maximum": 100},  # below a batch of 5,000: batches would starve
        {"mqtt_client_cert": "/nonexistent.pem"},
        {"topic_prefix": "occupancy/#"},
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        IngestSettings(registry=EXAMPLE_SITES, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--registry", str(EXAMPLE_SITES), "--broker-url", "tcp://x"], "must start with mqtt://"),
        (["--registry", "/nonexistent"], "site registry: /nonexistent: no such file"),
        (["--registry", str(EXAMPLE_SITES), "--store-url", "ftp://x"], "invalid settings"),
        # --no-confirm is taken; the bad URL after it is what fails
        (
            ["--no-confirm", "--registry", str(EXAMPLE_SITES), "--broker-url", "tcp://x"],
            "must start with mqtt://",
        ),
    ],
)
def test_cli_errors_are_one_line(args: list[str], says: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "occupancy", "ingest", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], proc.stderr


def test_the_old_broker_variables_still_work_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    # renamed to the API's spelling (issue 14); deployed .env files keep working
    for name in ("MQTT_USERNAME", "MQTT_PASSWORD", "MQTT_PROTOCOL", "MQTT_CA_FILE"):
        monkeypatch.delenv(f"OCCUPANCY_INGEST_{name}", raising=False)
    ca = tmp_path / "ca.pem"
    ca.write_text("pem\n")
    monkeypatch.setenv("OCCUPANCY_INGEST_USERNAME", "ingest")
    monkeypatch.setenv("OCCUPANCY_INGEST_PASSWORD", "a-real-one")
    monkeypatch.setenv("OCCUPANCY_INGEST_PROTOCOL", "3.1.1")
    monkeypatch.setenv("OCCUPANCY_INGEST_CA_FILE", str(ca))
    with caplog.at_level(logging.WARNING, "occupancy.settings"):
        s = IngestSettings(registry=EXAMPLE_SITES)
    assert (s.mqtt_username, s.mqtt_protocol, s.mqtt_ca_file) == ("ingest", MqttProtocol.V311, ca)
    assert s.mqtt_password is not None and s.mqtt_password.get_secret_value() == "a-real-one"
    for old, new in (("USERNAME", "MQTT_USERNAME"), ("PROTOCOL", "MQTT_PROTOCOL")):
        assert (
            f"OCCUPANCY_INGEST_{old} is deprecated: rename it OCCUPANCY_INGEST_{new}" in caplog.text
        )
    # the old name does not slip past the production check either
    monkeypatch.setenv("OCCUPANCY_INGEST_PASSWORD", "change-me-mqtt-ingest")
    with pytest.raises(ValidationError, match="mqtt_password is a placeholder"):
        IngestSettings(registry=EXAMPLE_SITES, environment="production")
