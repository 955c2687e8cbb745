"""Every panel of the Service points dashboard, run against a real InfluxDB,
returns what the api's /service routes compute from the same data.

The data: two days of minute counts at both entrances of the site of
tests/api/data/palvelu.yaml (seeded random arrivals, 07:00-18:00 local,
Monday and Tuesday 2-3 November 2026), written as the ingest writes them
(``counts_point``), and the hand-worked counter presence of Monday, rolled
up through the api's own ``POST .../rollups`` (which writes the
``utilisation`` rows the counter panels read). Grafana cannot run here; the
InfluxQL it would send runs after its substitution (``dashboards.interpolate``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import create_key
from api.config import ApiSettings
from api.records import make_engine, make_sessionmaker
from core.registry import Registry
from dashboards.build import build_all
from dashboards.interpolate import ALL, all_values_of, interpolate, time_range
from storage import StoreSettings, open_store
from storage.points import counts_point
from tests.dashboards.conftest import find_panel, normalise
from tests.metrics import service_day as day
from tests.servers import InfluxServer

FILE = "service.json"
START = datetime(2026, 11, 1, 22, tzinfo=UTC)  # Monday 00:00 in Helsinki
END = START + timedelta(days=2) - timedelta(seconds=1)
PERIOD = {"from": "2026-11-02", "to": "2026-11-04"}
VARS = {"site": "palvelu", "zone": ALL}


@pytest.fixture(scope="module")
def setup(influx: InfluxServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp: Path = tmp_path_factory.mktemp("svc-vs-api")
    settings = StoreSettings(url=influx.url, database=f"svc_api_{uuid.uuid4().hex[:8]}")
    store = open_store(settings)
    site = day.site()
    rng = np.random.default_rng(19)
    points = []
    for d, date_text in enumerate(("2026-11-02", "2026-11-03")):
        for entrance, sensor, rate in (("ovi", "c-ovi", 0.8), ("takaovi", "c-taka", 0.1)):
            minutes = range(7 * 60, 18 * 60)
            ins, outs = rng.poisson(rate, len(minutes)), rng.poisson(rate, len(minutes))
            for k, m in enumerate(minutes):
                msg = day.count_msg(
                    entrance,
                    m / 60,
                    int(ins[k]),
                    int(outs[k]),
                    hours=1 / 60,
                    seq=d * 10_000 + k,
                    day=date_text,
                    sensor=sensor,
                )
                points.append(counts_point(site, msg))
    points += day.presence_points(site)
    store.write(points)
    records = f"sqlite:///{tmp}/api.db"
    with make_sessionmaker(make_engine(records))() as session:
        key = create_key(session, role="facility", name="facility")
    api_settings = ApiSettings(
        registry=day.SITE_FILE,
        store=settings,
        records_url=records,
        broker_url=None,
        rollup_interval_s=0,
        feeds_poll_interval_s=0,
        summaries_interval_s=0,
    )
    app = create_app(api_settings, registry=Registry({site.id: site}), store=store)
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {key}"}
        r = client.post("/v1/sites/palvelu/rollups", headers=headers, params=PERIOD)
        assert r.status_code == 200, r.text
        yield client, headers, influx, settings.database, len(points)
    store.close()


def _api(setup: Any, path: str, **params: Any) -> list[dict[str, Any]]:
    client, headers, *_ = setup
    r = client.get(
        f"/v1/sites/palvelu/service/{path}", headers=headers, params={**PERIOD, **params}
    )
    assert r.status_code == 200, r.text
    rows: list[dict[str, Any]] = r.json()["rows"]
    return rows


def _panel(setup: Any, title: str, ref: str = "A") -> list[dict[str, Any]]:
    _, _, influx, db, _ = setup
    model = build_all()[FILE]
    panel = find_panel(model, title)
    (target,) = [t for t in panel["targets"] if t["refId"] == ref]
    lo, hi = time_range(start=START, end=END, time_from=panel.get("timeFrom"))
    query = interpolate(
        target["query"],
        variables=VARS,
        start=lo,
        end=hi,
        textboxes={"tz": "Europe/Helsinki"},
        all_values=all_values_of(model),
    )
    return normalise(influx.query(query, db=db, epoch="s"))


def _local(epoch_s: int) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).astimezone(day.TZ).strftime("%Y-%m-%dT%H")


def test_visits_in_the_period(setup: Any) -> None:
    total = sum(r["visits"] for r in _api(setup, "visits", bucket="day"))
    assert total > 1000  # the data is not trivial
    assert _panel(setup, "Visits in the period") == [
        {"time": int(START.timestamp()), "visits": total}
    ]


def test_visits_per_day(setup: Any) -> None:
    want = {
        (r["zone"], r["day"][:10]): r["visits"]
        for r in _api(setup, "visits", bucket="day", by="zone")
    }
    got = {
        (r["zone"], _local(r["time"])[:10]): r["visits"] for r in _panel(setup, "Visits per day")
    }
    assert got == want


@pytest.mark.parametrize(("ref", "field"), [("A", "visits"), ("B", "exits")])
def test_visits_and_exits_per_hour(setup: Any, ref: str, field: str) -> None:
    want = {
        (r["zone"], r["bucket"][:13]): r[field]
        for r in _api(setup, "visits", bucket="hour", by="zone")
    }
    got = {
        (r["zone"], _local(r["time"])): r[field]
        for r in _panel(setup, "Visits and exits per hour", ref)
    }
    assert got == want and len(got) == 2 * 2 * 11


def test_counts_per_entrance(setup: Any) -> None:
    days = _api(setup, "visits", bucket="day")
    want = {}
    for r in days:
        v, e = want.get(r["entrance"], (0, 0))
        want[r["entrance"]] = (v + r["visits"], e + r["exits"])
    rows = _panel(setup, "Counts per entrance")
    assert {r["entrance"]: (r["visits"], r["exits"]) for r in rows} == want
    n_points = setup[4] - len(day.presence_points(day.site()))
    assert sum(r["intervals"] for r in rows) == n_points


def test_counter_utilisation(setup: Any) -> None:
    (row,) = [r for r in _api(setup, "summary") if r["zone"] == "asiakas"]
    assert row["counter_utilisation"] == pytest.approx(day.COUNTER_UTILISATION, rel=1e-12)
    (stat,) = _panel(setup, "Counter utilisation")
    assert stat["utilisation"] == pytest.approx(row["counter_utilisation"], abs=1e-9)
    per_day = _panel(setup, "Counter utilisation per day")
    # Tuesday has no presence: unobserved, so no figure (not 0)
    assert [(r["zone"], _local(r["time"])[:10]) for r in per_day] == [("asiakas", "2026-11-02")]
    assert per_day[0]["utilisation"] == pytest.approx(row["counter_utilisation"], abs=1e-9)


def test_every_panel_is_cross_checked_here() -> None:
    import inspect
    import sys

    source = inspect.getsource(sys.modules[__name__])
    titles = {p["title"] for p in build_all()[FILE]["panels"]}
    assert sorted(t for t in titles if f'"{t}"' not in source) == []
