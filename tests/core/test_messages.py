import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from core.messages import AgentHealth, AgentStatus, Presence, PresenceKind


def presence_json(**over: object) -> bytes:
    body = {
        "schema_version": 1,
        "space_id": "f2-a-d001",
        "agent_id": "agent-f2",
        "sensor_id": "s-f2-a-d001",
        "occupied": True,
        "event_time": "2026-03-02T07:15:00Z",
        "seq": 41,
        "kind": "change",
    }
    body.update(over)
    return json.dumps(body).encode()


def test_presence_parses_and_normalises_time_to_utc() -> None:
    msg = Presence.model_validate_json(presence_json(event_time="2026-03-02T09:15:00+02:00"))
    assert msg.event_time == datetime(2026, 3, 2, 7, 15, tzinfo=UTC)
    assert msg.kind is PresenceKind.CHANGE
    assert msg.people_count is None


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"event_time": "2026-03-02T07:15:00"}, "event_time"),  # naive
        ({"seq": -1}, "seq"),
        ({"kind": "sometimes"}, "kind"),
        ({"schema_version": 2}, "schema_version"),
        ({"people_count": -3}, "people_count"),
        ({"space_id": "a/b"}, "space_id"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_presence_rejects_bad_fields(override: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        Presence.model_validate_json(presence_json(**override))
    assert field in {str(e["loc"][0]) for e in err.value.errors()}


def test_presence_requires_its_fields() -> None:
    with pytest.raises(ValidationError) as err:
        Presence.model_validate_json(b'{"occupied": true}')
    missing = {e["loc"][0] for e in err.value.errors() if e["type"] == "missing"}
    assert missing == {"space_id", "agent_id", "sensor_id", "event_time", "seq", "kind"}


def test_status_will_has_no_time_and_health_carries_sensors() -> None:
    will = AgentStatus.model_validate_json(b'{"agent_id": "agent-f2", "state": "offline"}')
    assert will.event_time is None
    health = AgentHealth.model_validate(
        {
            "agent_id": "agent-f2",
            "event_time": "2026-03-02T07:15:00Z",
            "version": "0.1.0",
            "uptime_s": 12.5,
            "outbox_depth": 0,
            "sensors": [{"sensor_id": "s1", "space_id": "d1", "battery_pct": 81}],
        }
    )
    assert health.sensors[0].battery_pct == 81
