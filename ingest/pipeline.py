"""The ingest's named steps for one message: decode -> validate -> to point.

Pure functions over a ``RawMessage`` (no I/O, no clock of their own: ``now``
is passed in), so they can be fed bytes straight from a test. Every way a
message can be wrong ends in a ``Rejected`` with a ``Reason``; the service turns
that into a dead letter. Batching and writing live in ``ingest.batcher``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from core.messages import AgentHealth, AgentStatus, EntranceCounts, Presence, RawMessage
from core.registry import Registry, Site
from core.timeutil import to_ns
from core.topics import ParsedTopic, TopicError, TopicKind, Topics
from core.validation import Window, message_problem
from ingest.counts import (
    DEFAULT_MAX_COUNTS_PER_MINUTE,
    CounterTotals,
    rate_problem,
    reset_within,
)
from storage.base import Point
from storage.points import counts_point, health_points, presence_point, status_point


class Reason(StrEnum):
    """Why a message became a dead letter (the ``reason`` label and tag)."""

    BAD_TOPIC = "bad_topic"
    INVALID_JSON = "invalid_json"
    SCHEMA = "schema"
    UNKNOWN_SITE = "unknown_site"
    UNKNOWN_SPACE = "unknown_space"
    UNKNOWN_AGENT = "unknown_agent"
    UNKNOWN_ENTRANCE = "unknown_entrance"
    IMPLAUSIBLE_COUNT = "implausible_count"
    TOPIC_MISMATCH = "topic_mismatch"
    IDENTITY_MISMATCH = "identity_mismatch"
    FUTURE_TIME = "future_time"
    TOO_OLD = "too_old"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    STORE_REJECTED = "store_rejected"
    INTERNAL = "internal_error"


class Rejected(Exception):
    def __init__(self, reason: Reason, detail: str):
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Delivery:
    """A received message plus the connection it arrived on.

    The broker reuses a packet id once it is acknowledged, and resends unacked
    messages with their old ids after a reconnect; acking an id from an earlier
    connection could therefore acknowledge a different, not yet durable message.
    ``epoch`` lets ``ingest.mqtt`` drop such stale acks.
    """

    raw: RawMessage
    epoch: int = 0
    # Bytes received: more than ``len(raw.payload)`` when the receiver kept only
    # an excerpt of a payload over ``max_payload_bytes`` (-1: the whole payload).
    size: int = -1


#: What a ``too_old`` dead letter adds: the two ways older data gets in.
TOO_OLD_HINT = (
    "; to accept older messages raise OCCUPANCY_INGEST_MAX_AGE_S (--max-age-s), "
    "or load past data with 'occupancy import' (docs/integrations.md)"
)

#: The event-time window: the contract's (``core.validation``), shared with the API's live feed.
Limits = Window


@dataclass(frozen=True, slots=True)
class CountsRules:
    """How entrance counts are judged (ingest.counts): the rate ceiling, and the
    state that spots counter resets (None: only within one message)."""

    max_per_minute: float = DEFAULT_MAX_COUNTS_PER_MINUTE
    totals: CounterTotals | None = None


@dataclass(frozen=True, slots=True)
class Decoded:
    topic: ParsedTopic
    data: dict[str, Any]


Message = Presence | AgentStatus | AgentHealth | EntranceCounts

_MODELS: dict[
    TopicKind, type[Presence] | type[AgentStatus] | type[AgentHealth] | type[EntranceCounts]
] = {
    TopicKind.PRESENCE: Presence,
    TopicKind.COUNTS: EntranceCounts,
    TopicKind.STATUS: AgentStatus,
    TopicKind.HEALTH: AgentHealth,
}


def decode(raw: RawMessage, *, topics: Topics) -> Decoded:
    """Topic to its parts, payload bytes to a JSON object."""
    try:
        parsed = topics.parse(raw.topic)
    except TopicError as exc:
        raise Rejected(Reason.BAD_TOPIC, str(exc)) from None
    if parsed.kind not in _MODELS:
        raise Rejected(Reason.BAD_TOPIC, f"{raw.topic!r} is the ingest's own confirmation topic")
    try:
        data = json.loads(raw.payload.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise Rejected(Reason.INVALID_JSON, f"payload is not UTF-8: {exc.reason}") from None
    except json.JSONDecodeError as exc:
        raise Rejected(
            Reason.INVALID_JSON, f"{exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise Rejected(Reason.INVALID_JSON, "payload nests too deeply") from None
    if not isinstance(data, dict):
        raise Rejected(Reason.SCHEMA, f"payload is a JSON {type(data).__name__}, not an object")
    return Decoded(parsed, data)


def _schema_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False)[:3]:
        loc = ".".join(str(p) for p in err["loc"]) or "(payload)"
        parts.append(f"{loc}: {err['msg']}")
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def validate(
    decoded: Decoded, *, registry: Registry, limits: Limits, now: datetime
) -> tuple[Site, Message]:
    """The message model, then the checks one message cannot make alone: the
    registry, topic/payload agreement and the event-time window."""
    model = _MODELS[decoded.topic.kind]
    try:
        msg: Message = model.model_validate(decoded.data)
    except ValidationError as exc:
        raise Rejected(Reason.SCHEMA, _schema_error(exc)) from None
    site = registry.get(decoded.topic.site)
    if site is None:
        raise Rejected(Reason.UNKNOWN_SITE, f"site {decoded.topic.site!r} is not in the registry")
    problem = message_problem(site, decoded.topic.subject, msg, now=now, window=limits)
    if problem is not None:
        detail = problem.detail
        if problem.code == Reason.TOO_OLD:
            detail += TOO_OLD_HINT
        raise Rejected(Reason(problem.code), detail)
    return site, msg


def to_points(site: Site, msg: Message, *, received_at: datetime) -> list[Point]:
    """The storage schema is ``storage.points``: shared with the simulator's backfill."""
    if isinstance(msg, Presence):
        return [presence_point(site, msg)]
    if isinstance(msg, AgentStatus):
        return [status_point(site, msg, received_at=received_at)]
    if isinstance(msg, EntranceCounts):
        return [counts_point(site, msg)]
    return health_points(site, msg)


