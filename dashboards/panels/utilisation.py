"""Utilisation (facility managers, agencies): from the api's ``utilisation``
rollup (per space per 15 minutes: occupied_s, opening_s, observed_s).

Group utilisation is sum(occupied) / sum(observed) over the group's spaces
(DESIGN.md, "Metrics"), never a mean of per-space ratios, and every figure is
shown with its coverage (observed / opening time).
"""

from __future__ import annotations

from dashboards.model import Json, grid, influxql, panel, stat, tag_filter, timeseries

WHERE = tag_filter("site", "floor", "zone")
RATIO = 'sum("occupied_s") / sum("observed_s")'
BUCKET_S = 900  # the rollup's bucket width


def utilisation_stat() -> Json:
    return stat(
        "Utilisation",
        f'SELECT {RATIO} AS "utilisation" FROM "utilisation" WHERE {WHERE} AND $timeFilter',
        grid(0, 0, 6, 4),
        unit="percentunit",
        decimals=1,
        description="Occupied time / observed time over the selected spaces and period.",
    )


def coverage_stat() -> Json:
    return stat(
        "Coverage",
        'SELECT sum("observed_s") / sum("opening_s") AS "coverage" FROM "utilisation" '
        f"WHERE {WHERE} AND $timeFilter",
        grid(6, 0, 6, 4),
        unit="percentunit",
        decimals=1,
        description="Observed time / opening time: how much of the period the sensors saw.",
    )


# Grafana transformations turn hourly sums into a weekday x hour matrix:
# copy the time into an "Hour" field, format the two as weekday and hour,
# sum per (weekday, hour), divide, pivot. InfluxQL cannot group by weekday.
HEATMAP_TRANSFORMS: list[Json] = [
    {
        "id": "calculateField",
        "options": {
            "alias": "Hour",
            "mode": "reduceRow",
            "reduce": {"include": ["Time"], "reducer": "first"},
            "replaceFields": False,
        },
    },
    {
        "id": "convertFieldType",
        "options": {"conversions": [{"destinationType": "time", "targetField": "Hour"}]},
    },
    {
        "id": "formatTime",
        "options": {"outputFormat": "E ddd", "timeField": "Time", "useTimezone": True},
    },
    {
        "id": "formatTime",
        "options": {"outputFormat": "HH", "timeField": "Hour", "useTimezone": True},
    },
    {
        "id": "groupBy",
        "options": {
            "fields": {
                "Hour": {"aggregations": [], "operation": "groupby"},
                "Time": {"aggregations": [], "operation": "groupby"},
                "observed_s": {"aggregations": ["sum"], "operation": "aggregate"},
                "occupied_s": {"aggregations": ["sum"], "operation": "aggregate"},
            }
        },
    },
    {
        "id": "calculateField",
        "options": {
            "alias": "utilisation",
            "binary": {"left": "occupied_s (sum)", "operator": "/", "right": "observed_s (sum)"},
            "mode": "binary",
            "replaceFields": False,
        },
    },
    {
        "id": "groupingToMatrix",
        "options": {"columnField": "Time", "rowField": "Hour", "valueField": "utilisation"},
    },
]


def weekday_hour_heatmap() -> Json:
    return panel(
        "table",
        "Utilisation by weekday and hour",
        [
            influxql(
                'SELECT sum("occupied_s") AS "occupied_s", sum("observed_s") AS "observed_s" '
                f'FROM "utilisation" WHERE {WHERE} AND $timeFilter '
                "GROUP BY time(1h) fill(none)",
                fmt="table",
            )
        ],
        grid(0, 4, 24, 10),
        description=(
            "Rows: hour of day, columns: weekday (browser time zone); each cell is "
            "occupied / observed time summed over the period's matching hours."
        ),
        unit="percentunit",
        decimals=0,
        defaults={
            "color": {"mode": "continuous-GrYlRd"},
            "custom": {"align": "center", "cellOptions": {"type": "color-background"}},
            "max": 1,
            "min": 0,
        },
        options={"cellHeight": "sm", "showHeader": True},
        transformations=HEATMAP_TRANSFORMS,
    )


def _trend(tag: str, title: str, pos: Json) -> Json:
    return timeseries(
        title,
        [
            influxql(
                f'SELECT {RATIO} FROM "utilisation" WHERE {WHERE} AND $timeFilter '
                f'GROUP BY time($__interval), "{tag}" fill(none)',
                alias=f"$tag_{tag}",
            )
        ],
        pos,
        unit="percentunit",
        interval="1h",
        defaults={"min": 0, "max": 1},
    )


def per_zone_trend() -> Json:
    return _trend("zone", "Utilisation per zone", grid(0, 14, 12, 8))


def per_space_type_trend() -> Json:
    return _trend("space_type", "Utilisation per space type", grid(12, 14, 12, 8))


def peak_against_average() -> Json:
    # Per 15-minute bucket, occupied seconds / 900 is the mean number of spaces
    # occupied during it; the day's busiest bucket against its average bucket.
    busy = (
        f'SELECT sum("occupied_s") / {BUCKET_S} AS "busy" FROM "utilisation" '
        f'WHERE {WHERE} AND "opening_s" > 0 AND $timeFilter GROUP BY time(15m) fill(none)'
    )
    return timeseries(
        "Daily peak against average (occupied spaces)",
        [
            influxql(
                f'SELECT max("busy") AS "peak", mean("busy") AS "average" FROM ({busy}) '
                "WHERE $timeFilter GROUP BY time(1d) fill(none) tz('$tz')",
            )
        ],
        grid(0, 22, 24, 8),
        description=(
            "Peak: the day's busiest 15 minutes, in spaces occupied on average during them; "
            "average: the mean over the day's open 15-minute buckets. The exact event-sweep "
            "peak per agency is on the Space efficiency dashboard."
        ),
        decimals=1,
    )


def panels() -> list[Json]:
    return [
        utilisation_stat(),
        coverage_stat(),
        weekday_hour_heatmap(),
        per_zone_trend(),
        per_space_type_trend(),
        peak_against_average(),
    ]
