"""The named steps fed bytes directly (no broker): every outcome hand-worked."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.messages import RawMessage
from core.registry import Registry, load_registry
from core.topics import Topics
from ingest.pipeline import Limits, Outcome, PresenceTopics, Reason, Rejected, process
from tests.conftest import EXAMPLE_SITES
from tests.ingest.messages import presence_payload, presence_topic

NOW = datetime(2026, 1, 5, 8, 1, tzinfo=UTC)
EVENT = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
EVENT_NS = 1_767_600_000 * 1_000_000_000  # 2026-01-05T08:00:00Z, worked out by hand
SPACE = "f1-palvelu-01"  # zone f1-asiakas on floor f1, a service point, agent-f1


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry(EXAMPLE_SITES)


_KNOWN: dict[int, PresenceTopics] = {}


def run(
    registry: Registry, topic: str, payload: bytes, *, retain: bool = False, fast: bool = True
) -> Outcome:
    """As the service runs it: with the fast path for valid presence messages."""
    raw = RawMessage(topic=topic, payload=payload, qos=1, retain=retain, received_at=NOW)
    known = _KNOWN.setdefault(id(registry), PresenceTopics(registry, Topics())) if fast else None
    return process(raw, topics=Topics(), registry=registry, limits=Limits(), now=NOW, known=known)


def outcome(registry: Registry, topic: str, payload: bytes, *, fast: bool) -> object:
    try:
        return run(registry, topic, payload, fast=fast).points
    except Rejected as exc:
        return (exc.reason, exc.detail)


def reason(registry: Registry, topic: str, payload: bytes) -> Reason:
    with pytest.raises(Rejected) as info:
        run(registry, topic, payload)
    return info.value.reason


def test_presence_becomes_one_point(registry: Registry) -> None:
    out = run(
        registry, presence_topic(SPACE), presence_payload(SPACE, EVENT, seq=7, people_count=2)
    )
    assert len(out.points) == 1
    p = out.points[0]
    assert p.measurement == "presence"
    assert dict(p.tags) == {
        "site": "virastotalo",
        "floor": "f1",
        "zone": "f1-asiakas",
        "space": SPACE,
        "space_type": "service_point",
    }
    assert dict(p.fields) == {
        "occupied": 1,
        "seq": 7,
        "sensor": "s-f1-palvelu-01",
        "agent": "agent-f1",
        "kind": "change",
        "count": 2,
        "hb": 300.0,  # the site's heartbeat, as the payload gives none
    }
    assert p.time_ns == EVENT_NS


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b'{"space_id": ', Reason.INVALID_JSON),
        (b"\xff\xfe\x00garbage", Reason.INVALID_JSON),
        (b"", Reason.INVALID_JSON),
        (b"[1, 2, 3]", Reason.SCHEMA),
        (b'"just a string"', Reason.SCHEMA),
        (b"{}", Reason.SCHEMA),
        (b"[" * 100_000, Reason.INVALID_JSON),
    ],
)
def test_undecodable_payloads(registry: Registry, payload: bytes, expected: Reason) -> None:
    assert reason(registry, presence_topic(SPACE), payload) is expected


def test_schema_violations(registry: Registry) -> None:
    good = json.loads(presence_payload(SPACE, EVENT))
    for key, value in [
        ("occupied", "maybe"),
        ("seq", -1),
        ("kind", "sometimes"),
        ("event_time", "2026-01-05T08:00:00"),  # naive: no time zone
        ("people_count", 10_001),
        ("unexpected_key", 1),
        ("schema_version", 2),
    ]:
        body = {**good, key: value}
        assert reason(registry, presence_topic(SPACE), json.dumps(body).encode()) is Reason.SCHEMA


def test_registry_and_topic_checks(registry: Registry) -> None:
    payload = presence_payload(SPACE, EVENT)
    assert reason(registry, presence_topic(SPACE, "no-such-site"), payload) is Reason.UNKNOWN_SITE
    assert (
        reason(registry, presence_topic("f9-nowhere"), presence_payload("f9-nowhere", EVENT))
        is Reason.UNKNOWN_SPACE
    )
    assert reason(registry, presence_topic("f1-palvelu-02"), payload) is Reason.TOPIC_MISMATCH
    assert reason(registry, "occupancy/v1/virastotalo/spaces", payload) is Reason.BAD_TOPIC
    assert reason(registry, "other/prefix/virastotalo/spaces/x/presence", payload) is (
        Reason.BAD_TOPIC
    )


def test_event_time_window(registry: Registry) -> None:
    topic = presence_topic(SPACE)
    # exactly 5 minutes ahead is still accepted; one second more is not
    assert run(registry, topic, presence_payload(SPACE, NOW + timedelta(minutes=5))).points
    assert (
        reason(registry, topic, presence_payload(SPACE, NOW + timedelta(minutes=5, seconds=1)))
        is Reason.FUTURE_TIME
    )
    assert run(registry, topic, presence_payload(SPACE, NOW - timedelta(days=29))).points
    assert (
        reason(registry, topic, presence_payload(SPACE, NOW - timedelta(days=31))) is Reason.TOO_OLD
    )
    short = Limits(max_age=timedelta(hours=1))
    raw = RawMessage(topic, presence_payload(SPACE, NOW - timedelta(hours=2)), received_at=NOW)
    with pytest.raises(Rejected) as info:
        process(raw, topics=Topics(), registry=registry, limits=short, now=NOW)
    assert info.value.reason is Reason.TOO_OLD


def test_status_and_last_will(registry: Registry) -> None:
    topic = "occupancy/v1/virastotalo/agents/agent-f2/status"
    online = json.dumps(
        {"agent_id": "agent-f2", "state": "online", "event_time": "2026-01-05T08:00:00Z"}
    ).encode()
    (p,) = run(registry, topic, online).points
    assert (p.measurement, dict(p.tags), dict(p.fields), p.time_ns) == (
        "agent_status",
        {"site": "virastotalo", "agent": "agent-f2"},
        {"online": 1},
        EVENT_NS,
    )
    will = b'{"agent_id": "agent-f2", "state": "offline"}'
    (p,) = run(registry, topic, will).points  # live Last Will: stamped on receipt
    assert (dict(p.fields), p.time_ns) == ({"online": 0}, EVENT_NS + 60 * 1_000_000_000)
    replayed = run(registry, topic, will, retain=True)  # retained replay: time unknown
    assert replayed.points == [] and replayed.skipped == "retained_without_time"
    assert (
        reason(
            registry, "occupancy/v1/virastotalo/agents/agent-f9/status", will.replace(b"f2", b"f9")
        )
        is Reason.UNKNOWN_AGENT
    )
    assert reason(registry, topic, will.replace(b"f2", b"f3")) is Reason.TOPIC_MISMATCH


def test_health_gives_agent_and_sensor_points(registry: Registry) -> None:
    topic = "occupancy/v1/virastotalo/agents/agent-f1/health"
    body = {
        "agent_id": "agent-f1",
        "event_time": "2026-01-05T08:00:00Z",
        "version": "1.0",
        "uptime_s": 12,
        "outbox_depth": 0,
        "sensors": [
            {"sensor_id": "s-f1-palvelu-01", "space_id": SPACE, "battery_pct": 80},
            {"sensor_id": "s-f1-palvelu-02", "space_id": "f1-palvelu-02", "ok": False},
        ],
    }
    points = run(registry, topic, json.dumps(body).encode()).points
    assert [p.measurement for p in points] == ["agent_health", "sensor_health", "sensor_health"]
    assert dict(points[1].fields) == {"ok": 1, "battery_pct": 80.0}
    assert dict(points[2].fields) == {"ok": 0}
    body["sensors"][1]["space_id"] = "f9-nowhere"  # type: ignore[index]
    assert reason(registry, topic, json.dumps(body).encode()) is Reason.UNKNOWN_SPACE


@settings(max_examples=300, deadline=None)
@given(payload=st.binary(max_size=300))
def test_any_bytes_are_stored_or_rejected(registry: Registry, payload: bytes) -> None:
    try:
        run(registry, presence_topic(SPACE), payload)
    except Rejected as exc:
        assert exc.reason in Reason


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    key=st.sampled_from(["space_id", "occupied", "seq", "event_time", "kind", "people_count"]),
    value=_json,
)
def test_any_field_value_is_stored_or_rejected(registry: Registry, key: str, value: object) -> None:
    body = {**json.loads(presence_payload(SPACE, EVENT)), key: value}
    try:
        out = run(registry, presence_topic(SPACE), json.dumps(body).encode())
    except Rejected as exc:
        assert exc.reason in Reason
    else:
        assert len(out.points) == 1


@settings(max_examples=300, deadline=None)
@given(
    key=st.sampled_from(
        ["space_id", "occupied", "seq", "event_time", "kind", "people_count", "extra"]
    ),
    value=_json,
    cut=st.integers(min_value=0, max_value=400),
)
def test_fast_path_agrees_with_the_named_steps(
    registry: Registry, key: str, value: object, cut: int
) -> None:
    # Valid, invalid and truncated payloads: the fast path (pydantic reads the
    # bytes) must give the very points, or the very rejection, of the steps.
    body = json.dumps({**json.loads(presence_payload(SPACE, EVENT)), key: value}).encode()
    for payload in (body, body[:cut], presence_payload(SPACE, EVENT, seq=cut)):
        for topic in (presence_topic(SPACE), presence_topic("f9-nowhere")):
            fast = outcome(registry, topic, payload, fast=True)
            assert fast == outcome(registry, topic, payload, fast=False)


def test_presence_must_come_from_the_bound_sensor_and_agent(registry: Registry) -> None:
    """Issue 20 item 4: the registry binds f1-palvelu-01 to sensor
    s-f1-palvelu-01 of agent-f1; any other pair is an identity mismatch."""
    topic = presence_topic(SPACE)
    assert run(registry, topic, presence_payload(SPACE, EVENT)).points
    for agent, sensor in [
        ("agent-f2", "s-f1-palvelu-01"),  # another (real) agent
        ("ghost-0001", "s-f1-palvelu-01"),  # a made-up agent
        ("agent-f1", "s-f1-palvelu-02"),  # the agent's sensor of another space
    ]:
        payload = presence_payload(SPACE, EVENT, agent=agent, sensor=sensor)
        with pytest.raises(Rejected) as exc:
            run(registry, topic, payload)
        assert exc.value.reason is Reason.IDENTITY_MISMATCH
        assert exc.value.reason.value == "identity_mismatch"
        assert f"not sensor {sensor!r} of agent {agent!r}" in exc.value.detail


def test_health_about_another_agents_sensors_is_refused(registry: Registry) -> None:
    other = next(s for s in registry.site("virastotalo").spaces_of_agent("agent-f2"))
    assert other.sensor is not None
    body = {
        "agent_id": "agent-f1",
        "event_time": "2026-01-05T08:00:00Z",
        "version": "1.0",
        "uptime_s": 12,
        "outbox_depth": 0,
        "sensors": [{"sensor_id": other.sensor.id, "space_id": other.id, "battery_pct": 3}],
    }
    topic = "occupancy/v1/virastotalo/agents/agent-f1/health"
    with pytest.raises(Rejected) as exc:
        run(registry, topic, json.dumps(body).encode())
    assert exc.value.reason is Reason.IDENTITY_MISMATCH


@pytest.mark.parametrize("fast", [True, False])
def test_too_old_names_the_setting_and_the_import_command(registry: Registry, fast: bool) -> None:
    old = NOW - timedelta(days=31)
    payload = presence_payload(SPACE, old)
    got = outcome(registry, presence_topic(SPACE), payload, fast=fast)
    assert isinstance(got, tuple)
    code, detail = got
    assert code is Reason.TOO_OLD
    assert "OCCUPANCY_INGEST_MAX_AGE_S" in detail and "--max-age-s" in detail
    assert "occupancy import" in detail
    # the variable named is the one the ingest's settings read
    from ingest.config import IngestSettings

    assert (
        IngestSettings.model_config["env_prefix"] + "max_age_s"
    ).upper() == "OCCUPANCY_INGEST_" + "MAX_AGE_S"
