"""Home Assistant MQTT discovery: what the agent publishes so that Home
Assistant shows each space as an occupancy binary sensor with no configuration
(docs/integrations.md, "Home Assistant"; off by default).

Nothing here changes the v1 contract: the configs go under the discovery
prefix (``homeassistant``), retained, and point Home Assistant at the topics
the agent already publishes. The state is read from the presence messages
(``value_json.occupied``), availability from the retained agent status
(``value_json.state``: ``online`` / ``offline``, the Last Will included), and
``expire_after`` is the contract's silence rule (2.5 heartbeats without a
message: unknown). One Home Assistant device per agent groups its spaces.

Topic, per Home Assistant's documentation:
``<discovery_prefix>/<component>/[<node_id>/]<object_id>/config``, where node
and object ids may hold only ``[a-zA-Z0-9_-]``: the agent id is the node id,
``<site>_<space>`` the object id, each with any other character (the dots
core.ids allows) written as ``_``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.topics import Topics

DEFAULT_DISCOVERY_PREFIX = "homeassistant"
COMPONENT = "binary_sensor"
#: the contract's silence rule (core.messages.Presence.heartbeat_interval_s)
SILENCE_FACTOR = 2.5
_NOT_ID = re.compile(r"[^a-zA-Z0-9_-]")


class HomeAssistantConfig(BaseModel):
    """The agent file's ``home_assistant:`` section."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    discovery: bool = Field(
        default=False, description="Publish Home Assistant MQTT discovery configs (retained)."
    )
    discovery_prefix: str = Field(
        default=DEFAULT_DISCOVERY_PREFIX,
        description="Home Assistant's discovery prefix (its MQTT integration's setting).",
    )

    @field_validator("discovery_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        value = value.strip("/")
        if not value or any(ch in value for ch in "+#\0"):
            raise ValueError(f"discovery_prefix {value!r} is not an MQTT topic prefix")
        return value


def discovery_id(text: str) -> str:
    """``text`` in the characters Home Assistant allows in node and object ids."""
    return _NOT_ID.sub("_", text)


def config_topic(prefix: str, agent_id: str, site: str, space: str) -> str:
    node, obj = discovery_id(agent_id), discovery_id(f"{site}_{space}")
    return f"{prefix}/{COMPONENT}/{node}/{obj}/config"


def space_config(
    *,
    topics: Topics,
    site: str,
    agent_id: str,
    space: str,
    heartbeat_s: float,
    version: str,
) -> dict[str, object]:
    """The discovery payload of one space (Home Assistant's full key names)."""
    return {
        "name": space,
        "unique_id": discovery_id(f"occupancy_{site}_{space}"),
        "device_class": "occupancy",
        "state_topic": topics.presence(site, space),
        "value_template": "{{ 'ON' if value_json.occupied else 'OFF' }}",
        "payload_on": "ON",
        "payload_off": "OFF",
        "availability_topic": topics.status(site, agent_id),
        "availability_template": "{{ value_json.state }}",
        "payload_available": "online",
        "payload_not_available": "offline",
        "expire_after": math.ceil(SILENCE_FACTOR * heartbeat_s),
        "qos": 1,
        "device": {
            "identifiers": [discovery_id(f"occupancy_{site}_{agent_id}")],
            "name": f"Occupancy agent {agent_id}",
            "manufacturer": "occupancy-platform",
            "model": "edge agent",
            "sw_version": version,
        },
    }


def discovery_messages(
    *,
    config: HomeAssistantConfig,
    topics: Topics,
    site: str,
    agent_id: str,
    spaces: Iterable[str],
    heartbeat_s: float,
    version: str,
) -> list[tuple[str, bytes]]:
    """(topic, payload) per space, in order; none when discovery is off."""
    if not config.discovery:
        return []
    out = []
    for space in dict.fromkeys(spaces):
        payload = space_config(
            topics=topics,
            site=site,
            agent_id=agent_id,
            space=space,
            heartbeat_s=heartbeat_s,
            version=version,
        )
        topic = config_topic(config.discovery_prefix, agent_id, site, space)
        out.append((topic, json.dumps(payload, separators=(",", ":")).encode()))
    return out
