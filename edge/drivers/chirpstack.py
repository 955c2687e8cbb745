"""LoRaWAN line-crossing people counters through a ChirpStack v4 MQTT integration.

ChirpStack (v4) publishes every uplink of a device, after its codec has
decoded it, as a JSON event on
``application/{application_id}/device/{dev_eui}/event/up``. The fields used
here are those of ``integration.UplinkEvent`` in ChirpStack's API, in the
Protobuf JSON mapping (camelCase):

* ``deviceInfo.devEui`` (hex string) and ``deviceInfo.deviceName``;
* ``time``: when the uplink was received (RFC 3339, UTC);
* ``fCnt``: the device's uplink frame counter;
* ``object``: the payload as the device profile's codec decoded it (absent
  when no codec is configured).

Source: ``proto/chirpstack/integration/integration.proto`` of chirpstack_api
4.x (https://docs.rs/crate/chirpstack_api/latest/source/proto/chirpstack/integration/integration.proto),
the ``UplinkEvent`` and ``DeviceInfo`` messages; the event topic is that of
ChirpStack's MQTT integration (https://www.chirpstack.io/docs/chirpstack/integrations/mqtt.html).

The decoded fields are those of Milesight's VS133/VS135 ToF people counters
(codec of https://github.com/Milesight-IoT/SensorDecoders, VS_Series/VS13x/README.md):
per counting line n (1-4) ``line_n_period_in`` / ``line_n_period_out``
(people across the line since the previous report) and ``line_n_total_in`` /
``line_n_total_out`` (running totals, 4 bytes). The period counts become the
message's ``in_count``/``out_count`` over the device's reporting interval
(configured on the device, so given here as ``report_interval_s``); the totals
go along so that the ingest can tell a counter reset from a gap.

``fCnt`` drops duplicates (the same uplink delivered twice). It is not the
message's ``seq``: the contract's sequence is the agent's, which its outbox
assigns, and a rejoining LoRaWAN device restarts its frame counter at 0.

The broker connection lives in ``edge.mqtt`` (the only paho importer); this
module only decodes.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.broker_url import parse_broker_url
from core.ids import Ident
from edge.drivers.base import CounterReading

#: Frame counters remembered per device to drop duplicated uplinks.
SEEN_FCNTS = 32
#: The contract's ceiling on one interval's count (core.messages.EntranceCounts).
MAX_PERIOD_COUNT = 100_000


class ChirpStackBridgeConfig(BaseModel):
    """Where ChirpStack's MQTT integration publishes (its own broker, usually)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(default="mqtt://127.0.0.1:1883")
    application_id: str = Field(
        default="+",
        min_length=1,
        pattern=r"^[^/#]+$",
        description="ChirpStack application id (UUID); + takes every application.",
    )
    topic_prefix: str = Field(
        default="application",
        min_length=1,
        description="ChirpStack's integration topic prefix (its 'event_topic' setting).",
    )
    username: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    ca_file: str | None = None

    @field_validator("url")
    @classmethod
    def _broker_url(cls, value: str) -> str:
        parse_broker_url(value)
        return value

    def uplink_filter(self) -> str:
        return f"{self.topic_prefix.rstrip('/')}/{self.application_id}/device/+/event/up"


class ChirpStackCounterConfig(BaseModel):
    """One people counter: its LoRaWAN device and the entrance it counts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["chirpstack"]
    id: Ident = Field(description="Counter id, as bound to the entrance in the site registry.")
    entrance: Ident = Field(description="Entrance id this counter reports for.")
    dev_eui: str = Field(pattern=r"^[0-9A-Fa-f]{16}$", description="The device's DevEUI (hex).")
    line: int = Field(default=1, ge=1, le=4, description="Which counting line of the device.")
    report_interval_s: float = Field(
        gt=0, le=86_400, description="The device's reporting interval (its period counts span it)."
    )
    swap_in_out: bool = Field(
        default=False, description="The device faces the other way: its in is the door's out."
    )

    @field_validator("dev_eui")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class UplinkProblem(ValueError):
    """An uplink that cannot become counts: the reason, for the log."""


def _count(obj: dict[str, Any], key: str, *, required: bool) -> int | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise UplinkProblem(f"object has no {key!r}")
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UplinkProblem(f"object.{key} is {value!r}, not a count (an integer >= 0)")
    return value


def parse_time(value: Any) -> datetime | None:
    """ChirpStack's RFC 3339 ``time`` (nanoseconds allowed), as UTC; None if unusable."""
    if not isinstance(value, str):
        return None
    text = value.replace("Z", "+00:00")
    # Python parses at most microseconds: cut longer fractions of a second
    if "." in text:
        head, _, rest = text.partition(".")
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}"
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        return None
    return ts.astimezone(UTC) if ts.tzinfo is not None else None


