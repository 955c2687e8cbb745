"""Template variables shared by the dashboards: InfluxQL ``SHOW TAG VALUES``
queries, each narrowed by the variables before it (zone by site and floor)."""

from __future__ import annotations

from dashboards.model import Json, query_variable, textbox_variable


def site(measurement: str = "presence") -> Json:
    return query_variable("site", "Site", f'SHOW TAG VALUES FROM "{measurement}" WITH KEY = "site"')


def floor() -> Json:
    return query_variable(
        "floor",
        "Floor",
        'SHOW TAG VALUES FROM "presence" WITH KEY = "floor" WHERE "site" =~ /^$site$/',
    )


def zone() -> Json:
    return query_variable(
        "zone",
        "Zone",
        'SHOW TAG VALUES FROM "presence" WITH KEY = "zone" '
        'WHERE "site" =~ /^$site$/ AND "floor" =~ /^$floor$/',
    )


def service_zone() -> Json:
    # the zones that entrances count for (service points), not every zone of the site
    return query_variable(
        "zone",
        "Service point",
        'SHOW TAG VALUES FROM "entrance_counts" WITH KEY = "zone" WHERE "site" =~ /^$site$/',
    )


# Agency "_site" in the efficiency rows is the whole site, not an agency: it is
# left out of the choices, and "All" must not match it either.
AGENCY_ALL = "[^_].*"


def agency(measurement: str) -> Json:
    return query_variable(
        "agency",
        "Agency",
        f'SHOW TAG VALUES FROM "{measurement}" WITH KEY = "agency" '
        'WHERE "site" =~ /^$site$/ AND "agency" !~ /^_/',
        all_value=AGENCY_ALL,
    )


def timezone(default: str = "Europe/Helsinki") -> Json:
    # Day boundaries of daily peaks follow the site's own time zone (DESIGN.md, "Metrics").
    return textbox_variable("tz", "Site time zone", default)
