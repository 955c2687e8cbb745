"""The published JSON Schemas (docs/contract/) must match the models."""

import json
from pathlib import Path

import jsonschema

from core.contract import schemas

CONTRACT_DIR = Path(__file__).resolve().parents[2] / "docs" / "contract"


def test_published_schemas_match_models() -> None:
    expected = schemas()
    on_disk = {p.name for p in CONTRACT_DIR.glob("*.schema.json")}
    assert on_disk == set(expected), "run `occupancy site contract` to re-export"
    for name, text in expected.items():
        assert (CONTRACT_DIR / name).read_text(encoding="utf-8") == text, (
            f"{name} drifted from the model; run `occupancy site contract`"
        )


def test_schema_accepts_a_valid_message_and_rejects_an_invalid_one() -> None:
    schema = json.loads((CONTRACT_DIR / "presence.v1.schema.json").read_text())
    good = {
        "schema_version": 1,
        "space_id": "d1",
        "agent_id": "a1",
        "sensor_id": "s1",
        "occupied": False,
        "event_time": "2026-01-05T08:00:00Z",
        "seq": 0,
        "kind": "heartbeat",
    }
    jsonschema.validate(good, schema)
    bad = dict(good, kind="often")
    try:
        jsonschema.validate(bad, schema)
    except jsonschema.ValidationError:
        pass
    else:
        raise AssertionError("schema accepted an invalid kind")