def uplink_device(data: Any) -> str | None:
    """The uplink's DevEUI, lower case, or None."""
    if not isinstance(data, dict) or not isinstance(data.get("deviceInfo"), dict):
        return None
    dev = data["deviceInfo"].get("devEui")
    return dev.lower() if isinstance(dev, str) else None


def decode_uplink(
    config: ChirpStackCounterConfig, data: dict[str, Any], received_at: datetime
) -> CounterReading | None:
    """One decoded uplink -> the counter's reading; None when the uplink is no
    counting report (e.g. a device-info or region/dwell report); raises
    ``UplinkProblem`` when it should be one but cannot be read."""
    obj = data.get("object")
    if obj is None:
        raise UplinkProblem("uplink has no decoded 'object' (no codec in the device profile?)")
    if not isinstance(obj, dict):
        raise UplinkProblem(f"'object' is a JSON {type(obj).__name__}, not an object")
    n = config.line
    if f"line_{n}_period_in" not in obj and f"line_{n}_period_out" not in obj:
        return None
    period_in = _count(obj, f"line_{n}_period_in", required=True)
    period_out = _count(obj, f"line_{n}_period_out", required=True)
    for key, value in (("in", period_in), ("out", period_out)):
        if value is not None and value > MAX_PERIOD_COUNT:
            raise UplinkProblem(
                f"object.line_{n}_period_{key} is {value}, over the contract's {MAX_PERIOD_COUNT}"
            )
    total_in = _count(obj, f"line_{n}_total_in", required=False)
    total_out = _count(obj, f"line_{n}_total_out", required=False)
    assert period_in is not None and period_out is not None
    if config.swap_in_out:
        period_in, period_out = period_out, period_in
        total_in, total_out = total_out, total_in
    at = parse_time(data.get("time")) or received_at
    return CounterReading(
        config.id, config.entrance, at, period_in, period_out,
        config.report_interval_s, total_in, total_out,
    )  # fmt: skip


class ChirpStackCounters:
    """Every ChirpStack counter of one agent: uplinks in, readings (or None) out."""

    def __init__(self, counters: list[ChirpStackCounterConfig]):
        self.by_eui = {c.dev_eui: c for c in counters}
        self._seen: dict[str, OrderedDict[int, None]] = {c.dev_eui: OrderedDict() for c in counters}

    def handle(self, topic: str, payload: bytes, received_at: datetime) -> CounterReading | None:
        """Raises ``UplinkProblem`` for an unreadable or unknown uplink; returns
        None for a duplicate or a report without counts."""
        try:
            data = json.loads(payload)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise UplinkProblem(f"uplink on {topic} is not JSON (or nests too deeply)") from None
        if not isinstance(data, dict):
            raise UplinkProblem(f"uplink on {topic} is not a JSON object")
        # the topic names the device too; the payload's deviceInfo wins if both exist
        parts = topic.split("/")
        dev = uplink_device(data) or (parts[-3].lower() if len(parts) >= 3 else None)
        config = self.by_eui.get(dev or "")
        if config is None:
            raise UplinkProblem(f"uplink of device {dev!r} on {topic}: no counter has that dev_eui")
        fcnt = data.get("fCnt")
        if isinstance(fcnt, int) and not isinstance(fcnt, bool):
            seen = self._seen[config.dev_eui]
            if fcnt in seen:
                return None
            seen[fcnt] = None
            if len(seen) > SEEN_FCNTS:
                seen.popitem(last=False)
        return decode_uplink(config, data, received_at)
