"""What the ingest confirms to whom (no broker): receipts of stored and
dead-lettered presence messages, and the ``stored`` messages made of them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from core.messages import MAX_STORED_RANGES, RawMessage, Stored
from core.registry import Registry, load_registry
from core.topics import Topics
from ingest.confirm import stored_messages
from ingest.pipeline import Limits, PresenceTopics, Receipt, Rejected, dead_receipt, process
from tests.conftest import EXAMPLE_SITES
from tests.ingest.messages import presence_payload, presence_topic

NOW = datetime(2026, 1, 5, 8, 1, tzinfo=UTC)
EVENT = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
SPACE = "f1-palvelu-01"  # bound to agent-f1 in the example registry
OTHER = "f2-a-d001"  # bound to agent-f2


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry(EXAMPLE_SITES)


def raw(topic: str, payload: bytes) -> RawMessage:
    return RawMessage(topic=topic, payload=payload, qos=1, received_at=NOW)


@pytest.mark.parametrize("fast", [True, False])
def test_a_stored_presence_message_is_receipted_to_its_agent(
    registry: Registry, fast: bool
) -> None:
    known = PresenceTopics(registry, Topics()) if fast else None
    out = process(
        raw(presence_topic(SPACE), presence_payload(SPACE, EVENT, seq=41)),
        topics=Topics(), registry=registry, limits=Limits(), now=NOW, known=known,
    )  # fmt: skip
    assert out.receipt == Receipt("virastotalo", "agent-f1", 41)


def test_a_dead_letter_is_receipted_only_to_the_agent_bound_to_the_space(
    registry: Registry,
) -> None:
    known = PresenceTopics(registry, Topics())
    too_old = presence_payload(SPACE, datetime(2025, 1, 1, tzinfo=UTC), seq=9)
    with pytest.raises(Rejected):
        process(raw(presence_topic(SPACE), too_old), topics=Topics(), registry=registry,
                limits=Limits(), now=NOW, known=known)  # fmt: skip
    # handled (its dead letter is durable): agent-f1 may stop sending it
    assert dead_receipt(raw(presence_topic(SPACE), too_old), known=known) == Receipt(
        "virastotalo", "agent-f1", 9
    )
    # agent-f1 naming agent-f2 on its own space must not confirm agent-f2's row 9
    forged = presence_payload(SPACE, EVENT, seq=9, agent="agent-f2", sensor="s-f2-a-d001")
    assert dead_receipt(raw(presence_topic(SPACE), forged), known=known) is None
    # nor may anyone speak for agent-f1 on another agent's space
    on_other = presence_payload(OTHER, EVENT, seq=9, agent="agent-f1")
    assert dead_receipt(raw(presence_topic(OTHER), on_other), known=known) is None
    for payload in (b"{", b"[]", json.dumps({"agent_id": "agent-f1", "seq": "9"}).encode(),
                    json.dumps({"agent_id": "agent-f1", "seq": -1}).encode(),
                    json.dumps({"agent_id": "agent-f1", "seq": True}).encode()):  # fmt: skip
        assert dead_receipt(raw(presence_topic(SPACE), payload), known=known) is None
    # a space the registry does not know: nobody can be told
    unknown = presence_payload("f9-nowhere", EVENT, seq=9, agent="agent-f1")
    assert dead_receipt(raw(presence_topic("f9-nowhere"), unknown), known=known) is None


def test_the_ingest_refuses_its_own_confirmation_topic_as_input(registry: Registry) -> None:
    topic = Topics().stored("virastotalo", "agent-f1")
    with pytest.raises(Rejected) as info:
        process(raw(topic, b"{}"), topics=Topics(), registry=registry, limits=Limits(), now=NOW)
    assert info.value.reason.value == "bad_topic"


def test_one_stored_message_per_agent_split_past_the_range_cap() -> None:
    receipts = [Receipt("virastotalo", "agent-f1", s) for s in (5, 3, 4, 9, 4)]
    receipts.append(Receipt("virastotalo", "agent-f2", 1))
    # a replica that got every other message of a fast agent: 2,500 single ranges
    receipts += [Receipt("virastotalo", "agent-f3", 2 * i) for i in range(2500)]
    out = stored_messages(receipts, topics=Topics(), replica="ingest-2", now=NOW)
    assert [t for t, _ in out] == [
        "occupancy/v1/virastotalo/agents/agent-f1/stored",
        "occupancy/v1/virastotalo/agents/agent-f2/stored",
    ] + ["occupancy/v1/virastotalo/agents/agent-f3/stored"] * 3
    msgs = [Stored.model_validate_json(p) for _, p in out]
    assert msgs[0].seqs == [(3, 5), (9, 9)] and msgs[1].seqs == [(1, 1)]
    assert [len(m.seqs) for m in msgs[2:]] == [MAX_STORED_RANGES, MAX_STORED_RANGES, 500]
    covered = {s for m in msgs[2:] for a, b in m.seqs for s in range(a, b + 1)}
    assert covered == set(range(0, 5000, 2))
    assert {m.replica for m in msgs} == {"ingest-2"} and msgs[0].event_time == NOW


def test_pending_publishes_at_once_when_idle_else_once_a_second() -> None:
    from ingest.confirm import Pending

    t = [100.0]
    pending = Pending(topics=Topics(), replica="i1", clock=lambda: NOW, monotonic=lambda: t[0])
    assert pending.take(idle=True) == (0, [])
    pending.add([Receipt("virastotalo", "agent-f1", 1)])
    n, msgs = pending.take(idle=True)  # light traffic: the batch's own message at once
    assert n == 1 and [Stored.model_validate_json(p).seqs for _, p in msgs] == [[(1, 1)]]
    # a backlog: more batches wait, so their receipts are gathered...
    pending.add([Receipt("virastotalo", "agent-f1", 2)])
    t[0] += 0.6
    pending.add([Receipt("virastotalo", "agent-f1", 3), Receipt("virastotalo", "agent-f2", 7)])
    assert pending.take(idle=False) == (0, [])
    t[0] += 0.4  # ...until the oldest has waited a second: one message per agent
    n, msgs = pending.take(idle=False)
    assert n == 3
    assert [Stored.model_validate_json(p).seqs for _, p in msgs] == [[(2, 3)], [(7, 7)]]
    assert pending.take(idle=True) == (0, [])
