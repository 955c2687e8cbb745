"""The scenario of ``scenario.py`` in a database of its own on the shared
InfluxDB server, and a runner that executes a committed panel's query the way
Grafana would (variables substituted, the panel's own time range applied)."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from dashboards.build import GENERATED, load_generated
from dashboards.interpolate import VarValue, all_values_of, interpolate, time_range
from tests.dashboards import scenario
from tests.servers import InfluxServer

DATABASE = "dashboards_scenario"

Row = dict[str, Any]
Runner = Callable[..., list[Row]]


def _post(url: str, data: bytes) -> None:
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=30) as resp:
        assert resp.status == 204, resp.read()


@pytest.fixture(scope="module")
def scenario_db(influx: InfluxServer) -> str:
    influx.query(f'DROP DATABASE "{DATABASE}"')
    influx.query(f'CREATE DATABASE "{DATABASE}"')
    body = "\n".join(scenario.all_lines()).encode()
    _post(
        f"{influx.url}/write?" + urllib.parse.urlencode({"db": DATABASE, "precision": "ns"}), body
    )
    return DATABASE


def find_panel(model: Mapping[str, Any], title: str) -> Mapping[str, Any]:
    matches = [p for p in model["panels"] if p["title"] == title]
    assert len(matches) == 1, f"panel {title!r} in {model['uid']}: {len(matches)} matches"
    return matches[0]


def normalise(result: Mapping[str, Any]) -> list[Row]:
    """InfluxDB's JSON answer as rows: tags merged into each row, floats rounded."""
    stmt = result["results"][0]
    if "error" in stmt:
        raise AssertionError(f"InfluxDB refused the query: {stmt['error']}")
    rows = []
    for series in stmt.get("series", []):
        tags = series.get("tags", {})
        for values in series["values"]:
            row = dict(tags)
            for col, v in zip(series["columns"], values, strict=True):
                row[col] = round(v, 9) if isinstance(v, float) else v
            rows.append(row)
    return rows


@pytest.fixture(scope="module")
def models() -> dict[str, Any]:
    # The committed files: what Grafana loads. test_build checks they are current.
    return load_generated(GENERATED)


@pytest.fixture
def run_panel(influx: InfluxServer, scenario_db: str, models: dict[str, Any]) -> Runner:
    def run(
        file: str,
        title: str,
        ref_id: str = "A",
        *,
        variables: Mapping[str, VarValue],
        start: datetime,
        end: datetime,
        interval: str = "1h",
        textboxes: Mapping[str, str] | None = None,
    ) -> list[Row]:
        model = models[file]
        panel = find_panel(model, title)
        (target,) = [t for t in panel["targets"] if t["refId"] == ref_id]
        lo, hi = time_range(start=start, end=end, time_from=panel.get("timeFrom"))
        query = interpolate(
            target["query"],
            variables=variables,
            start=lo,
            end=hi,
            interval=interval,
            textboxes=textboxes,
            all_values=all_values_of(model),
        )
        return normalise(influx.query(query, db=scenario_db, epoch="s"))

    return run


def generated_dir() -> Path:
    return GENERATED


def dump(rows: list[Row]) -> str:  # for assertion messages
    return json.dumps(rows, indent=1, sort_keys=True)
