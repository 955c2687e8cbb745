"""The models refuse exactly what the published schema refuses for booleans and
integers (issue 20: ``"occupied": "yes"`` and ``"seq": "12"`` were stored)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from core.messages import AgentHealth, Presence

CONTRACT_DIR = Path(__file__).resolve().parents[2] / "docs" / "contract"

PRESENCE: dict[str, Any] = {
    "schema_version": 1,
    "space_id": "d1",
    "agent_id": "a1",
    "sensor_id": "s1",
    "occupied": True,
    "people_count": 1,
    "event_time": "2026-01-05T08:00:00Z",
    "seq": 3,
    "kind": "change",
}
HEALTH: dict[str, Any] = {
    "schema_version": 1,
    "agent_id": "a1",
    "event_time": "2026-01-05T08:00:00Z",
    "version": "1",
    "uptime_s": 5,
    "outbox_depth": 0,
    "outbox_dropped": 0,
    "sensors": [{"sensor_id": "s1", "space_id": "d1", "ok": True}],
}

WRONG = [
    ("occupied", "yes"),
    ("occupied", "true"),
    ("occupied", 1),
    ("seq", "12"),
    ("seq", 12.5),
    ("seq", True),
    ("people_count", "2"),
]


@pytest.mark.parametrize(("field", "value"), WRONG)
def test_presence_refuses_what_its_schema_refuses(field: str, value: object) -> None:
    schema = json.loads((CONTRACT_DIR / "presence.v1.schema.json").read_text())
    bad = dict(PRESENCE, **{field: value})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    with pytest.raises(ValidationError):
        Presence.model_validate(bad)  # the ingest's path (decoded JSON)
    with pytest.raises(ValidationError):
        Presence.model_validate_json(json.dumps(bad))  # the live feed's path


@pytest.mark.parametrize(
    "patch",
    [
        {"outbox_depth": "3"},
        {"outbox_dropped": "0"},
        {"sensors": [{"sensor_id": "s1", "space_id": "d1", "ok": "yes"}]},
    ],
)
def test_health_refuses_what_its_schema_refuses(patch: dict[str, Any]) -> None:
    schema = json.loads((CONTRACT_DIR / "agent_health.v1.schema.json").read_text())
    bad = dict(HEALTH, **patch)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    with pytest.raises(ValidationError):
        AgentHealth.model_validate(bad)


def test_valid_messages_still_pass_both() -> None:
    for model, body, name in [
        (Presence, PRESENCE, "presence"),
        (AgentHealth, HEALTH, "agent_health"),
    ]:
        jsonschema.validate(body, json.loads((CONTRACT_DIR / f"{name}.v1.schema.json").read_text()))
        model.model_validate(body)
        model.model_validate_json(json.dumps(body))
