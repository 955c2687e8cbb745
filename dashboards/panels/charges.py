"""Charges (finance): the usage-based charge per agency per month from the
api's ``charges`` lines (tags site agency month line; line "base" is the
headcount share, the others are space types)."""

from __future__ import annotations

from dashboards.model import Json, grid, influxql, stat, table, tag_filter, timeseries

WHERE = tag_filter("site", "agency")


def total() -> Json:
    return stat(
        "Charged in period",
        f'SELECT sum("amount_eur") FROM "charges" WHERE {WHERE} AND $timeFilter',
        grid(0, 0, 8, 4),
        unit="currencyEUR",
        decimals=2,
        description="With every agency selected this is the cost recovered, to the cent.",
    )


def estimated_lines() -> Json:
    return stat(
        "Lines from low-coverage data",
        f'SELECT count("amount_eur") FROM "charges" WHERE {WHERE} AND "estimated" = 1 '
        "AND $timeFilter",
        grid(8, 0, 8, 4),
        defaults={"noValue": "0"},
    )


def per_agency_month() -> Json:
    return table(
        "Charge per agency and month",
        [
            influxql(
                'SELECT sum("amount_eur") AS "amount_eur", sum("hours") AS "hours", '
                'sum("weighted_hours") AS "weighted_hours", min("coverage") AS "min_coverage" '
                f'FROM "charges" WHERE {WHERE} AND $timeFilter GROUP BY "month", "agency"',
                fmt="table",
            )
        ],
        grid(0, 4, 24, 8),
        overrides=[
            {
                "matcher": {"id": "byName", "options": "amount_eur"},
                "properties": [
                    {"id": "unit", "value": "currencyEUR"},
                    {"id": "decimals", "value": 2},
                ],
            },
            {
                "matcher": {"id": "byName", "options": "min_coverage"},
                "properties": [{"id": "unit", "value": "percentunit"}],
            },
        ],
    )


def monthly_bars() -> Json:
    return timeseries(
        "Monthly charge per agency",
        [
            influxql(
                f'SELECT sum("amount_eur") FROM "charges" WHERE {WHERE} AND $timeFilter '
                # Hour buckets: a month's lines share the local month start
                # (22:00 or 21:00 UTC in Helsinki), which a UTC day bucket
                # would move to the day before, i.e. into the previous month.
                'GROUP BY time(1h), "agency" fill(none)',
                alias="$tag_agency",
            )
        ],
        grid(0, 12, 24, 8),
        unit="currencyEUR",
        defaults={
            "custom": {"drawStyle": "bars", "fillOpacity": 80, "stacking": {"mode": "normal"}}
        },
        description="One bar per agency at the start of each month.",
    )


def lines() -> Json:
    return table(
        "Charge lines (audit)",
        [
            influxql(
                'SELECT "amount_eur", "hours", "weighted_hours", "coverage", "estimated", '
                f'"tariff_version" FROM "charges" WHERE {WHERE} AND $timeFilter '
                'GROUP BY "month", "agency", "line"',
                fmt="table",
            )
        ],
        grid(0, 20, 24, 10),
        description="Each line traces to the charge run in the api (statement per agency).",
    )


def panels() -> list[Json]:
    return [total(), estimated_lines(), per_agency_month(), monthly_bars(), lines()]
