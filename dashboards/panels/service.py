"""Customer service points: visits counted at the door (raw ``entrance_counts``,
tags site entrance zone; one row per counting interval, time = its end) and
the utilisation of the counters (the ``utilisation`` rollup of the zone's
``service_point`` spaces).

An interval's counts belong to the hour in which it starts (docs/metrics.md,
"Service points"). Rows are stamped with the interval's end, so the hour and
day buckets are offset by one second: the interval 09:00-10:00, stamped
10:00:00, falls in the bucket that starts 09:00:01, shown as the 09 hour.
That is exact for intervals that do not cross an hour (counters report every
minute). The clamped in-building count and its drift at closing need state
that InfluxQL cannot keep; they are in the API (``/service/occupancy``).
"""

from __future__ import annotations

from dashboards.model import Json, grid, influxql, stat, table, tag_filter, timeseries

WHERE = tag_filter("site", "zone")
COUNTERS = f"{WHERE} AND \"space_type\" = 'service_point'"
OFFSET = "1s"  # see the module docstring


def visits_stat() -> Json:
    return stat(
        "Visits in the period",
        f'SELECT sum("in_count") AS "visits" FROM "entrance_counts" WHERE {WHERE} AND $timeFilter',
        grid(0, 0, 6, 4),
        decimals=0,
        unit="none",
        description="People counted in at the selected service points' entrances.",
    )


def counter_utilisation_stat() -> Json:
    return stat(
        "Counter utilisation",
        'SELECT sum("occupied_s") / sum("observed_s") AS "utilisation" FROM "utilisation" '
        f'WHERE {COUNTERS} AND "observed_s" > 0 AND $timeFilter',
        grid(6, 0, 6, 4),
        unit="percentunit",
        decimals=1,
        description="Occupied time / observed time of the service counters while open.",
    )


def visits_per_hour() -> Json:
    return timeseries(
        "Visits and exits per hour",
        [
            influxql(
                f'SELECT sum("in_count") AS "visits" FROM "entrance_counts" WHERE {WHERE} '
                f"AND $timeFilter GROUP BY time(1h, {OFFSET}), \"zone\" fill(none) tz('$tz')",
                alias="visits $tag_zone",
            ),
            influxql(
                f'SELECT sum("out_count") AS "exits" FROM "entrance_counts" WHERE {WHERE} '
                f"AND $timeFilter GROUP BY time(1h, {OFFSET}), \"zone\" fill(none) tz('$tz')",
                ref_id="B",
                alias="exits $tag_zone",
            ),
        ],
        grid(0, 4, 24, 8),
        decimals=0,
        defaults={"min": 0, "custom": {"drawStyle": "bars", "fillOpacity": 60}},
        description="An hour without a bar had no counts at all (a silent counter), "
        "not zero visits: a counter sends zeros while it works.",
    )


def visits_per_day() -> Json:
    return timeseries(
        "Visits per day",
        [
            influxql(
                f'SELECT sum("in_count") AS "visits" FROM "entrance_counts" WHERE {WHERE} '
                f"AND $timeFilter GROUP BY time(1d, {OFFSET}), \"zone\" fill(none) tz('$tz')",
                alias="$tag_zone",
            )
        ],
        grid(0, 12, 12, 8),
        decimals=0,
        defaults={"min": 0, "custom": {"drawStyle": "bars", "fillOpacity": 60}},
    )


def counter_utilisation_per_day() -> Json:
    return timeseries(
        "Counter utilisation per day",
        [
            influxql(
                'SELECT sum("occupied_s") / sum("observed_s") AS "utilisation" FROM "utilisation" '
                f'WHERE {COUNTERS} AND "observed_s" > 0 AND $timeFilter '
                "GROUP BY time(1d), \"zone\" fill(none) tz('$tz')",
                alias="$tag_zone",
            )
        ],
        grid(12, 12, 12, 8),
        unit="percentunit",
        defaults={"min": 0, "max": 1},
    )


def per_entrance() -> Json:
    return table(
        "Counts per entrance",
        [
            influxql(
                'SELECT sum("in_count") AS "visits", sum("out_count") AS "exits", '
                'count("in_count") AS "intervals" FROM "entrance_counts" '
                f'WHERE {WHERE} AND $timeFilter GROUP BY "entrance"',
                fmt="table",
            )
        ],
        grid(0, 20, 24, 7),
        description="Intervals: counting intervals received. Fewer than the period holds "
        "means a silent counter (visits undercounted); exits far from visits, a counting "
        "error. The API's /service endpoints flag both per day.",
    )


def panels() -> list[Json]:
    return [
        visits_stat(),
        counter_utilisation_stat(),
        visits_per_hour(),
        visits_per_day(),
        counter_utilisation_per_day(),
        per_entrance(),
    ]
