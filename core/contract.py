"""Export the JSON Schema of every message model (``docs/contract/``)."""

from __future__ import annotations

import json
from pathlib import Path

from core.messages import MESSAGE_MODELS, SCHEMA_VERSION


def schemas() -> dict[str, str]:
    """File name -> deterministic JSON text of that message's schema."""
    out: dict[str, str] = {}
    for name, model in MESSAGE_MODELS.items():
        schema = model.model_json_schema()
        schema["$id"] = f"urn:occupancy:contract:v{SCHEMA_VERSION}:{name}"
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        out[f"{name}.v{SCHEMA_VERSION}.schema.json"] = (
            json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        )
    return out


def export(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, text in schemas().items():
        path = directory / filename
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
