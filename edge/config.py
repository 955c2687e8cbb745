"""The edge agent's configuration: one strictly validated YAML file.

Unknown keys, wrong types and bad references are errors naming the file, the
line and the field. Secrets never sit in the file: a broker password comes from
an environment variable named by ``password_env`` or from a file named by
``password_file`` (e.g. a systemd credential), resolved once at start-up.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.broker_url import parse_broker_url
from core.ids import Ident
from core.topics import DEFAULT_PREFIX, Topics
from core.yamlfile import ConfigError, YamlFileError, field_name, load_located, validation_problems
from edge.discovery import HomeAssistantConfig, config_topic
from edge.drivers.chirpstack import ChirpStackBridgeConfig, ChirpStackCounterConfig
from edge.drivers.ld2410 import Ld2410Config
from edge.drivers.pir import PirConfig
from edge.drivers.simulated import SimulatedConfig
from edge.drivers.simulated_counter import SimulatedCounterConfig
from edge.drivers.zigbee2mqtt import Zigbee2MqttBridgeConfig, Zigbee2MqttConfig

SensorConfig = Annotated[
    PirConfig | Ld2410Config | Zigbee2MqttConfig | SimulatedConfig, Field(discriminator="type")
]

CounterConfig = Annotated[
    ChirpStackCounterConfig | SimulatedCounterConfig, Field(discriminator="type")
]

_SENSOR_TYPES = ("pir", "ld2410", "zigbee2mqtt", "simulated", "chirpstack")
_SECRET_KEYS = ("password", "passwd", "secret", "token")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _no_inline_secrets(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            for key in data:
                if key in _SECRET_KEYS:
                    raise ValueError(
                        f"{key!r} must not be written in the config file: "
                        "use password_env (an environment variable name) or password_file"
                    )
        return data


def _check_url(url: str) -> str:
    parse_broker_url(url)  # scheme, host and port
    if urlsplit(url).password is not None:
        raise ValueError("no password in the URL: use password_env or password_file")
    return url


class BrokerConfig(_Strict):
    url: str = Field(description="mqtt://host:1883 or mqtts://host:8883")
    ca_file: Path | None = Field(
        default=None, description="CA bundle for mqtts (default: system CAs)."
    )
    client_cert: Path | None = None
    client_key: Path | None = None
    username: str | None = None
    password_env: str | None = Field(
        default=None, description="Environment variable with the password."
    )
    password_file: Path | None = Field(
        default=None, description="File whose first line is the password."
    )
    keepalive_s: int = Field(
        default=30, ge=2, le=3600, description="Also how soon the Last Will fires."
    )
    reconnect_max_s: float = Field(default=60.0, ge=0.5, le=3600)
    client_id: str | None = Field(default=None, description="Default: occupancy-edge-<agent_id>.")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _check_url(value)

    @model_validator(mode="after")
    def _one_password_source(self) -> BrokerConfig:
        if self.password_env and self.password_file:
            raise ValueError("give either password_env or password_file, not both")
        if (self.ca_file or self.client_cert) and not self.tls:
            raise ValueError("ca_file/client_cert need an mqtts:// URL")
        return self

    @property
    def host(self) -> str:
        return parse_broker_url(self.url).host

    @property
    def port(self) -> int:
        return parse_broker_url(self.url).port

    @property
    def tls(self) -> bool:
        return parse_broker_url(self.url).tls


class OutboxConfig(_Strict):
    path: Path = Field(default=Path("/var/lib/occupancy-edge/outbox.sqlite3"))
    max_events: int = Field(default=500_000, ge=10, description="Oldest dropped beyond this.")
    max_age_s: float = Field(default=14 * 86_400, gt=0, description="Older events are dropped.")
    max_inflight: int = Field(
        default=20, ge=1, le=1000, description="Unacknowledged publishes at once."
    )
    confirm: bool = Field(
        default=True,
        description="Keep each event until the ingest confirms it stored (false: until "
        "the broker's PUBACK, which a broker crash can then lose).",
    )
    confirm_timeout_s: float = Field(
        default=60.0,
        ge=1,
        le=86_400,
        description="An unconfirmed event the ingest has got past is sent again after this.",
    )


class AgentConfig(_Strict):
    site: Ident
    agent_id: Ident
    topic_prefix: str = DEFAULT_PREFIX
    heartbeat_s: float = Field(default=300.0, gt=0, le=86_400)
    health_s: float = Field(default=60.0, gt=0, le=86_400)
    tick_s: float = Field(
        default=1.0, gt=0, le=60, description="How often holds and timers are checked."
    )
    broker: BrokerConfig
    outbox: OutboxConfig = Field(default_factory=OutboxConfig)
    zigbee2mqtt: Zigbee2MqttBridgeConfig | None = None
    home_assistant: HomeAssistantConfig = Field(default_factory=HomeAssistantConfig)
    sensors: list[SensorConfig] = Field(default_factory=list, max_length=1000)
    #: ChirpStack's MQTT integration, for LoRaWAN people counters (edge/drivers/chirpstack.py)
    chirpstack: ChirpStackBridgeConfig | None = None
    #: people counters at entrances (entrance_counts messages)
    counters: list[CounterConfig] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _something_to_read(self) -> AgentConfig:
        if not self.sensors and not self.counters:
            raise ValueError("give at least one entry in 'sensors' or 'counters'")
        return self

    @field_validator("topic_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return Topics(value).prefix

    def reference_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        counts = Counter(s.id for s in self.sensors)
        seen: set[str] = set()
        for i, s in enumerate(self.sensors):
            if counts[s.id] > 1 and s.id in seen:
                problems.append((("sensors", i, "id"), f"duplicate sensor id {s.id!r}"))
            seen.add(s.id)
        if self.zigbee2mqtt is None:
            for i, s in enumerate(self.sensors):
                if isinstance(s, Zigbee2MqttConfig):
                    problems.append(
                        (
                            ("sensors", i, "type"),
                            "zigbee2mqtt sensors need a top-level 'zigbee2mqtt:' section",
                        )
                    )
                    break
        problems += self._discovery_problems()
        problems += self._counter_problems()
        devices = Counter(s.device for s in self.sensors if isinstance(s, Zigbee2MqttConfig))
        for i, s in enumerate(self.sensors):
            if isinstance(s, Zigbee2MqttConfig) and devices[s.device] > 1:
                problems.append((("sensors", i, "device"), f"device {s.device!r} is bound twice"))
        return problems

    def _counter_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        ids = {s.id for s in self.sensors}
        devices: dict[str, int] = {}
        for i, c in enumerate(self.counters):
            if c.id in ids:
                problems.append((("counters", i, "id"), f"id {c.id!r} is used twice"))
            ids.add(c.id)
            if isinstance(c, ChirpStackCounterConfig):
                if self.chirpstack is None:
                    need = "chirpstack counters need a 'chirpstack:' section"
                    problems.append((("counters", i, "type"), need))
                if c.dev_eui in devices:
                    problems.append(
                        (("counters", i, "dev_eui"), f"dev_eui {c.dev_eui} is bound twice")
                    )
                devices[c.dev_eui] = i
        return problems

    def _discovery_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        ha = self.home_assistant
        if not ha.discovery:
            return []
        if f"{ha.discovery_prefix}/".startswith(f"{self.topic_prefix}/"):
            return [
                (
                    ("home_assistant", "discovery_prefix"),
                    f"discovery_prefix {ha.discovery_prefix!r} is under the contract's "
                    f"topic_prefix {self.topic_prefix!r}: give Home Assistant's own prefix",
                )
            ]
        # ids differing only in a character Home Assistant does not allow (a.b, a_b)
        seen: dict[str, str] = {}
        for i, s in enumerate(self.sensors):
            topic = config_topic(ha.discovery_prefix, self.agent_id, self.site, s.space)
            if seen.setdefault(topic, s.space) != s.space:
                return [
                    (
                        ("sensors", i, "space"),
                        f"spaces {seen[topic]!r} and {s.space!r} share the discovery topic {topic}",
                    )
                ]
        return []


class Secrets(BaseModel):
    broker_password: str | None = None
    zigbee_password: str | None = None
    chirpstack_password: str | None = None


def _read_secret(
    env_name: str | None, file: Path | str | None, environ: Mapping[str, str], what: str
) -> str | None:
    if env_name:
        if env_name not in environ:
            raise ConfigError(f"{what}: environment variable {env_name} is not set")
        return environ[env_name]
    if file:
        try:
            return Path(file).read_text(encoding="utf-8").splitlines()[0].strip()
        except (OSError, IndexError) as exc:
            raise ConfigError(f"{what}: cannot read password_file {file}: {exc}") from exc
    return None


def _untagged(exc: ValidationError) -> list[dict[str, Any]]:
    """Drop the union tag pydantic puts in error paths (sensors.3.pir.pin -> sensors[3].pin)."""
    out = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        if len(loc) > 2 and loc[0] in ("sensors", "counters") and loc[2] in _SENSOR_TYPES:
            loc = loc[:2] + loc[3:]
        out.append({**err, "loc": loc})
    return out


def load_config(file: Path | str) -> AgentConfig:
    """Load and strictly validate the agent's YAML; raises ``YamlFileError``."""
    path = Path(file)
    located = load_located(path)
    if not isinstance(located.data, Mapping):
        raise YamlFileError(path, [(1, "", "the config must be a mapping of keys to values")])
    try:
        config = AgentConfig.model_validate(located.data)
    except ValidationError as exc:
        raise YamlFileError(path, validation_problems(located, _untagged(exc))) from None
    problems = [
        (located.line_of(loc), field_name(loc), msg) for loc, msg in config.reference_problems()
    ]
    if problems:
        raise YamlFileError(path, problems)
    return config


def resolve_secrets(config: AgentConfig, environ: Mapping[str, str]) -> Secrets:
    """Read the passwords the config points at (called once at start-up)."""
    b = config.broker
    z = config.zigbee2mqtt
    c = config.chirpstack
    return Secrets(
        chirpstack_password=_read_secret(c.password_env, c.password_file, environ, "chirpstack")
        if c
        else None,
        broker_password=_read_secret(b.password_env, b.password_file, environ, "broker"),
        zigbee_password=_read_secret(z.password_env, z.password_file, environ, "zigbee2mqtt")
        if z
        else None,
    )


class EdgeSettings(BaseSettings):
    """Process settings (the service's one settings class): from
    ``OCCUPANCY_EDGE_*`` variables, or the same-named options of ``occupancy edge``.
    Everything else is in the agent's YAML file."""

    model_config = SettingsConfigDict(env_prefix="OCCUPANCY_EDGE_", extra="ignore")

    config: Path | None = Field(default=None, description="The agent's YAML file.")
    registry: Path | None = Field(
        default=None, description="Site file or folder that --check checks the sensors against."
    )
