"""Production defaults of the compose stack (issue 14, item 6)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from tests.deploy.test_compose import REPO, env_example, load, resolve

PLACEHOLDERS = sorted(v for v in env_example().values() if v.startswith("change-me"))


def test_env_example_has_the_placeholders_the_check_must_catch() -> None:
    # Counted by hand in .env.example: influx admin and token, grafana admin,
    # the four MQTT users.
    assert len(PLACEHOLDERS) == 7
    assert "change-me-mqtt-api" in PLACEHOLDERS


@pytest.mark.parametrize("value", PLACEHOLDERS)
def test_every_placeholder_of_env_example_is_refused_in_production(value: str) -> None:
    from api.config import ApiSettings
    from ingest.config import IngestSettings

    for kwargs in (
        {"mqtt_password": value},
        {"store": {"url": "http://influxdb:8086", "token": value}},
    ):
        with pytest.raises(ValidationError, match="placeholder"):
            ApiSettings(environment="production", **kwargs)  # type: ignore[arg-type]
        ApiSettings(environment="development", **kwargs)  # type: ignore[arg-type]
    for kwargs in (
        {"mqtt_password": value},
        {"store": {"url": "http://influxdb:8086", "token": value}},
    ):
        with pytest.raises(ValidationError, match="placeholder"):
            IngestSettings(registry=REPO, environment="production", **kwargs)  # type: ignore[arg-type]


def test_a_real_secret_is_accepted_in_production() -> None:
    from api.config import ApiSettings

    ApiSettings(environment="production", mqtt_password="3f9c1e0b7a2d")  # type: ignore[arg-type]


def test_the_demo_profile_gets_the_simulators_password() -> None:
    compose: dict[str, Any] = load(REPO / "docker-compose.yml")
    env = env_example()
    sim = resolve(
        compose["services"]["simulator"]["environment"]["OCCUPANCY_SIM_MQTT_PASSWORD"], env
    )
    passwd = resolve(
        compose["services"]["mosquitto-passwd"]["environment"]["MQTT_SIMULATOR_PASSWORD"], env
    )
    assert sim == passwd == "change-me-mqtt-simulator"


@pytest.mark.parametrize("file", ["docker-compose.yml", "deploy/compose.tls.yml"])
def test_published_ports_bind_to_loopback_by_default(file: str) -> None:
    env = env_example()
    published = [
        resolve(port, env)
        for svc in load(REPO / file)["services"].values()
        for port in svc.get("ports", [])
    ]
    assert published, file
    for port in published:
        assert port.startswith("127.0.0.1:"), port
        # and without .env: the compose file's own default
        assert resolve(port, {}).startswith("127.0.0.1:"), port


def test_an_operator_can_publish_on_every_interface() -> None:
    env = {**env_example(), "PUBLISH_ADDRESS": "0.0.0.0"}
    api = load(REPO / "docker-compose.yml")["services"]["api"]["ports"][0]
    assert resolve(api, env) == "0.0.0.0:8000:8000"


def test_deployment_doc_says_how_to_expose_behind_tls() -> None:
    doc = (REPO / "docs" / "deployment.md").read_text()
    assert "## Exposing the services" in doc
    assert "PUBLISH_ADDRESS" in doc and "reverse proxy" in doc
