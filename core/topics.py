"""The one place MQTT topics are built and parsed (contract v1).

{prefix}/{site}/spaces/{space_id}/presence
{prefix}/{site}/entrances/{entrance_id}/counts   (people counters, in/out per interval)
{prefix}/{site}/agents/{agent_id}/status     (retained; online/offline, LWT)
{prefix}/{site}/agents/{agent_id}/health
{prefix}/{site}/agents/{agent_id}/stored     (ingest -> agent: seqs made durable)

Agents publish the first three and the ingest subscribes to them
(``subscriptions``); ``stored`` goes the other way: the ingest publishes it and
only the agent named in it reads it (docs/edge.md, "End-to-end confirmation").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator

from core.ids import is_valid_id

DEFAULT_PREFIX = "occupancy/v1"


class TopicKind(StrEnum):
    PRESENCE = "presence"
    COUNTS = "counts"
    STATUS = "status"
    HEALTH = "health"
    STORED = "stored"


class TopicError(ValueError):
    """A topic that is not part of the contract."""


@dataclass(frozen=True, slots=True)
class ParsedTopic:
    kind: TopicKind
    site: str
    # space id for presence, entrance id for counts, agent id for status,
    # health and stored
    subject: str


def _check_prefix(prefix: str) -> str:
    prefix = prefix.strip("/")
    if not prefix or any(ch in prefix for ch in "+#"):
        raise ValueError(f"invalid topic prefix {prefix!r}")
    return prefix


@dataclass(frozen=True, slots=True)
class Topics:
    prefix: str = DEFAULT_PREFIX

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefix", _check_prefix(self.prefix))

    def presence(self, site: str, space_id: str) -> str:
        return f"{self.prefix}/{_seg(site)}/spaces/{_seg(space_id)}/presence"

    def counts(self, site: str, entrance_id: str) -> str:
        return f"{self.prefix}/{_seg(site)}/entrances/{_seg(entrance_id)}/counts"

    def status(self, site: str, agent_id: str) -> str:
        return f"{self.prefix}/{_seg(site)}/agents/{_seg(agent_id)}/status"

    def health(self, site: str, agent_id: str) -> str:
        return f"{self.prefix}/{_seg(site)}/agents/{_seg(agent_id)}/health"

    def stored(self, site: str, agent_id: str) -> str:
        return f"{self.prefix}/{_seg(site)}/agents/{_seg(agent_id)}/stored"

    def stored_filter(self) -> str:
        """Every agent's ``stored`` topic, on every site (the ingest's write grant)."""
        return f"{self.prefix}/+/agents/+/stored"

    def subscriptions(self, site: str = "+") -> list[str]:
        """Topic filters covering every message agents publish (for one site or all)."""
        return [
            f"{self.prefix}/{site}/spaces/+/presence",
            f"{self.prefix}/{site}/agents/+/status",
            f"{self.prefix}/{site}/agents/+/health",
            f"{self.prefix}/{site}/entrances/+/counts",
        ]

    def parse(self, topic: str) -> ParsedTopic:
        head = self.prefix + "/"
        if not topic.startswith(head):
            raise TopicError(f"topic {topic!r} is outside prefix {self.prefix!r}")
        parts = topic[len(head) :].split("/")
        if len(parts) != 4:
            raise TopicError(f"topic {topic!r} does not have the form site/kind/id/leaf")
        site, group, subject, leaf = parts
        if not (is_valid_id(site) and is_valid_id(subject)):
            raise TopicError(f"topic {topic!r} has an invalid id")
        if group == "spaces" and leaf == "presence":
            return ParsedTopic(TopicKind.PRESENCE, site, subject)
        if group == "entrances" and leaf == "counts":
            return ParsedTopic(TopicKind.COUNTS, site, subject)
        if group == "agents" and leaf in ("status", "health", "stored"):
            return ParsedTopic(TopicKind(leaf), site, subject)
        raise TopicError(
            f"topic {topic!r} is not a presence, counts, status, health or stored topic"
        )


def _seg(value: str) -> str:
    if not is_valid_id(value):
        raise ValueError(f"{value!r} is not a valid id for a topic level")
    return value


#: A settings field holding a topic prefix, normalised as ``Topics`` does.
TopicPrefix = Annotated[str, AfterValidator(lambda value: Topics(value).prefix)]
