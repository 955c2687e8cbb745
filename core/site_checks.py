"""Cross-reference checks of a site file, on its plain data.

They run on the parsed YAML, not on a validated ``Site``, so that ``occupancy
site check`` reports every problem of a file in one pass: a space with a bad
capacity does not hide that another names an unknown zone. Values of the wrong
shape are skipped here (field validation reports them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from core.suggest import did_you_mean

Loc = tuple[str | int, ...]
GROUPS = ("agencies", "floors", "zones", "spaces", "entrances")


def _items(data: Mapping[str, Any], kind: str) -> list[tuple[int, Mapping[str, Any]]]:
    value = data.get(kind)
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, Mapping)]


def _ids(data: Mapping[str, Any], kind: str) -> list[str]:
    return [str(item["id"]) for _, item in _items(data, kind) if "id" in item]


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _duplicates(data: Mapping[str, Any]) -> Iterator[tuple[Loc, str]]:
    for kind in GROUPS:
        counts = Counter(_ids(data, kind))
        first: dict[str, int] = {}
        for i, item in _items(data, kind):
            ident = str(item.get("id"))
            if counts[ident] > 1:
                if ident in first:
                    msg = f"duplicate id {ident!r} (first at {kind}[{first[ident]}])"
                    yield (kind, i, "id"), msg
                else:
                    first[ident] = i


def _unknown(kind: str, ident: Any, known: list[str]) -> str:
    return f"unknown {kind} {ident!r}{did_you_mean(str(ident), known)}"


def _outside_plan(space: Mapping[str, Any], floor: Mapping[str, Any]) -> str | None:
    g, plan = space.get("geometry"), floor.get("plan")
    if not isinstance(g, Mapping) or not isinstance(plan, Mapping):
        return None
    x, y, w, h = (_number(g.get(k)) for k in ("x", "y", "w", "h"))
    width, height = _number(plan.get("width")), _number(plan.get("height"))
    if None in (x, y, w, h, width, height):
        return None
    if x + w > width or y + h > height:  # type: ignore[operator]
        return f"lies outside the floor plan of {floor.get('id')!r} ({width:g} x {height:g} m)"
    return None


def reference_problems(data: Mapping[str, Any]) -> Iterator[tuple[Loc, str]]:
    """Duplicate ids, references to unknown floors/agencies/zones, spaces outside
    their floor plan and sensors bound twice, each with its location."""
    yield from _duplicates(data)
    floors = {str(f.get("id")): f for _, f in _items(data, "floors")}
    agencies = _ids(data, "agencies")
    zones = {str(z.get("id")): z for _, z in _items(data, "zones")}
    for i, zone in _items(data, "zones"):
        if "floor" in zone and str(zone["floor"]) not in floors:
            yield ("zones", i, "floor"), _unknown("floor", zone["floor"], list(floors))
        agency = zone.get("agency")
        if agency is not None and str(agency) not in agencies:
            yield ("zones", i, "agency"), _unknown("agency", agency, agencies)
    sensors: dict[str, int] = {}
    for i, space in _items(data, "spaces"):
        of = zones.get(str(space.get("zone")))
        if "zone" in space and of is None:
            yield ("spaces", i, "zone"), _unknown("zone", space["zone"], list(zones))
        floor = floors.get(str(of.get("floor"))) if of is not None else None
        outside = _outside_plan(space, floor) if floor is not None else None
        if outside:
            yield ("spaces", i, "geometry"), outside
        sensor = space.get("sensor")
        if isinstance(sensor, Mapping) and "id" in sensor:
            sid = str(sensor["id"])
            if sid in sensors:
                yield (
                    ("spaces", i, "sensor", "id"),
                    f"sensor {sid!r} is already bound to spaces[{sensors[sid]}]",
                )
            sensors[sid] = i
    yield from _entrance_problems(data, zones, sensors)


def _entrance_problems(
    data: Mapping[str, Any], zones: Mapping[str, Any], sensors: Mapping[str, int]
) -> Iterator[tuple[Loc, str]]:
    counters: dict[str, int] = {}
    for i, entrance in _items(data, "entrances"):
        if "zone" in entrance and str(entrance["zone"]) not in zones:
            yield ("entrances", i, "zone"), _unknown("zone", entrance["zone"], list(zones))
        counter = entrance.get("counter")
        if isinstance(counter, Mapping) and "id" in counter:
            cid = str(counter["id"])
            if cid in sensors:
                yield (
                    ("entrances", i, "counter", "id"),
                    f"sensor {cid!r} is already bound to spaces[{sensors[cid]}]",
                )
            elif cid in counters:
                yield (
                    ("entrances", i, "counter", "id"),
                    f"counter {cid!r} is already bound to entrances[{counters[cid]}]",
                )
            counters[cid] = i
