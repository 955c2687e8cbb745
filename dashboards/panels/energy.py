"""Energy of empty conditioned space, from the daily summaries' energy hours
(``summary_energy_hours``: tags site floor zone, one row per zone and local
hour of its conditioned time, integer nanoseconds; docs/metrics.md). Hours
and shares only: kWh and CO2 need each zone's area and the site's
assumptions, which the API applies (``GET /v1/sites/{site}/energy``)."""

from __future__ import annotations

from dashboards.model import Json, bargauge, grid, influxql, stat, thresholds, timeseries

WHERE = '"site" =~ /^$site$/ AND "floor" =~ /^$floor$/ AND "zone" =~ /^$zone$/'
NS_PER_H = 3_600_000_000_000
FROM = '"summary_energy_hours"'
DAILY = "GROUP BY time(1d), \"zone\" fill(none) tz('$tz')"


def _share(field: str) -> str:
    return f'sum("{field}") / sum("conditioned_ns") AS "share"'


def _hours(field: str) -> str:
    return f'sum("{field}") / {NS_PER_H} AS "empty_h"'


def empty_zone_hours() -> Json:
    return stat(
        "Empty conditioned zone-hours",
        f"SELECT {_hours('empty_ns')} FROM {FROM} WHERE {WHERE} AND $timeFilter",
        grid(0, 0, 6, 4),
        decimals=0,
        unit="h",
        description="Hours in which a zone was heated, ventilated and lit and every space "
        "of it was known to be free, added up over the zones.",
    )


def empty_share() -> Json:
    return stat(
        "Empty share of conditioned time",
        f"SELECT {_share('empty_ns')} FROM {FROM} WHERE {WHERE} AND $timeFilter",
        grid(6, 0, 6, 4),
        unit="percentunit",
        decimals=1,
    )


def unknown_share() -> Json:
    return stat(
        "Unknown share (not counted as empty)",
        f"SELECT {_share('unknown_ns')} FROM {FROM} WHERE {WHERE} AND $timeFilter",
        grid(12, 0, 6, 4),
        unit="percentunit",
        decimals=1,
        defaults={"thresholds": thresholds((None, "green"), (0.05, "orange"), (0.2, "red"))},
        description="No space occupied but a sensor silent or its agent offline.",
    )


def floor_empty_share() -> Json:
    return stat(
        "Whole floor empty, share of conditioned time",
        f"SELECT {_share('floor_empty_ns')} FROM {FROM} WHERE {WHERE} AND $timeFilter",
        grid(18, 0, 6, 4),
        unit="percentunit",
        decimals=1,
    )


def empty_hours_per_zone() -> Json:
    return timeseries(
        "Empty conditioned hours per zone per day",
        [
            influxql(
                f"SELECT {_hours('empty_ns')} FROM {FROM} WHERE {WHERE} AND $timeFilter {DAILY}",
                alias="$tag_zone",
            )
        ],
        grid(0, 4, 12, 8),
        unit="h",
        defaults={"min": 0},
    )


def empty_share_per_zone() -> Json:
    return timeseries(
        "Empty share of conditioned time per zone per day",
        [
            influxql(
                f"SELECT {_share('empty_ns')} FROM {FROM} WHERE {WHERE} AND $timeFilter {DAILY}",
                alias="$tag_zone",
            )
        ],
        grid(12, 4, 12, 8),
        unit="percentunit",
        defaults={"min": 0, "max": 1},
    )


def empty_share_by_zone() -> Json:
    return bargauge(
        "Empty share per zone over the range",
        [
            influxql(
                f"SELECT {_share('empty_ns')} FROM {FROM} WHERE {WHERE} "
                'AND $timeFilter GROUP BY "zone"',
                alias="$tag_zone",
            )
        ],
        grid(0, 12, 24, 8),
        unit="percentunit",
        decimals=0,
        defaults={"min": 0, "max": 1, "thresholds": thresholds((None, "green"), (0.3, "orange"),
                                                               (0.5, "red"))},
        description="Candidates for a shorter HVAC schedule or closing on quiet days: "
        "GET /v1/sites/{site}/energy/closing checks whether the demand fits elsewhere.",
    )  # fmt: skip


def panels() -> list[Json]:
    return [
        empty_zone_hours(),
        empty_share(),
        unknown_share(),
        floor_empty_share(),
        empty_hours_per_zone(),
        empty_share_per_zone(),
        empty_share_by_zone(),
    ]
