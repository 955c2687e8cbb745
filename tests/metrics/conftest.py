"""Small hand-made sites and presence frames for the hand-worked metric tests.

Frames are built exactly as the store returns them (``Store.read``): a ``time``
column of dtype datetime64[ns, UTC], tag columns and field columns.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from core.registry import Site

TZ = "Europe/Helsinki"


def local(text: str) -> pd.Timestamp:
    """A Helsinki wall-clock time as a UTC timestamp (unambiguous times only)."""
    return pd.Timestamp(text, tz=TZ).tz_convert("UTC")


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def make_site(
    *,
    spaces: list[dict[str, Any]],
    zones: list[dict[str, Any]] | None = None,
    agencies: list[dict[str, Any]] | None = None,
    opening: dict[str, list[str]] | None = None,
    closures: list[str] | None = None,
    area_m2: float = 100.0,
    heartbeat_s: float = 300.0,
    target: float = 10.0,
) -> Site:
    """A one-floor site. Each space dict needs ``id``; ``zone`` defaults to "z",
    ``type`` to desk, ``agent`` to "agent-1", ``capacity`` 1, ``area_m2`` 5."""
    every_day = ["00:00-24:00"]
    hours = opening or {d: every_day for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    built = []
    for i, sp in enumerate(spaces):
        built.append(
            {
                "id": sp["id"],
                "type": sp.get("type", "desk"),
                "zone": sp.get("zone", "z"),
                "capacity": sp.get("capacity", 1),
                "area_m2": sp.get("area_m2", 5.0),
                "geometry": {"x": float(i), "y": 0.0, "w": 1.0, "h": 1.0},
                "sensor": {"id": f"s-{sp['id']}", "agent": sp.get("agent", "agent-1")},
            }
        )
    return Site.model_validate(
        {
            "id": "testsite",
            "name": "Test site",
            "timezone": TZ,
            "opening_hours": hours,
            "holidays": {"country": "FI"},
            "closures": closures or [],
            "area_m2": area_m2,
            "target_m2_per_htv": target,
            "heartbeat_s": heartbeat_s,
            "agencies": agencies or [{"id": "a", "name": "Agency A", "headcount_htv": 10}],
            "floors": [
                {"id": "f1", "name": "Floor 1", "level": 1, "plan": {"width": 100, "height": 10}}
            ],
            "zones": zones or [{"id": "z", "name": "Zone", "floor": "f1"}],
            "spaces": built,
        }
    )


def presence(site: Site, rows: list[tuple[Any, ...]], *, hb: float | None = 86_400) -> pd.DataFrame:
    """Rows (time, space, occupied[, count]) as a store frame. ``hb`` is the
    heartbeat field of every row (default: a day, so nothing falls silent
    unless a test wants it to); None leaves the column out."""
    records: list[dict[str, Any]] = []
    for row in rows:
        when, space, occupied = row[0], row[1], row[2]
        count = row[3] if len(row) > 3 else None
        tags = site.space_tags(space)
        rec: dict[str, Any] = {
            "time": when,
            **tags,
            "occupied": int(occupied),
            "count": count,
            "seq": len(records),
            "sensor": f"s-{space}",
            "agent": site.space(space).sensor.agent,  # type: ignore[union-attr]
            "kind": "change",
        }
        if hb is not None:
            rec["hb"] = float(hb)
        records.append(rec)
    frame = pd.DataFrame(records)
    frame["time"] = pd.to_datetime(frame["time"], utc=True).astype("datetime64[ns, UTC]")
    frame["count"] = pd.to_numeric(frame["count"]).astype(float)
    return frame.sort_values("time", kind="stable").reset_index(drop=True)


def status(site: Site, rows: list[tuple[Any, str, int]]) -> pd.DataFrame:
    """Rows (time, agent, online 0/1) as an ``agent_status`` store frame."""
    frame = pd.DataFrame(
        [{"time": t, "site": site.id, "agent": a, "online": o} for t, a, o in rows]
    )
    frame["time"] = pd.to_datetime(frame["time"], utc=True).astype("datetime64[ns, UTC]")
    return frame.sort_values("time", kind="stable").reset_index(drop=True)


def table(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    """Intervals as (space, start, end, state) tuples with UTC timestamps."""
    return [(r.space, r.start, r.end, r.state) for r in frame.itertuples(index=False)]
