"""Zigbee occupancy and presence sensors through a local zigbee2mqtt bridge.

zigbee2mqtt publishes each device's whole state as a JSON object on
``<base_topic>/<friendly_name>`` (friendly names may contain ``/``), and
``{"state": "online"|"offline"}`` on ``.../availability`` when availability is
enabled. PIR devices expose ``occupancy``, radar (mmWave) devices ``presence``;
battery devices add ``battery`` (%). With zigbee2mqtt's ``last_seen`` option
the message says when the device itself was heard (ISO 8601 or epoch ms), which
is then the event time; otherwise the time the bridge message arrived is the
best sensor time there is.

The bridge connection itself lives in ``edge.mqtt`` (the only paho importer);
this module only decodes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.broker_url import parse_broker_url
from edge.drivers.base import Clock, Driver, Reading, SensorConfigBase, Sink


class Zigbee2MqttBridgeConfig(BaseModel):
    """The zigbee2mqtt side: usually the Pi's own Mosquitto, not the central broker."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(default="mqtt://127.0.0.1:1883")
    base_topic: str = Field(default="zigbee2mqtt", min_length=1)
    username: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    ca_file: str | None = None

    @field_validator("url")
    @classmethod
    def _broker_url(cls, value: str) -> str:
        parse_broker_url(value)
        return value


class Zigbee2MqttConfig(SensorConfigBase):
    type: Literal["zigbee2mqtt"]
    device: str = Field(min_length=1, description="zigbee2mqtt friendly name of the device.")
    field: Literal["auto", "occupancy", "presence"] = Field(
        default="auto", description="Which property means presence; auto takes whichever is set."
    )


def parse_last_seen(value: Any) -> datetime | None:
    """zigbee2mqtt ``last_seen``: ISO 8601 (with offset) or epoch milliseconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000.0, UTC)
    if isinstance(value, str):
        try:
            ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        # ISO_8601_local without an offset would be ambiguous: not a sensor time we can use
        return ts.astimezone(UTC) if ts.tzinfo is not None else None
    return None


_TOO_DEEP = "payload is not a device state: JSON nested too deeply"


def decode_state(
    sensor_id: str, field: str, payload: bytes, received_at: datetime
) -> Reading | None:
    """One zigbee2mqtt state message -> a Reading, or None if it is not a device state."""
    try:
        data = json.loads(payload)
    except RecursionError:
        # json's decoder recurses per level: a few thousand nested brackets
        # (a malformed or hostile payload) exhaust the stack
        return Reading(sensor_id, received_at, None, ok=False, detail=_TOO_DEEP)
    except (UnicodeDecodeError, ValueError):  # JSONDecodeError, or an int of > 4300 digits
        return Reading(sensor_id, received_at, None, ok=False, detail="payload is not JSON")
    if not isinstance(data, dict):
        return Reading(sensor_id, received_at, None, ok=False, detail="payload is not an object")
    at = parse_last_seen(data.get("last_seen")) or received_at
    active: bool | None = None
    keys = ("occupancy", "presence") if field == "auto" else (field,)
    for key in keys:
        value = data.get(key)
        if isinstance(value, bool):
            active = value
            break
    battery = data.get("battery")
    battery_pct = (
        float(battery)
        if isinstance(battery, int | float)
        and not isinstance(battery, bool)
        and 0 <= battery <= 100
        else None
    )
    return Reading(sensor_id, at, active, battery_pct=battery_pct)


def decode_availability(sensor_id: str, payload: bytes, received_at: datetime) -> Reading:
    text = payload.decode("utf-8", "replace").strip()
    state = text
    if text.startswith("{"):
        try:
            state = str(json.loads(text).get("state", ""))
        except (ValueError, AttributeError, RecursionError):  # not JSON, not an object, too deep
            state = ""
    ok = state == "online"
    return Reading(
        sensor_id, received_at, None, ok=ok, detail=None if ok else f"zigbee {state or 'unknown'}"
    )


class Zigbee2MqttDriver(Driver):
    type_name = "zigbee2mqtt"
    config: Zigbee2MqttConfig

    def __init__(self, config: Zigbee2MqttConfig, sink: Sink, clock: Clock, *, base_topic: str):
        super().__init__(config, sink, clock)
        self.state_topic = f"{base_topic.rstrip('/')}/{config.device}"
        self.availability_topic = f"{self.state_topic}/availability"

    def topics(self) -> list[str]:
        return [self.state_topic, self.availability_topic]

    def handle(self, topic: str, payload: bytes, received_at: datetime) -> None:
        if topic == self.state_topic:
            reading = decode_state(self.sensor_id, self.config.field, payload, received_at)
            if reading is not None:
                self.sink(reading)
        elif topic == self.availability_topic:
            self.sink(decode_availability(self.sensor_id, payload, received_at))
