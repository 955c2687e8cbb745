"""Small builders for Grafana's dashboard JSON model (schemaVersion 39).

Each function returns a plain dict, so a panel group module reads like the
dashboard it describes. Everything is deterministic: no timestamps, ids given
by position, uids fixed by hand (so provisioning and ``push`` overwrite the
same dashboard instead of creating copies).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Json = dict[str, Any]

SCHEMA_VERSION = 39
# The provisioned datasource's uid; the ``datasource`` variable defaults to it
# and lets a dashboard pushed to another Grafana pick that Grafana's InfluxDB.
DATASOURCE_UID = "occupancy-influxdb"
DATASOURCE: Json = {"type": "influxdb", "uid": "${datasource}"}

# Grafana substitutes this for a variable set to "All"; a regex that matches
# every tag value, so "All" also covers values added after the page loaded.
ALL_VALUE = ".*"


def tag_filter(*tags: str) -> str:
    """``"site" =~ /^$site$/ AND ...``: regex matches so multi-value and "All"
    selections work (Grafana renders them as ``(a|b)`` and ``.*``)."""
    return " AND ".join(f'"{t}" =~ /^${t}$/' for t in tags)


def influxql(
    query: str, *, ref_id: str = "A", fmt: str = "time_series", alias: str | None = None
) -> Json:
    target: Json = {
        "datasource": DATASOURCE,
        "query": query,
        "rawQuery": True,
        "refId": ref_id,
        "resultFormat": fmt,
    }
    if alias is not None:
        target["alias"] = alias
    return target


def grid(x: int, y: int, w: int, h: int) -> Json:
    return {"h": h, "w": w, "x": x, "y": y}


def panel(
    kind: str,
    title: str,
    targets: Sequence[Json],
    pos: Json,
    *,
    description: str = "",
    unit: str | None = None,
    decimals: int | None = None,
    options: Json | None = None,
    defaults: Json | None = None,
    overrides: Sequence[Json] = (),
    transformations: Sequence[Json] = (),
    time_from: str | None = None,
    interval: str | None = None,
) -> Json:
    field_defaults: Json = dict(defaults or {})
    if unit is not None:
        field_defaults["unit"] = unit
    if decimals is not None:
        field_defaults["decimals"] = decimals
    p: Json = {
        "datasource": DATASOURCE,
        "description": description,
        "fieldConfig": {"defaults": field_defaults, "overrides": list(overrides)},
        "gridPos": pos,
        "options": dict(options or {}),
        "targets": list(targets),
        "title": title,
        "transformations": list(transformations),
        "type": kind,
    }
    if time_from is not None:
        # Grafana replaces $timeFilter of this panel by "now - time_from .. now".
        p["timeFrom"] = time_from
    if interval is not None:
        p["interval"] = interval
    return p


def thresholds(*steps: tuple[float | None, str]) -> Json:
    return {
        "mode": "absolute",
        "steps": [{"color": color, "value": value} for value, color in steps],
    }


def stat(title: str, query: str, pos: Json, **kw: Any) -> Json:
    kw.setdefault("options", {"reduceOptions": {"calcs": ["lastNotNull"], "values": False}})
    return panel("stat", title, [influxql(query)], pos, **kw)


def table(title: str, targets: Sequence[Json], pos: Json, **kw: Any) -> Json:
    kw.setdefault("options", {"cellHeight": "sm", "showHeader": True})
    return panel("table", title, targets, pos, **kw)


def timeseries(title: str, targets: Sequence[Json], pos: Json, **kw: Any) -> Json:
    kw.setdefault(
        "options",
        {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}},
    )
    return panel("timeseries", title, targets, pos, **kw)


def bargauge(title: str, targets: Sequence[Json], pos: Json, **kw: Any) -> Json:
    kw.setdefault(
        "options",
        {
            "displayMode": "gradient",
            "orientation": "horizontal",
            "reduceOptions": {"calcs": ["lastNotNull"], "values": False},
        },
    )
    return panel("bargauge", title, targets, pos, **kw)


def datasource_variable() -> Json:
    return {
        "current": {"text": "Occupancy InfluxDB", "value": DATASOURCE_UID},
        "hide": 0,
        "label": "Data source",
        "name": "datasource",
        "query": "influxdb",
        "refresh": 1,
        "regex": "",
        "type": "datasource",
    }


def query_variable(
    name: str, label: str, query: str, *, multi: bool = True, all_value: str = ALL_VALUE
) -> Json:
    """A variable filled by an InfluxQL ``SHOW TAG VALUES`` query."""
    return {
        "allValue": all_value,
        "current": {"text": ["All"], "value": ["$__all"]},
        "datasource": DATASOURCE,
        "definition": query,
        "hide": 0,
        "includeAll": True,
        "label": label,
        "multi": multi,
        "name": name,
        "query": query,
        "refresh": 2,  # on time range change, so new sites/agencies appear
        "regex": "",
        "sort": 1,
        "type": "query",
    }


def textbox_variable(name: str, label: str, value: str) -> Json:
    return {
        "current": {"text": value, "value": value},
        "hide": 0,
        "label": label,
        "name": name,
        "query": value,
        "type": "textbox",
    }


def dashboard(
    *,
    uid: str,
    title: str,
    description: str,
    panels: Sequence[Json],
    variables: Sequence[Json],
    time_from: str,
    refresh: str = "",
    tags: Sequence[str] = ("occupancy",),
) -> Json:
    numbered = [{**p, "id": i} for i, p in enumerate(panels, start=1)]
    return {
        "annotations": {"list": []},
        "description": description,
        "editable": True,
        "graphTooltip": 1,
        "links": [],
        "panels": numbered,
        "refresh": refresh,
        "schemaVersion": SCHEMA_VERSION,
        "tags": list(tags),
        "templating": {"list": list(variables)},
        "time": {"from": time_from, "to": "now"},
        "timepicker": {},
        "timezone": "browser",
        "title": title,
        "uid": uid,
        "version": 1,
    }
