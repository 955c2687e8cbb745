"""The Service points dashboard (dashboards/panels/service.py): every panel
query and variable query runs against a real InfluxDB holding the
hand-worked service day of tests/metrics/service_day.py, written by the
project's store as the ingest writes it (``counts_point``), and returns the
figures worked out by hand there. A second site ("muu") proves the site
filter. Grafana itself cannot run here; the InfluxQL it would send is run
after the substitution Grafana performs (``dashboards.interpolate``), as in
test_queries.py."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dashboards.build import GENERATED, build_all, load_generated
from dashboards.interpolate import ALL, all_values_of, interpolate, time_range
from storage import UTILISATION, Point, StoreSettings, open_store
from storage.points import counts_point
from tests.dashboards.conftest import find_panel, normalise
from tests.metrics import service_day as day
from tests.servers import InfluxServer

FILE = "service.json"
# the local day 2026-11-02 (Helsinki, UTC+2), as Grafana's "today" would send it
START = datetime(2026, 11, 1, 22, tzinfo=UTC)
END = START + timedelta(hours=24) - timedelta(seconds=1)
ALL_ZONES = {"site": "palvelu", "zone": ALL}
ASIAKAS = {"site": "palvelu", "zone": "asiakas"}


def _utilisation(
    space: str, zone: str, kind: str, rows: list[tuple[int, float, float]]
) -> list[Point]:
    # 15-minute rollup rows from 10:00 local (08:00 UTC): (bucket, occupied_s, observed_s)
    t0 = datetime(2026, 11, 2, 8, tzinfo=UTC)
    tags = {"site": "palvelu", "floor": "f1", "zone": zone, "space": space, "space_type": kind}
    return [
        Point(
            UTILISATION,
            tags,
            {"occupied_s": occ, "opening_s": 900.0, "observed_s": obs},
            int((t0 + timedelta(minutes=15 * k)).timestamp()) * 1_000_000_000,
        )
        for k, occ, obs in rows
    ]


@pytest.fixture(scope="module")
def db(influx: InfluxServer) -> Iterator[str]:
    name = f"service_dash_{uuid.uuid4().hex[:8]}"
    store = open_store(StoreSettings(url=influx.url, database=name))
    site = day.site()
    other = site.model_copy(update={"id": "muu"})
    points = day.counts_points(site)
    points.append(counts_point(other, day.count_msg("ovi", 10, 50, 50)))
    # counters: p1 2 x 900 s occupied of 4 x 900 observed; p2 450 of 3 x 900
    # (its 4th bucket unobserved); a desk in za that the service_point filter leaves out
    points += _utilisation(
        "p1",
        "asiakas",
        "service_point",
        [(0, 900.0, 900.0), (1, 900.0, 900.0), (2, 0.0, 900.0), (3, 0.0, 900.0)],
    )
    points += _utilisation(
        "p2",
        "asiakas",
        "service_point",
        [(0, 450.0, 900.0), (1, 0.0, 900.0), (2, 0.0, 900.0), (3, 0.0, 0.0)],
    )
    points += _utilisation("a1", "za", "desk", [(0, 900.0, 900.0)])
    store.write(points)
    store.close()
    yield name


@pytest.fixture(scope="module")
def model() -> dict[str, Any]:
    return load_generated(GENERATED)[FILE]


def run(
    influx: InfluxServer,
    db: str,
    model: dict[str, Any],
    title: str,
    ref: str = "A",
    variables: dict[str, Any] = ALL_ZONES,
) -> list[dict[str, Any]]:
    panel = find_panel(model, title)
    (target,) = [t for t in panel["targets"] if t["refId"] == ref]
    lo, hi = time_range(start=START, end=END, time_from=panel.get("timeFrom"))
    query = interpolate(
        target["query"],
        variables=variables,
        start=lo,
        end=hi,
        textboxes={"tz": "Europe/Helsinki"},
        all_values=all_values_of(model),
    )
    return normalise(influx.query(query, db=db, epoch="s"))


HOURS = [h for h, _, _ in day.OVI]


def _local_hour(epoch_s: int) -> int:
    return (datetime.fromtimestamp(epoch_s, UTC).astimezone(day.TZ)).hour


CASES: list[tuple[str, str, dict[str, Any], Any]] = [
    ("Visits in the period", "A", ALL_ZONES, [{"visits": 50}]),  # 47 + 3; muu's 50 left out
    ("Visits in the period", "A", ASIAKAS, [{"visits": 47}]),
    ("Counter utilisation", "A", ALL_ZONES, [{"utilisation": round(2250 / 6300, 9)}]),
    (
        "Visits per day",
        "A",
        ALL_ZONES,
        [{"zone": "asiakas", "visits": 47}, {"zone": "za", "visits": 3}],
    ),
    (
        "Counter utilisation per day",
        "A",
        ALL_ZONES,
        [{"zone": "asiakas", "utilisation": round(2250 / 6300, 9)}],
    ),
    (
        "Counts per entrance",
        "A",
        ALL_ZONES,
        [
            {"entrance": "ovi", "visits": 47, "exits": 47, "intervals": 9},
            {"entrance": "takaovi", "visits": 3, "exits": 3, "intervals": 1},
        ],
    ),
]


@pytest.mark.parametrize(
    ("title", "ref", "variables", "expected"),
    CASES,
    ids=[f"{c[0]}:{'all' if c[2]['zone'] is ALL else c[2]['zone']}" for c in CASES],
)
def test_panel(
    influx: InfluxServer,
    db: str,
    model: dict[str, Any],
    title: str,
    ref: str,
    variables: dict[str, Any],
    expected: Any,
) -> None:
    rows = [
        {k: v for k, v in r.items() if k != "time"}
        for r in run(influx, db, model, title, ref, variables)
    ]
    assert sorted(rows, key=json.dumps) == sorted(expected, key=json.dumps)


def test_visits_and_exits_per_hour_fall_in_the_hour_the_interval_starts(
    influx: InfluxServer, db: str, model: dict[str, Any]
) -> None:
    visits = run(influx, db, model, "Visits and exits per hour", "A", ASIAKAS)
    exits = run(influx, db, model, "Visits and exits per hour", "B", ASIAKAS)
    assert [(_local_hour(r["time"]), r["visits"]) for r in visits] == [
        (h, i) for h, i, _ in day.OVI
    ]
    assert [(_local_hour(r["time"]), r["exits"]) for r in exits] == [(h, o) for h, _, o in day.OVI]


def test_variables(influx: InfluxServer, db: str, model: dict[str, Any]) -> None:
    got = {}
    for var in model["templating"]["list"]:
        if var["type"] != "query":
            continue
        q = interpolate(var["query"], variables={"site": "palvelu"}, start=START, end=END)
        got[var["name"]] = sorted(r["value"] for r in normalise(influx.query(q, db=db)))
    assert got == {"site": ["muu", "palvelu"], "zone": ["asiakas", "za"]}


def test_every_panel_query_is_checked_here() -> None:
    targets = {(p["title"], t["refId"]) for p in build_all()[FILE]["panels"] for t in p["targets"]}
    covered = {(c[0], c[1]) for c in CASES} | {
        ("Visits and exits per hour", "A"),
        ("Visits and exits per hour", "B"),
    }
    assert targets == covered
