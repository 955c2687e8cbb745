"""How contract messages become stored points: the one schema of the raw
measurements, shared by the ingest and the simulator's backfill so that live
and backfilled data are indistinguishable.

Field types are fixed per measurement (InfluxDB rejects a field whose type
changes): flags and counters are integers, ids are strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from core.messages import AgentHealth, AgentState, AgentStatus, EntranceCounts, Presence
from core.registry import Site
from core.timeutil import to_ns
from storage.base import (
    AGENT_HEALTH,
    AGENT_STATUS,
    ENTRANCE_COUNTS,
    PRESENCE,
    SENSOR_HEALTH,
    FieldValue,
    Point,
)


def presence_point(site: Site, msg: Presence, *, tags: Mapping[str, str] | None = None) -> Point:
    """Raises ``KeyError`` when the space is not in the site's registry.

    ``tags``: the space's ``site.space_tags(msg.space_id)``, when the caller
    already holds them (the ingest looks them up once per topic, not per message)."""
    fields: dict[str, FieldValue] = {
        "occupied": int(msg.occupied),
        "seq": msg.seq,
        "sensor": msg.sensor_id,
        "agent": msg.agent_id,
        "kind": msg.kind.value,
    }
    if msg.people_count is not None:
        fields["count"] = msg.people_count
    fields["hb"] = float(msg.heartbeat_interval_s or site.heartbeat_s)
    if tags is None:
        tags = site.space_tags(msg.space_id)
    return Point(PRESENCE, tags, fields, to_ns(msg.event_time))


def counts_point(site: Site, msg: EntranceCounts, *, reset: bool = False) -> Point:
    """Raises ``KeyError`` when the entrance is not in the site's registry.

    ``reset``: the counter's running totals went backwards (ingest.counts); the
    interval counts are stored as given, with the field ``reset`` 1."""
    entrance = site.entrance(msg.entrance_id)
    fields: dict[str, FieldValue] = {
        "in_count": msg.in_count,
        "out_count": msg.out_count,
        "interval_s": float(msg.interval_s),
        "seq": msg.seq,
        "sensor": msg.sensor_id,
        "agent": msg.agent_id,
        "hb": float(msg.heartbeat_interval_s or msg.interval_s),
        "reset": int(reset),
    }
    if msg.total_in is not None:
        fields["total_in"] = msg.total_in
    if msg.total_out is not None:
        fields["total_out"] = msg.total_out
    return Point(
        ENTRANCE_COUNTS,
        {"site": site.id, "entrance": entrance.id, "zone": entrance.zone},
        fields,
        to_ns(msg.event_time),
    )


def status_point(site: Site, msg: AgentStatus, *, received_at: datetime) -> Point:
    """The Last Will has no event time; then the receive time is the best there is."""
    when = msg.event_time or received_at
    return Point(
        AGENT_STATUS,
        {"site": site.id, "agent": msg.agent_id},
        {"online": int(msg.state is AgentState.ONLINE)},
        to_ns(when),
    )


def health_points(site: Site, msg: AgentHealth) -> list[Point]:
    t = to_ns(msg.event_time)
    points = [
        Point(
            AGENT_HEALTH,
            {"site": site.id, "agent": msg.agent_id},
            {
                "uptime_s": float(msg.uptime_s),
                "outbox_depth": msg.outbox_depth,
                "outbox_dropped": msg.outbox_dropped,
                "outbox_unconfirmed": msg.outbox_unconfirmed,
                "outbox_dropped_unconfirmed": msg.outbox_dropped_unconfirmed,
                "version": msg.version,
            },
            t,
        )
    ]
    for s in msg.sensors:
        fields: dict[str, FieldValue] = {"ok": int(s.ok)}
        if s.battery_pct is not None:
            fields["battery_pct"] = float(s.battery_pct)
        if s.last_seen is not None:
            fields["last_seen_ns"] = to_ns(s.last_seen)
        if s.detail:
            fields["detail"] = s.detail
        points.append(
            Point(
                SENSOR_HEALTH,
                {
                    "site": site.id,
                    "agent": msg.agent_id,
                    "sensor": s.sensor_id,
                    "space": s.space_id,
                },
                fields,
                t,
            )
        )
    return points
