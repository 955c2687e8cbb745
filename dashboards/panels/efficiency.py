"""Space efficiency (tilatehokkuus) per agency and for the whole site, from the
api's monthly ``efficiency`` rows (tags site agency month; agency "_site" is
the site as a whole)."""

from __future__ import annotations

from dashboards.model import (
    Json,
    bargauge,
    grid,
    influxql,
    stat,
    table,
    tag_filter,
    thresholds,
    timeseries,
)
from storage.base import EFFICIENCY_FIELDS

WHERE = tag_filter("site", "agency")
SITE_ROW = '"site" =~ /^$site$/ AND "agency" = \'_site\''


def site_m2_per_htv() -> Json:
    return stat(
        "Site m² per htv (latest month)",
        f'SELECT last("m2_per_htv") FROM "efficiency" WHERE {SITE_ROW} AND $timeFilter',
        grid(0, 0, 6, 4),
        decimals=1,
        unit="none",
    )


def site_target() -> Json:
    return stat(
        "Target m² per htv",
        f'SELECT last("target_m2_per_htv") FROM "efficiency" WHERE {SITE_ROW} AND $timeFilter',
        grid(6, 0, 6, 4),
        decimals=1,
        unit="none",
    )


def site_use_rate() -> Json:
    return stat(
        "Site use rate (latest month)",
        f'SELECT last("use_rate") FROM "efficiency" WHERE {SITE_ROW} AND $timeFilter',
        grid(12, 0, 6, 4),
        unit="percentunit",
        decimals=1,
    )


def latest_per_agency() -> Json:
    select = ", ".join(f'last("{f}") AS "{f}"' for f in EFFICIENCY_FIELDS)
    return table(
        "Latest month per agency",
        [
            influxql(
                f'SELECT {select} FROM "efficiency" WHERE {WHERE} AND $timeFilter '
                'GROUP BY "agency"',
                fmt="table",
            )
        ],
        grid(0, 4, 24, 8),
        description=(
            "m² per htv: area attributed by share of use / person-years. Use rate: peak "
            "concurrent desks in use / headcount. Desk-sharing ratio: headcount / desks."
        ),
    )


def m2_per_htv_trend() -> Json:
    return timeseries(
        "m² per htv per agency against target",
        [
            influxql(
                f'SELECT "m2_per_htv" FROM "efficiency" WHERE {WHERE} AND $timeFilter '
                'GROUP BY "agency"',
                alias="$tag_agency",
            ),
            influxql(
                f'SELECT "target_m2_per_htv" FROM "efficiency" WHERE {SITE_ROW} AND $timeFilter',
                ref_id="B",
                alias="target",
            ),
        ],
        grid(0, 12, 12, 8),
        decimals=1,
    )


def use_rate_trend() -> Json:
    return timeseries(
        "Use rate per agency",
        [
            influxql(
                f'SELECT "use_rate" FROM "efficiency" WHERE {WHERE} AND $timeFilter '
                'GROUP BY "agency"',
                alias="$tag_agency",
            )
        ],
        grid(12, 12, 12, 8),
        unit="percentunit",
        defaults={"min": 0},
    )


def desk_sharing() -> Json:
    return bargauge(
        "Desk-sharing ratio (latest month)",
        [
            influxql(
                f'SELECT last("desk_sharing_ratio") FROM "efficiency" WHERE {WHERE} '
                'AND $timeFilter GROUP BY "agency"',
                alias="$tag_agency",
            )
        ],
        grid(0, 20, 24, 6),
        decimals=2,
        defaults={"min": 0, "thresholds": thresholds((None, "orange"), (1.2, "green"))},
        description="Headcount per desk; above 1 the agency shares desks.",
    )


def panels() -> list[Json]:
    return [
        site_m2_per_htv(),
        site_target(),
        site_use_rate(),
        latest_per_agency(),
        m2_per_htv_trend(),
        use_rate_trend(),
        desk_sharing(),
    ]