@dataclass(frozen=True, slots=True)
class Receipt:
    """A presence message of ``agent`` that, once its batch is durable, is
    handled for good: what the ingest confirms to that agent (``core.messages.Stored``)."""

    site: str
    agent: str
    seq: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one message: points to store, or nothing (with a reason to skip)."""

    points: list[Point]
    skipped: str | None = None
    receipt: Receipt | None = None
    #: an entrance count: whether it was flagged as a counter reset (else None)
    counts_reset: bool | None = None


def dead_receipt(raw: RawMessage, *, known: PresenceTopics) -> Receipt | None:
    """The receipt of a presence or entrance-counts message that becomes a dead
    letter, or None.

    A dead letter is handled too (its record is durable), so its agent must
    stop resending it. But only the agent the registry binds to the topic's
    space may publish there (the broker's ACL), so a receipt goes to the agent
    the payload names only when that is the bound agent: a client can never
    have another agent's outbox rows confirmed. Anything else (unknown space,
    unreadable payload) gets none; the agent resends it until its outbox
    expires it."""
    entry = known.get(raw.topic)
    binding = entry[3] if entry is not None else known.counter_of(raw.topic)
    if binding is None:
        return None
    try:
        data = json.loads(raw.payload)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    agent, seq = data.get("agent_id"), data.get("seq")
    if agent != binding[1] or type(seq) is not int or seq < 0:
        return None
    site = entry[0].id if entry is not None else known.topics.parse(raw.topic).site
    return Receipt(site, agent, seq)


class PresenceTopics:
    """Each presence topic of the registry's spaces, with its site and storage
    tags: built once, so the common message costs one dictionary lookup instead
    of parsing its topic and asking the registry (whose lookups go through
    pydantic private attributes, ~1.5 µs each)."""

    def __init__(self, registry: Registry, topics: Topics):
        self.topics = topics
        self._by_topic: dict[str, tuple[Site, str, Mapping[str, str], tuple[str, str] | None]] = {
            topics.presence(site.id, space.id): (
                site,
                space.id,
                site.space_tags(space.id),
                (space.sensor.id, space.sensor.agent) if space.sensor else None,
            )
            for site in registry
            for space in site.spaces
        }
        # entrance counts: the fast path, and the receipt of a dead letter
        self._counts: dict[str, tuple[Site, str, tuple[str, str]]] = {
            topics.counts(site.id, e.id): (site, e.id, (e.counter.id, e.counter.agent))
            for site in registry
            for e in site.entrances
            if e.counter is not None
        }

    def get(self, topic: str) -> tuple[Site, str, Mapping[str, str], tuple[str, str] | None] | None:
        return self._by_topic.get(topic)

    def counter_of(self, topic: str) -> tuple[str, str] | None:
        """(sensor, agent) bound to the entrance of a counts topic, or None."""
        entry = self._counts.get(topic)
        return entry[2] if entry is not None else None

    def counts_entry(self, topic: str) -> tuple[Site, str, tuple[str, str]] | None:
        """(site, entrance, (sensor, agent)) of a counts topic of the registry, or None."""
        return self._counts.get(topic)


def _valid_presence(
    raw: RawMessage, *, known: PresenceTopics, limits: Limits, now: datetime
) -> Outcome | None:
    """The common case in one go: a valid presence message of a known space, its
    point, or None.

    pydantic reads the JSON bytes itself (no ``dict`` in between), which halves
    the cost of decode + validate. This path only accepts; anything it does not
    accept returns None and goes the step-by-step way, which names the reason
    (the two JSON parsers agree on what is valid; both keep the last of
    repeated keys)."""
    entry = known.get(raw.topic)
    if entry is None:
        return None
    site, space, tags, binding = entry
    try:
        msg = Presence.model_validate_json(raw.payload)
    except ValidationError:
        return None
    if msg.space_id != space or (msg.sensor_id, msg.agent_id) != binding:
        return None
    t = msg.event_time
    if t > now + limits.max_future or t < now - limits.max_age:
        return None
    return Outcome(
        [presence_point(site, msg, tags=tags)], receipt=Receipt(site.id, msg.agent_id, msg.seq)
    )


def _valid_counts(
    raw: RawMessage, *, known: PresenceTopics, limits: Limits, now: datetime, rules: CountsRules
) -> Outcome | None:
    """As ``_valid_presence``, for entrance counts: accepts only, anything else
    (the rate check's rejection included) goes the step-by-step way."""
    entry = known.counts_entry(raw.topic)
    if entry is None:
        return None
    site, entrance, binding = entry
    try:
        msg = EntranceCounts.model_validate_json(raw.payload)
    except ValidationError:
        return None
    if msg.entrance_id != entrance or (msg.sensor_id, msg.agent_id) != binding:
        return None
    t = msg.event_time
    if t > now + limits.max_future or t < now - limits.max_age:
        return None
    if rate_problem(msg, max_per_minute=rules.max_per_minute) is not None:
        return None
    return _counts_outcome(site, msg, rules)


def process(
    raw: RawMessage,
    *,
    topics: Topics,
    registry: Registry,
    limits: Limits,
    now: datetime,
    known: PresenceTopics | None = None,
    counts: CountsRules | None = None,
) -> Outcome:
    """All steps for one message; raises ``Rejected`` for a dead letter.

    ``known``: the registry's presence topics (``PresenceTopics(registry,
    topics)``), for the fast path of valid presence messages; the outcome is
    the same with or without it. ``counts``: how entrance counts are judged
    (default: ``CountsRules()``)."""
    if known is not None:
        fast = _valid_presence(raw, known=known, limits=limits, now=now)
        if fast is None:
            fast = _valid_counts(
                raw, known=known, limits=limits, now=now, rules=counts or CountsRules()
            )
        if fast is not None:
            return fast
    decoded = decode(raw, topics=topics)
    site, msg = validate(decoded, registry=registry, limits=limits, now=now)
    if isinstance(msg, AgentStatus) and msg.event_time is None and raw.retain:
        # A retained Last Will replayed to a new subscription: it says the agent
        # went offline at some unknown past moment. Stamping it with the receive
        # time would invent an outage starting now, so it is counted and skipped.
        return Outcome([], skipped="retained_without_time")
    if isinstance(msg, EntranceCounts):
        return _counts_outcome(site, msg, counts or CountsRules())
    receipt = Receipt(site.id, msg.agent_id, msg.seq) if isinstance(msg, Presence) else None
    return Outcome(to_points(site, msg, received_at=raw.received_at or now), receipt=receipt)


def _counts_outcome(site: Site, msg: EntranceCounts, rules: CountsRules) -> Outcome:
    """An entrance count past the contract checks: its rate, its reset flag, its point."""
    problem = rate_problem(msg, max_per_minute=rules.max_per_minute)
    if problem is not None:
        raise Rejected(Reason.IMPLAUSIBLE_COUNT, problem)
    if rules.totals is not None:
        reset = rules.totals.check(site.id, msg, to_ns(msg.event_time))
    else:
        reset = reset_within(msg)
    return Outcome(
        [counts_point(site, msg, reset=reset)],
        receipt=Receipt(site.id, msg.agent_id, msg.seq),
        counts_reset=reset,
    )
