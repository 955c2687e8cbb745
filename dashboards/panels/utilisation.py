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
# Rows without observed time add nothing to either sum (occupied <= observed);
# leaving them out makes a bucket seen by no sensor empty, as in the api,
# instead of InfluxQL's 0 for 0 / 0.
OBSERVED = '"observed_s" > 0'
BUCKET_S = 900  # the rollup's bucket width


def utilisation_stat() -> Json:
    return stat(
        "Utilisation",
        f'SELECT {RATIO} AS "utilisation" FROM "utilisation" WHERE {WHERE} AND {OBSERVED} '
        "AND $timeFilter",
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


# The api's ``heatmap`` rollup carries the local weekday and hour as tags
# (InfluxQL cannot group by weekday), so the query returns one row per cell
# and Grafana only lays the rows out as a matrix.
HEATMAP_TRANSFORMS: list[Json] = [
    # One table even if the datasource answers with a frame per tag set.
    {"id": "merge", "options": {}},
    {
        "id": "groupingToMatrix",
        "options": {"columnField": "weekday", "rowField": "hour", "valueField": "utilisation"},
    },
]


def weekday_hour_heatmap() -> Json:
    return panel(
        "table",
        "Utilisation by weekday and hour",
        [
            influxql(
                f'SELECT {RATIO} AS "utilisation" FROM "heatmap" WHERE {WHERE} AND {OBSERVED} '
                'AND $timeFilter GROUP BY "hour", "weekday"',
                fmt="table",
            )
        ],
        grid(0, 4, 24, 10),
        description=(
            "Rows: local hour of day, columns: weekday (the site's time zone); each cell is "
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
                f'SELECT {RATIO} FROM "utilisation" WHERE {WHERE} AND {OBSERVED} AND $timeFilter '
                f"GROUP BY time($__interval), \"{tag}\" fill(none) tz('$tz')",
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


FLOORS = tag_filter("site", "floor")


def _busy_per_day(where: str, by: str = "") -> str:
    # Per 15-minute bucket, occupied seconds / 900 is the mean number of spaces
    # occupied during it; its mean over the day's open buckets (rows exist only
    # for buckets with opening time) is the day's average occupancy.
    group = f', "{by}"' if by else ""
    busy = (
        f'SELECT sum("occupied_s") / {BUCKET_S} AS "busy" FROM "utilisation" '
        f'WHERE {where} AND "opening_s" > 0 AND $timeFilter GROUP BY time(15m){group} fill(none)'
    )
    return (
        f'SELECT mean("busy") AS "average" FROM ({busy}) '
        f"WHERE $timeFilter GROUP BY time(1d){group} fill(none) tz('$tz')"
    )


def peak_against_average() -> Json:
    return timeseries(
        "Daily peak against average (occupied spaces)",
        [
            influxql(
                'SELECT "peak" FROM "peaks" WHERE "site" =~ /^$site$/ AND "floor" =~ /^$floor$/ '
                'AND "floor" != \'_site\' AND $timeFilter GROUP BY "floor"',
                alias="peak $tag_floor",
            ),
            influxql(_busy_per_day(FLOORS, "floor"), ref_id="B", alias="average $tag_floor"),
            influxql(
                'SELECT "peak" FROM "peaks" WHERE "site" =~ /^$site$/ AND "floor" = \'_site\' '
                "AND $timeFilter",
                ref_id="C",
                alias="peak (site)",
            ),
            influxql(_busy_per_day('"site" =~ /^$site$/'), ref_id="D", alias="average (site)"),
        ],
        grid(0, 22, 24, 8),
        description=(
            "Peak: the most spaces occupied at the same moment of the day, exact from the "
            "api's event sweep (per floor and for the whole site; the zone selection does "
            "not apply, as peaks do not add up). Average: spaces occupied on average during "
            "the day's opening hours."
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
