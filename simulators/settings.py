"""Settings of the simulated agents' broker connection (light to import: the
command line reads them before numpy and paho load)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from core.broker_url import BrokerUrl
from core.renamed_env import RenamedEnvSettings
from core.topics import DEFAULT_PREFIX, TopicPrefix


class PublisherSettings(RenamedEnvSettings):
    """How the simulated agents reach the broker (env: ``OCCUPANCY_SIM_*``)."""

    model_config = SettingsConfigDict(env_prefix="OCCUPANCY_SIM_", extra="forbid")
    # Spelt as the ingest's and the API's broker settings (issue 14); the old
    # variables still work, with a warning (docs/simulator.md).
    renamed_env: ClassVar[Mapping[str, str]] = {
        "protocol": "mqtt_protocol",
        "username": "mqtt_username",
        "password": "mqtt_password",
        "ca_file": "mqtt_ca_file",
    }

    broker_url: BrokerUrl = Field(
        default="mqtt://127.0.0.1:1883", description="mqtt://host:1883 or mqtts://host:8883."
    )
    mqtt_protocol: Literal["3.1.1", "5"] = Field(
        default="5",
        description="'5' (Mosquitto, EMQX, ...) or '3.1.1' (the embedded amqtt broker).",
    )
    # an int, not Literal[0, 1]: a Literal of ints does not take "0" from a variable
    qos: int = Field(default=1, ge=0, le=1, description="QoS of the published messages (0 or 1).")
    topic_prefix: TopicPrefix = Field(
        default=DEFAULT_PREFIX, description="Topics below this prefix."
    )
    client_id_prefix: str = Field(
        default="occupancy-sim", description="Client ids are <prefix>-<site>-<agent>."
    )
    mqtt_username: str | None = Field(default=None, description="MQTT user name.")
    mqtt_password: SecretStr | None = Field(default=None, description="MQTT password.")
    mqtt_ca_file: Path | None = Field(
        default=None, description="CA bundle for mqtts:// (default: the system's CAs)."
    )
    keepalive_s: int = Field(default=30, ge=5, le=3600, description="MQTT keepalive.")
    max_inflight: int = Field(
        default=100, ge=1, le=65535, description="Unacknowledged publishes per agent at once."
    )
