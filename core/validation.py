"""The contract's checks beyond one message's schema, shared by every consumer.

The ingest (before storing) and the API's live feed (before showing) apply the
same rules, so the live view can show nothing the store would refuse: the
topic and payload agree, the site registry knows the space or agent, the
sensor and agent match the registry's binding of that space, and the event
time lies inside the window (not ahead of the receiver's clock by more than
``max_future``, not older than ``max_age``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.messages import AgentHealth, AgentStatus, EntranceCounts, Presence
from core.registry import Site


@dataclass(frozen=True, slots=True)
class Window:
    """The accepted event times, relative to the receiver's clock."""

    max_future: timedelta = timedelta(minutes=5)
    max_age: timedelta = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a message breaks the contract: ``code`` is the dead-letter reason."""

    code: str
    detail: str


def time_problem(event_time: datetime | None, *, now: datetime, window: Window) -> Problem | None:
    if event_time is None:
        return None
    if event_time > now + window.max_future:
        return Problem(
            "future_time",
            f"event_time {event_time.isoformat()} is more than "
            f"{window.max_future} ahead of {now.isoformat()}",
        )
    if event_time < now - window.max_age:
        return Problem(
            "too_old", f"event_time {event_time.isoformat()} is older than {window.max_age}"
        )
    return None


def presence_identity(site: Site, msg: Presence) -> Problem | None:
    """The sensor and agent of a presence message must be the space's binding:
    otherwise anyone could speak for a space (or invent agents)."""
    binding = site.space(msg.space_id).sensor
    if binding is None:
        return Problem("identity_mismatch", f"space {msg.space_id!r} has no sensor bound")
    if (msg.sensor_id, msg.agent_id) != (binding.id, binding.agent):
        return Problem(
            "identity_mismatch",
            f"space {msg.space_id!r} is bound to sensor {binding.id!r} of agent "
            f"{binding.agent!r}, not sensor {msg.sensor_id!r} of agent {msg.agent_id!r}",
        )
    return None


def health_identity(site: Site, msg: AgentHealth) -> Problem | None:
    """An agent reports the health of its own sensors only."""
    for s in msg.sensors:
        if not site.has_space(s.space_id):
            return Problem(
                "unknown_space",
                f"sensor {s.sensor_id!r} reports space {s.space_id!r}, not in site {site.id!r}",
            )
        binding = site.space(s.space_id).sensor
        if binding is None or (binding.id, binding.agent) != (s.sensor_id, msg.agent_id):
            return Problem(
                "identity_mismatch",
                f"agent {msg.agent_id!r} reports sensor {s.sensor_id!r} of space "
                f"{s.space_id!r}, which is not bound to it",
            )
    return None


def counts_problem(site: Site, subject: str, msg: EntranceCounts) -> Problem | None:
    """An entrance count must name its topic's entrance, one the registry knows,
    and come from the counter (sensor and agent) bound to it."""
    if msg.entrance_id != subject:
        return Problem(
            "topic_mismatch",
            f"payload entrance_id {msg.entrance_id!r} differs from topic entrance {subject!r}",
        )
    if not site.has_entrance(subject):
        return Problem("unknown_entrance", f"entrance {subject!r} is not in site {site.id!r}")
    counter = site.entrance(subject).counter
    if counter is None:
        return Problem("identity_mismatch", f"entrance {subject!r} has no counter bound")
    if (msg.sensor_id, msg.agent_id) != (counter.id, counter.agent):
        return Problem(
            "identity_mismatch",
            f"entrance {subject!r} is bound to counter {counter.id!r} of agent "
            f"{counter.agent!r}, not sensor {msg.sensor_id!r} of agent {msg.agent_id!r}",
        )
    return None


def counter_agents(site: Site) -> set[str]:
    """Agents that read an entrance's people counter (they may have no space)."""
    return {e.counter.agent for e in site.entrances if e.counter is not None}


def message_problem(
    site: Site,
    subject: str,
    msg: Presence | AgentStatus | AgentHealth | EntranceCounts,
    *,
    now: datetime,
    window: Window,
) -> Problem | None:
    """Every registry, identity and time check of one schema-valid message whose
    topic names ``site`` and ``subject`` (a space id or an agent id)."""
    if isinstance(msg, Presence):
        if msg.space_id != subject:
            return Problem(
                "topic_mismatch",
                f"payload space_id {msg.space_id!r} differs from topic space {subject!r}",
            )
        if not site.has_space(subject):
            return Problem("unknown_space", f"space {subject!r} is not in site {site.id!r}")
        problem = presence_identity(site, msg)
    elif isinstance(msg, EntranceCounts):
        problem = counts_problem(site, subject, msg)
    else:
        if msg.agent_id != subject:
            return Problem(
                "topic_mismatch",
                f"payload agent_id {msg.agent_id!r} differs from topic agent {subject!r}",
            )
        # Status and health are rare (per agent, per minute), so walking the
        # site's sensor bindings each time costs nothing worth caching.
        if subject not in site.agents() and subject not in counter_agents(site):
            return Problem(
                "unknown_agent", f"agent {subject!r} has no sensor bound in site {site.id!r}"
            )
        problem = health_identity(site, msg) if isinstance(msg, AgentHealth) else None
    return problem or time_problem(msg.event_time, now=now, window=window)
