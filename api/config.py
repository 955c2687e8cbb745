"""Settings of the API service, validated once at start-up and passed in."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from alerts.config import AlertSettings
from core.datadir import example_sites, sqlite_url
from core.outbound import OutboundPolicy, parse_allowed
from core.secrets import refuse_placeholders
from core.topics import DEFAULT_PREFIX
from storage import StoreSettings
from webhooks.settings import WebhookSettings


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="OCCUPANCY_API_", env_nested_delimiter="__", extra="forbid"
    )

    environment: Literal["development", "production"] = Field(
        "development", description="production refuses placeholder secrets."
    )
    registry: Path = Field(
        default_factory=example_sites, description="Site file or folder of site files."
    )
    store: StoreSettings = Field(default_factory=StoreSettings)
    records_url: str = Field(
        default_factory=lambda: sqlite_url("api.db"),
        description=(
            "SQLAlchemy URL of the API's own records (keys, bookings, charge runs); "
            "default: api.db in OCCUPANCY_DATA_DIR."
        ),
    )
    host: str = Field("127.0.0.1", description="Listen address.")
    port: int = Field(8000, ge=1, le=65535, description="Listen port.")
    # No default broker: an API must not connect to whatever answers on
    # 127.0.0.1:1883. Without one, the live page shows the store's last states.
    broker_url: str | None = Field(
        None, description="Broker of the live feed (mqtt:// or mqtts://); unset: no live feed."
    )
    live_feed: bool = Field(
        True, description="false turns the live feed off even when broker_url is set."
    )
    mqtt_protocol: Literal["3.1.1", "5"] = Field(
        "5", description="'5' (Mosquitto, EMQX, ...) or '3.1.1' (the embedded amqtt broker)."
    )
    mqtt_username: str | None = Field(None, description="MQTT user name.")
    mqtt_password: SecretStr | None = Field(None, description="MQTT password.")
    mqtt_ca_file: Path | None = Field(
        None, description="CA bundle for mqtts:// (default: the system's CAs)."
    )
    topic_prefix: str = Field(DEFAULT_PREFIX, description="Topics below this prefix.")
    silence_factor: float = Field(
        2.5,
        gt=1,
        description="A sensor quiet this many heartbeat intervals is silent: unknown, not free.",
    )
    min_group_spaces: int = Field(
        5, ge=1, description="Smallest group an agency may see aggregates of (privacy)."
    )
    rollup_interval_s: float = Field(900, ge=0, description="0 disables scheduled rollups.")
    merge_gap_s: float = Field(
        0, ge=0, description="Free gaps shorter than this count as occupied."
    )
    rightsizing_margin: float = Field(
        0.10,
        ge=0,
        description="Right-sizing keeps ceil(p90 of an agency's daily presence peaks) x "
        "(1 + this) desks (docs/metrics.md, 'Agency presence and use rate').",
    )
    summaries_interval_s: float = Field(
        60,
        ge=0,
        description="Seconds between summariser cycles inside the API; 0 disables it "
        "(when `occupancy summaries run` runs as its own service).",
    )
    low_battery_pct: float = Field(
        15, ge=0, le=100, description="Battery level below which a sensor is reported."
    )
    stuck_after_h: float = Field(
        12, gt=0, description="Occupied without a break this long: the sensor is likely stuck."
    )
    key_cache_s: float = Field(
        5,
        ge=0,
        description="How long a verified key is trusted without a lookup (revocation delay).",
    )
    tariffs: Path | None = Field(None, description="Tariff file or folder for charges.")
    approval_min_coverage: float = Field(
        0.8,
        ge=0,
        le=1,
        description="A charge line whose sensor coverage is below this blocks the month's "
        "approval unless finance overrides it with a reason (0..1).",
    )
    payment_term_days: int = Field(
        14, ge=0, le=365, description="Days from a statement's issue date to its due date."
    )
    payment_reference: Literal["rf", "national"] = Field(
        "rf",
        description="Payment reference printed on statements: rf (RF creditor reference, "
        "ISO 11649) or national (Finnish viitenumero).",
    )
    reports_per_key: int = Field(
        2, ge=1, description="Expensive reports one key may have running at once."
    )
    reports_per_server: int = Field(
        4, ge=1, description="Expensive reports the whole server runs at once."
    )
    auth_failures_per_min: int = Field(
        20,
        ge=1,
        description="Failed authentications a client address may make per minute before 429.",
    )

    webhooks: WebhookSettings = Field(
        default_factory=WebhookSettings,
        description="Signed webhooks (docs/integrations.md).",
    )
    alerts: AlertSettings = Field(
        default_factory=AlertSettings,
        description="Alert rules, evaluation and e-mail (OCCUPANCY_API_ALERTS__<NAME>).",
    )
    feeds_poll_interval_s: float = Field(
        900,
        ge=0,
        description="Seconds between polls of each subscribed iCalendar booking feed "
        "(a feed may set its own); 0 stops the poller inside the API.",
    )
    feeds_timeout_s: float = Field(20, gt=0, description="Timeout of one feed request.")
    feeds_max_backoff_s: float = Field(
        6 * 3600, gt=0, description="Longest wait before retrying a failing feed."
    )
    feeds_past_days: int = Field(
        62, ge=0, description="A feed's events are read from this many days back ..."
    )
    feeds_future_days: int = Field(
        400, ge=1, description="... to this many days ahead (recurring events expanded)."
    )
    feeds_max_bytes: int = Field(
        20_000_000, ge=1000, description="Largest feed accepted, in bytes."
    )

    # --- outbound address policy (core/outbound.py): set by the administrator only
    outbound_allowed_networks: str = Field(
        "",
        description="Internal networks (CIDR or address) and host names, comma-separated, "
        "that webhook and booking-feed URLs may reach; default none: only public addresses.",
    )

    @field_validator("outbound_allowed_networks")
    @classmethod
    def _allowed_networks(cls, value: str) -> str:
        parse_allowed(value)  # a bad entry stops the start-up, with its name
        return value

    def outbound_policy(self) -> OutboundPolicy:
        return OutboundPolicy.from_setting(self.outbound_allowed_networks)

    # --- end outbound address policy

    @model_validator(mode="after")
    def _live_feed_off(self) -> ApiSettings:
        # One place decides: the app starts a feed exactly when broker_url is set.
        if not self.live_feed:
            self.broker_url = None
        return self

    @model_validator(mode="after")
    def _production_needs_real_secrets(self) -> ApiSettings:
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
