"""Live occupancy (facility managers): what is occupied now, per floor and
zone, and which agents and sensors are offline or faulty."""

from __future__ import annotations

from dashboards.model import (
    Json,
    grid,
    influxql,
    stat,
    table,
    tag_filter,
    thresholds,
    timeseries,
)

# A space is unknown once its sensor has been silent for 2.5 heartbeats
# (DESIGN.md): 750 s at the default 300 s heartbeat. The "now" panels look back
# 13 minutes, so a space drops out of them shortly after it becomes unknown.
LIVE_WINDOW = "13m"
# Agent status is retained and written only on change: look back far enough
# to find the last change of every agent.
STATUS_WINDOW = "30d"
# Agents report sensor health with their periodic health message.
HEALTH_WINDOW = "1h"
# The api's default (ApiSettings.low_battery_pct), so this table and the
# api's sensor health report list the same sensors.
LOW_BATTERY_PCT = 15

WHERE = tag_filter("site", "floor", "zone")

# The latest state of every space in the window, one row per space.
LAST_PER_SPACE = (
    'SELECT last("occupied") AS "occupied", last("count") AS "people" FROM "presence" '
    f'WHERE {WHERE} AND $timeFilter GROUP BY "space", "floor", "zone"'
)


def occupied_now() -> Json:
    return stat(
        "Occupied spaces now",
        f'SELECT sum("occupied") FROM ({LAST_PER_SPACE})',
        grid(0, 0, 6, 4),
        description="Spaces whose latest report in the last 13 minutes says occupied.",
        time_from=LIVE_WINDOW,
        defaults={"noValue": "0"},
    )


def reporting_now() -> Json:
    return stat(
        "Spaces reporting",
        f'SELECT count("occupied") FROM ({LAST_PER_SPACE})',
        grid(6, 0, 6, 4),
        description="Spaces heard from in the last 13 minutes; the others are unknown.",
        time_from=LIVE_WINDOW,
        defaults={"noValue": "0"},
    )


def people_now() -> Json:
    return stat(
        "People counted now",
        f'SELECT sum("people") FROM ({LAST_PER_SPACE})',
        grid(12, 0, 6, 4),
        description="Sum of the latest people counts of rooms with counting sensors.",
        time_from=LIVE_WINDOW,
        defaults={"noValue": "0"},
    )


def agents_offline() -> Json:
    return stat(
        "Agents offline",
        'SELECT count("online") FROM (SELECT last("online") AS "online" FROM "agent_status" '
        'WHERE "site" =~ /^$site$/ AND $timeFilter GROUP BY "agent") WHERE "online" = 0',
        grid(18, 0, 6, 4),
        time_from=STATUS_WINDOW,
        defaults={
            "noValue": "0",
            "thresholds": thresholds((None, "green"), (1, "red")),
            "color": {"mode": "thresholds"},
        },
    )


def _per(tag: str, title: str, pos: Json) -> Json:
    return table(
        title,
        [
            influxql(
                'SELECT sum("occupied") AS "occupied", count("occupied") AS "reporting" '
                f'FROM ({LAST_PER_SPACE}) GROUP BY "{tag}"',
                fmt="table",
            )
        ],
        pos,
        description=f"Occupied and reporting spaces per {tag} (latest report in 13 minutes).",
        time_from=LIVE_WINDOW,
    )


def per_floor() -> Json:
    return _per("floor", "Occupied per floor now", grid(0, 4, 8, 8))


def per_zone() -> Json:
    return _per("zone", "Occupied per zone now", grid(8, 4, 16, 8))


def floor_trend() -> Json:
    # Not a forward fill of each space's last state: InfluxDB 1.x merges the
    # series of a fill(previous) subquery wrongly. An interval of at least one
    # heartbeat (5 min) holds a report of every live space instead, and the
    # last report of an interval gives the space's state at the interval's end.
    return timeseries(
        "Occupied spaces per floor",
        [
            influxql(
                'SELECT sum("occupied") FROM (SELECT last("occupied") AS "occupied" '
                f'FROM "presence" WHERE {WHERE} AND $timeFilter '
                'GROUP BY time($__interval), "space", "floor" fill(none)) '
                'WHERE $timeFilter GROUP BY time($__interval), "floor"',
                alias="$tag_floor",
            )
        ],
        grid(0, 12, 24, 8),
        description=(
            "Spaces occupied at the end of each interval (plotted at its start), from each "
            "space's last report in it. Intervals are at least one heartbeat (5 minutes) "
            "long, so every live space reports in each of them."
        ),
        interval="5m",
    )


def offline_agents() -> Json:
    return table(
        "Offline agents",
        [
            influxql(
                'SELECT "online" FROM (SELECT last("online") AS "online" FROM "agent_status" '
                'WHERE "site" =~ /^$site$/ AND $timeFilter GROUP BY "agent") '
                'WHERE "online" = 0 GROUP BY "agent"',
                fmt="table",
            )
        ],
        grid(0, 20, 10, 8),
        description="Agents whose latest status is offline (their Last Will or a clean stop).",
        time_from=STATUS_WINDOW,
    )


def faulty_sensors() -> Json:
    return table(
        "Faulty sensors and low batteries",
        [
            influxql(
                'SELECT "ok", "battery_pct" FROM (SELECT last("ok") AS "ok", '
                'last("battery_pct") AS "battery_pct" FROM "sensor_health" '
                'WHERE "site" =~ /^$site$/ AND $timeFilter GROUP BY "agent", "sensor", "space") '
                f'WHERE "ok" = 0 OR "battery_pct" < {LOW_BATTERY_PCT} '
                'GROUP BY "agent", "sensor", "space"',
                fmt="table",
            )
        ],
        grid(10, 20, 14, 8),
        description=(
            f"Sensors their agent reports as not ok, or below {LOW_BATTERY_PCT} % battery, "
            "in the last hour."
        ),
        time_from=HEALTH_WINDOW,
    )


def panels() -> list[Json]:
    return [
        occupied_now(),
        reporting_now(),
        people_now(),
        agents_offline(),
        per_floor(),
        per_zone(),
        floor_trend(),
        offline_agents(),
        faulty_sensors(),
    ]
