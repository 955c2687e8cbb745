"""Only ``ingest/mqtt.py`` imports paho (the receiver process); the service's
side (``ingest.subscriber``) runs without it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

INGEST = Path(__file__).resolve().parents[2] / "ingest"


def _imports_paho(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import) and any(a.name.startswith("paho") for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("paho"):
            return True
    return False


def test_only_the_receiver_module_imports_paho() -> None:
    found = sorted(p.name for p in INGEST.glob("*.py") if _imports_paho(p))
    assert found == ["mqtt.py"]


def test_the_service_side_loads_without_paho() -> None:
    code = "import sys, ingest.subscriber; print(any(m.startswith('paho') for m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=INGEST.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "False"
