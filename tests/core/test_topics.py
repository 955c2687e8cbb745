import pytest

from core.topics import TopicError, TopicKind, Topics


def test_build_and_parse_round_trip() -> None:
    t = Topics("occupancy/v1")
    topic = t.presence("virastotalo", "f2-a-d001")
    assert topic == "occupancy/v1/virastotalo/spaces/f2-a-d001/presence"
    parsed = t.parse(topic)
    assert (parsed.kind, parsed.site, parsed.subject) == (
        TopicKind.PRESENCE,
        "virastotalo",
        "f2-a-d001",
    )
    assert t.parse(t.status("s1", "agent-1")).kind is TopicKind.STATUS
    assert t.parse(t.health("s1", "agent-1")).kind is TopicKind.HEALTH


def test_custom_prefix_and_subscriptions() -> None:
    t = Topics("/acme/occ/")
    assert t.prefix == "acme/occ"
    assert t.subscriptions() == [
        "acme/occ/+/spaces/+/presence",
        "acme/occ/+/agents/+/status",
        "acme/occ/+/agents/+/health",
        "acme/occ/+/entrances/+/counts",
    ]


@pytest.mark.parametrize(
    "topic",
    [
        "other/v1/s/spaces/x/presence",
        "occupancy/v1/s/spaces/x",
        "occupancy/v1/s/spaces/x/status",
        "occupancy/v1/s/rooms/x/presence",
        "occupancy/v1/s/spaces/x/presence/extra",
        "occupancy/v1/s/spaces/bad id/presence",
        "occupancy/v1/s/agents//status",
    ],
)
def test_parse_rejects_foreign_topics(topic: str) -> None:
    with pytest.raises(TopicError):
        Topics().parse(topic)


@pytest.mark.parametrize("bad", ["a/b", "+", "#", "", "with space"])
def test_builder_refuses_ids_that_would_break_topics(bad: str) -> None:
    with pytest.raises(ValueError):
        Topics().presence("site", bad)
