"""The ``stored`` confirmation of the contract: its ranges, topic and model."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from core.messages import MAX_STORED_RANGES, Stored, seq_ranges
from core.topics import TopicKind, Topics

AT = "2026-01-05T08:00:00Z"


@pytest.mark.parametrize(
    ("seqs", "ranges"),
    [
        ([], []),
        ([4], [(4, 4)]),
        ([3, 1, 2], [(1, 3)]),
        ([1, 2, 2, 4, 5, 9], [(1, 2), (4, 5), (9, 9)]),
        (range(0, 10, 2), [(0, 0), (2, 2), (4, 4), (6, 6), (8, 8)]),  # a replica's alternate
    ],
)
def test_seq_ranges_cover_exactly_the_seqs(seqs: list[int], ranges: list[tuple[int, int]]) -> None:
    assert seq_ranges(seqs) == ranges


def test_topic_is_the_agents_own_and_parses() -> None:
    t = Topics()
    topic = t.stored("virastotalo", "agent-f1")
    assert topic == "occupancy/v1/virastotalo/agents/agent-f1/stored"
    parsed = t.parse(topic)
    assert (parsed.kind, parsed.site, parsed.subject) == (
        TopicKind.STORED,
        "virastotalo",
        "agent-f1",
    )
    assert t.stored_filter() == "occupancy/v1/+/agents/+/stored"
    # what agents publish, and so what the ingest subscribes to, stays without it
    assert not any(f.endswith("/stored") for f in t.subscriptions())


def body(**over: object) -> bytes:
    data = {"agent_id": "agent-f1", "replica": "ingest-1", "seqs": [[1, 3], [5, 5]]}
    data["event_time"] = AT
    data.update(over)
    return json.dumps(data).encode()


def test_a_stored_message_round_trips() -> None:
    msg = Stored.model_validate_json(body())
    assert msg.seqs == [(1, 3), (5, 5)] and msg.replica == "ingest-1"
    assert Stored.model_validate_json(msg.model_dump_json()) == msg


@pytest.mark.parametrize(
    "seqs",
    [
        [],  # says nothing
        [[3, 1]],  # backwards
        [[1, 3], [3, 4]],  # overlapping
        [[5, 6], [1, 2]],  # not ascending
        [[-1, 2]],
        [[1, 2, 3]],
        [["1", "2"]],  # strict integers, as the schema says
        [[1.0, 2.0]],
        [[i * 2, i * 2] for i in range(MAX_STORED_RANGES + 1)],  # over the cap
    ],
)
def test_malformed_ranges_are_refused(seqs: list[object]) -> None:
    with pytest.raises(ValidationError):
        Stored.model_validate_json(body(seqs=seqs))


def test_the_largest_stored_message_fits_the_brokers_payload_cap() -> None:
    big = 10**16  # more digits than a clock-started seq (microseconds) has until 2286
    seqs = [(big + 3 * i, big + 3 * i + 1) for i in range(MAX_STORED_RANGES)]
    msg = Stored(agent_id="a" * 64, replica="r" * 64, seqs=seqs, event_time=AT)  # type: ignore[arg-type]
    assert len(msg.model_dump_json()) < 64 * 1024
