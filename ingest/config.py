"""Settings of the ingest: one pydantic-settings class, validated once at start-up.

Environment variables use the prefix ``OCCUPANCY_INGEST_``; the store's
settings nest under ``STORE__`` (e.g. ``OCCUPANCY_INGEST_STORE__URL``).
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from core.broker_url import BrokerAddress, BrokerUrl, parse_broker_url
from core.datadir import data_path
from core.ids import is_valid_id
from core.renamed_env import RenamedEnvSettings
from core.secrets import refuse_placeholders
from core.topics import DEFAULT_PREFIX, TopicPrefix, Topics
from storage import StoreSettings


class MqttProtocol(StrEnum):
    V5 = "5"
    V311 = "3.1.1"


def _default_replica() -> str:
    host = socket.gethostname().split(".")[0]
    return host if is_valid_id(host) else "ingest"


class IngestSettings(RenamedEnvSettings):
    model_config = SettingsConfigDict(
        env_prefix="OCCUPANCY_INGEST_",
        env_nested_delimiter="__",
        extra="forbid",
    )
    # The broker settings are spelt as the API's and the simulator's (issue 14);
    # the old variables still work, with a warning (docs/ingest.md).
    renamed_env: ClassVar[Mapping[str, str]] = {
        "username": "mqtt_username",
        "password": "mqtt_password",
        "ca_file": "mqtt_ca_file",
        "client_cert": "mqtt_client_cert",
        "client_key": "mqtt_client_key",
        "protocol": "mqtt_protocol",
    }

    environment: Literal["development", "production"] = Field(
        default="development", description="production refuses placeholder secrets."
    )
    registry: Path = Field(description="Site file, or folder of site files.")
    broker_url: BrokerUrl = Field(
        default="mqtt://127.0.0.1:1883", description="mqtt://host:1883 or mqtts://host:8883."
    )
    mqtt_username: str | None = Field(default=None, description="MQTT user name.")
    mqtt_password: SecretStr | None = Field(default=None, description="MQTT password.")
    mqtt_ca_file: Path | None = Field(
        default=None, description="CA bundle for mqtts:// (default: the system's CAs)."
    )
    mqtt_client_cert: Path | None = Field(
        default=None, description="Client certificate (PEM), with mqtt_client_key."
    )
    mqtt_client_key: Path | None = Field(default=None, description="Client key (PEM).")
    client_id: str = Field(
        default="occupancy-ingest",
        min_length=1,
        max_length=64,
        description="Fixed, so the broker keeps the session; one per replica.",
    )
    mqtt_protocol: MqttProtocol = Field(
        default=MqttProtocol.V5,
        description="'5' (Mosquitto, EMQX, ...) or '3.1.1' (the embedded amqtt broker).",
    )
    session_expiry_s: int = Field(
        default=7 * 86_400, ge=0, le=4_294_967_295, description="MQTT 5 session expiry."
    )
    receive_maximum: int = Field(
        default=20_000,
        ge=1,
        le=65_535,
        description="MQTT 5 in-flight window: unacknowledged messages the broker may send us.",
    )
    keepalive_s: int = Field(default=30, ge=5, le=3600, description="MQTT keepalive.")
    share_group: str | None = Field(
        default=None, description="Shared subscription group: replicas of one group split load."
    )
    topic_prefix: TopicPrefix = Field(
        default=DEFAULT_PREFIX, description="Topics below this prefix."
    )
    batch_max_points: int = Field(
        default=5_000, ge=1, le=1_000_000, description="A batch is written at this many points..."
    )
    batch_max_delay_s: float = Field(
        default=1.0, gt=0, le=60, description="...or once it is this old."
    )
    batch_linger_s: float = Field(
        default=0.05,
        ge=0,
        le=60,
        description="An idle writer takes a batch once it is this old (low latency at low rates).",
    )
    spool_dir: Path = Field(
        default_factory=lambda: data_path("ingest", "spool"),
        description="One folder per replica (locked); default: ingest/spool in the data dir.",
    )
    spool_max_bytes: int = Field(
        default=1 << 30, ge=1 << 16, description="When the spool holds this much, acks stop."
    )
    spool_segment_bytes: int = Field(
        default=8 << 20, ge=1 << 12, description="Size of one spool file."
    )
    dead_letter_dir: Path = Field(
        default_factory=lambda: data_path("ingest", "dead-letters"),
        description="JSON Lines files; default: ingest/dead-letters in the data dir.",
    )
    dead_letter_max_bytes: int = Field(
        default=256 << 20,
        ge=1 << 20,
        description="Budget of the dead-letter folder; the oldest files go first (counted).",
    )
    max_payload_bytes: int = Field(
        default=64 << 10,
        ge=1024,
        le=256 << 20,
        description="Larger payloads are dead-lettered as payload_too_large with an excerpt.",
    )
    dead_letter_excerpt_bytes: int = Field(
        default=1024, ge=0, le=64 << 10, description="Bytes kept of an oversized payload."
    )
    inflight_max_bytes: int = Field(
        default=64 << 20,
        ge=1 << 20,
        description="Payload bytes received and not yet acknowledged; the receiver "
        "stops reading from the broker above it.",
    )
    confirm: bool = Field(
        default=True,
        description="After each durable batch, publish a 'stored' confirmation to each "
        "agent in it, so edge agents keep outbox rows until they are stored.",
    )
    dead_letters_to_store: bool = Field(
        default=True, description="Also write dead letters to the 'dead_letters' measurement."
    )
    max_future_s: float = Field(
        default=300.0, ge=0, description="Event times further ahead are dead letters."
    )
    max_age_s: float = Field(
        default=30 * 86_400.0, gt=0, description="Older event times are dead letters."
    )
    max_counts_per_minute: float = Field(
        default=1000.0,
        gt=0,
        description="Entrance counts (in + out) above this many people a minute over their "
        "interval are dead letters (implausible_count).",
    )
    store_retry_s: float = Field(
        default=2.0, gt=0, le=300, description="How often a store that is down is retried."
    )
    metrics_host: str = Field(default="127.0.0.1", description="Prometheus endpoint address.")
    metrics_port: int | None = Field(
        default=9464,
        ge=0,
        le=65_535,
        description="Prometheus port; 0 picks a free one (--no-metrics: none).",
    )
    replica: str = Field(
        default_factory=_default_replica, description="Names this replica in dead letters."
    )
    store: StoreSettings = Field(default_factory=StoreSettings)

    @field_validator("share_group")
    @classmethod
    def _group(cls, value: str | None) -> str | None:
        if value is not None and (not value or any(c in value for c in "/+#")):
            raise ValueError("share_group must be non-empty without '/', '+' or '#'")
        return value

    @field_validator("replica")
    @classmethod
    def _replica(cls, value: str) -> str:
        if not is_valid_id(value):
            raise ValueError("replica must be a plain id (letters, digits, '_', '.', '-')")
        return value

    @model_validator(mode="after")
    def _tls_files(self) -> IngestSettings:
        for name in ("mqtt_ca_file", "mqtt_client_cert", "mqtt_client_key"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise ValueError(f"{name} {path} does not exist")
        if (self.mqtt_client_cert is None) != (self.mqtt_client_key is None):
            raise ValueError("mqtt_client_cert and mqtt_client_key go together")
        if self.inflight_max_bytes < 2 * self.max_payload_bytes:
            raise ValueError("inflight_max_bytes must hold at least two max_payload_bytes")
        if self.batch_max_points > self.receive_maximum and self.mqtt_protocol is MqttProtocol.V5:
            # With fewer unacknowledged messages allowed than a batch holds, every
            # batch would wait out its timer: the broker stops sending first.
            raise ValueError(
                f"receive_maximum ({self.receive_maximum}) must be at least "
                f"batch_max_points ({self.batch_max_points})"
            )
        return self

    @model_validator(mode="after")
    def _production_needs_real_secrets(self) -> IngestSettings:
        # A placeholder secret must not reach production (DESIGN.md, "Security").
        if self.environment == "production":
            refuse_placeholders(
                {
                    "mqtt_password": self.mqtt_password,
                    "store.password": self.store.password,
                    "store.token": self.store.token,
                }
            )
        return self

    @property
    def broker(self) -> BrokerAddress:
        return parse_broker_url(self.broker_url)

    @property
    def topics(self) -> Topics:
        return Topics(self.topic_prefix)

    @property
    def max_future(self) -> timedelta:
        return timedelta(seconds=self.max_future_s)

    @property
    def max_age(self) -> timedelta:
        return timedelta(seconds=self.max_age_s)

    def subscriptions(self) -> list[str]:
        filters = self.topics.subscriptions()
        if self.share_group:
            return [f"$share/{self.share_group}/{f}" for f in filters]
        return filters
