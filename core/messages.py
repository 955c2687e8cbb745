"""Message contract v1: one pydantic model per message kind.

The JSON Schema of each model is published in ``docs/contract/`` (see
``core.contract``); a test fails when the two drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

from core.ids import Ident
from core.timeutil import UtcDatetime

SCHEMA_VERSION = 1


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)

    schema_version: Literal[1] = Field(default=1, description="Contract version of this payload.")


# The published JSON Schema says boolean and integer; pydantic's lax mode would
# still take "yes" or "12" (issue 20). Strict types make the model refuse what
# the schema refuses, without changing the schema itself. Floats stay lax: the
# schema's "number" admits integers, and so does strict float.


class PresenceKind(StrEnum):
    CHANGE = "change"
    HEARTBEAT = "heartbeat"


class Presence(_Message):
    """State of one space as seen by one sensor.

    Published on ``{prefix}/{site}/spaces/{space_id}/presence`` with QoS 1.
    A ``change`` is sent at once when the state changes; a ``heartbeat`` repeats
    the current state periodically so silence can be told from vacancy.
    """

    space_id: Ident
    agent_id: Ident
    sensor_id: Ident
    occupied: StrictBool
    people_count: StrictInt | None = Field(default=None, ge=0, le=10_000)
    event_time: UtcDatetime = Field(description="Sensor clock, UTC. Never the receive time.")
    seq: StrictInt = Field(ge=0, description="Sequence number per agent, increasing.")
    kind: PresenceKind
    heartbeat_interval_s: float | None = Field(
        default=None,
        gt=0,
        le=86_400,
        description="The sensor's heartbeat period; silence past 2.5 x this means unknown.",
    )


class AgentState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class AgentStatus(_Message):
    """Availability of an edge agent, retained.

    The ``offline`` payload is registered as the MQTT Last Will, so it is fixed at
    connect time and has no event time: whoever receives it uses its receive time.
    """

    agent_id: Ident
    state: AgentState
    event_time: UtcDatetime | None = None


class SensorHealth(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sensor_id: Ident
    space_id: Ident
    battery_pct: float | None = Field(default=None, ge=0, le=100)
    last_seen: UtcDatetime | None = None
    ok: StrictBool = True
    detail: str | None = Field(default=None, max_length=200)


class AgentHealth(_Message):
    """Periodic health report of an edge agent."""

    agent_id: Ident
    event_time: UtcDatetime
    version: str = Field(max_length=64)
    uptime_s: float = Field(ge=0)
    outbox_depth: StrictInt = Field(ge=0)
    outbox_dropped: StrictInt = Field(default=0, ge=0)
    outbox_unconfirmed: StrictInt = Field(
        default=0,
        ge=0,
        description="Outbox events the broker acknowledged that the ingest has not yet "
        "confirmed stored (part of outbox_depth).",
    )
    outbox_dropped_unconfirmed: StrictInt = Field(
        default=0,
        ge=0,
        description="Of outbox_dropped, events the broker had acknowledged: probably stored.",
    )
    sensors: list[SensorHealth] = Field(default_factory=list, max_length=1000)


#: Ranges per ``Stored`` message: 1,000 ranges of 16-digit seqs are ~37 KB,
#: well under the broker's 64 KiB payload cap.
MAX_STORED_RANGES = 1000

SeqRange = tuple[Annotated[StrictInt, Field(ge=0)], Annotated[StrictInt, Field(ge=0)]]


class Stored(_Message):
    """The ingest's confirmation that presence messages of one agent are durable.

    Published by an ingest replica on ``{prefix}/{site}/agents/{agent_id}/stored``
    (QoS 1, not retained) once a batch holding them is in the store or the
    spool, or dead-lettered. It reports what *that batch* made durable, not a
    running total: with replicas on a shared subscription each replica sees only
    some of an agent's messages, and the agent takes the union of every report.
    The agent deletes an outbox row only when its ``seq`` is in a report.
    """

    agent_id: Ident
    replica: Ident = Field(description="The ingest replica that made them durable.")
    seqs: list[SeqRange] = Field(
        min_length=1,
        max_length=MAX_STORED_RANGES,
        description="Inclusive [first, last] ranges of seq, ascending and disjoint.",
    )
    event_time: UtcDatetime = Field(description="When the batch became durable.")

    @model_validator(mode="after")
    def _ascending(self) -> Stored:
        last = -1
        for first, end in self.seqs:
            if first > end or first <= last:
                raise ValueError("seqs must be ascending, disjoint [first, last] ranges")
            last = end
        return self


def seq_ranges(seqs: Iterable[int]) -> list[tuple[int, int]]:
    """The inclusive ranges covering ``seqs`` exactly: sorted, merged, disjoint."""
    out: list[tuple[int, int]] = []
    for seq in sorted(set(seqs)):
        if out and seq == out[-1][1] + 1:
            out[-1] = (out[-1][0], seq)
        else:
            out.append((seq, seq))
    return out


class EntranceCounts(_Message):
    """People counted crossing one entrance over one interval (a people counter).

    Published on ``{prefix}/{site}/entrances/{entrance_id}/counts`` with QoS 1,
    one message per counting interval that ends at ``event_time``. Counts are
    of the interval, never running totals: a receiver adds messages up, and a
    lost or duplicated message changes one interval, not every figure after
    it. A counter that keeps running totals puts them in ``total_in`` and
    ``total_out`` so that the ingest can tell a reset from a gap. An interval
    with no one crossing is still sent (zeros): it is the heartbeat that tells
    a quiet door from a silent counter.
    """

    entrance_id: Ident
    agent_id: Ident
    sensor_id: Ident
    in_count: StrictInt = Field(ge=0, le=100_000, description="People in during the interval.")
    out_count: StrictInt = Field(ge=0, le=100_000, description="People out during the interval.")
    interval_s: float = Field(
        gt=0, le=86_400, description="Length of the counting interval ending at event_time."
    )
    event_time: UtcDatetime = Field(description="End of the interval, sensor clock, UTC.")
    seq: StrictInt = Field(ge=0, description="Sequence number per agent, increasing.")
    total_in: StrictInt | None = Field(
        default=None, ge=0, description="The counter's running total in, if it keeps one."
    )
    total_out: StrictInt | None = Field(
        default=None, ge=0, description="The counter's running total out, if it keeps one."
    )
    heartbeat_interval_s: float | None = Field(
        default=None,
        gt=0,
        le=86_400,
        description="How often the counter reports; silence past 2.5 x this means unknown.",
    )


MESSAGE_MODELS: dict[str, type[_Message]] = {
    "presence": Presence,
    "entrance_counts": EntranceCounts,
    "agent_status": AgentStatus,
    "agent_health": AgentHealth,
    "stored": Stored,
}


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One message as received from the broker, before any decoding."""

    topic: str
    payload: bytes
    qos: int = 0
    retain: bool = False
    mid: int = 0
    received_at: datetime | None = None
