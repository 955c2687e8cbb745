"""GET /v1/sites/{site}/energy and /energy/closing on the hand-worked energy
week (tests/metrics/energy_week.py), written to a real SQLite store as raw
points and summarised: the figures by hand, the same from raw points, the
exports, the roles, and the closing fit against the what-if engine's
"close floor" answer (POST /v1/portfolio/what-if).

Desks: f1 has a1, a2, b1; f2 has c1. The site's daily desk peak in opening
hours: Mon 2 (a1 and a2 08:30-09:00; c1 10-11), Tue 1 (b1), Wed 1 (a1),
Thu closed, Fri 0. Closing f2 leaves 3 desks, usable 2.7 with 10 % margin:
every weekday fits; it saves zc's 5 h x 50 m² x 0.1 kWh = 25 kWh a weekday,
25 x 365.25 / 7 = 1304.46 kWh (260.89 kg CO2 at 200 g/kWh) a year. Closing
f1 leaves 1 desk, usable 0.9: only Friday (peak 0) fits; f1's Friday is
4 h x 50 m² = 200 m²h: 20 x 365.25 / 7 = 1043.57 kWh a year.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime

import openpyxl
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import create_key
from api.config import ApiSettings
from api.energy import energy_section
from api.records import make_engine, make_sessionmaker
from api.reports import resolve_period
from core.registry import Registry
from storage import AGENT_STATUS, PRESENCE, Point, StoreSettings, open_store
from summaries.summariser import SummaryParams, refresh_site
from tests.api.conftest import Api
from tests.metrics.conftest import local
from tests.metrics.energy_week import HB_S, PRESENCE_ROWS, SITE_BY_ZONE, STATUS_ROWS, week_site

ROLES = ("admin", "facility", "finance", "agency:a")
WEEK = {"from": "2026-03-02", "to": "2026-03-09"}
BASE = "/v1/sites/energyweek"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    tmp = tmp_path_factory.mktemp("energy")
    site = week_site()
    settings = StoreSettings(url=f"sqlite:///{tmp}/occ.db")
    store = open_store(settings)
    points = [
        Point(PRESENCE, site.space_tags(s), {"occupied": o, "hb": HB_S, "seq": i},
              int(local(t).value))
        for i, (t, s, o) in enumerate(PRESENCE_ROWS)
    ] + [
        Point(AGENT_STATUS, {"site": site.id, "agent": a}, {"online": o}, int(local(t).value))
        for t, a, o in STATUS_ROWS
    ]  # fmt: skip
    store.write(points)
    # Monday to Wednesday summarised; Thursday to Sunday from raw points
    days = [datetime(2026, 3, d).date() for d in (2, 3, 4)]
    refresh_site(store, site, SummaryParams(), days=days, now=datetime(2026, 3, 10, tzinfo=UTC))
    records = f"sqlite:///{tmp}/api.db"
    with make_sessionmaker(make_engine(records))() as session:
        keys = {role: create_key(session, role=role, name=role) for role in ROLES}
    app = create_app(
        ApiSettings(store=settings, records_url=records, broker_url=None,
                    rollup_interval_s=0, summaries_interval_s=0),
        registry=Registry({site.id: site}), store=store,
    )  # fmt: skip
    with TestClient(app) as client:
        yield Api(client, keys, site, store)
    store.close()


def test_energy_by_zone_by_hand_from_summaries_and_raw(api: Api) -> None:
    r = api.get(f"{BASE}/energy", by="zone", bucket="year", **WEEK)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["meta"]["energy_days_from_summaries"] == 3
    assert body["meta"]["energy_days_from_raw"] == [f"2026-03-0{d}" for d in range(5, 9)]
    a = body["meta"]["assumptions"]
    assert (
        a["intensity_kwh_per_m2_h"] == 0.1 and a["intensity_kwh_per_m2_h_source"] == "the site file"
    )
    total = next(row for row in body["rows"] if row["level"] == "site")
    for key, value in SITE_BY_ZONE.items():
        assert total[key] == pytest.approx(value), key
    raw = api.get(f"{BASE}/energy", by="zone", bucket="year", source="raw", **WEEK).json()
    assert raw["rows"] == body["rows"]


def test_energy_by_floor_per_day_and_exports(api: Api) -> None:
    r = api.get(f"{BASE}/energy", by="floor", bucket="day", format="csv", **WEEK)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.strip().splitlines()
    assert lines[0].startswith("level,group,period,area_m2,conditioned_h,empty_h")
    # f1 on Tuesday: empty 10-11 only (08-10 a1 unknown, 11-12 b1): 50 m²h, 5 kWh
    tue = next(x for x in lines if x.startswith("floor,f1,2026-03-03")).split(",")
    assert float(tue[8]) == pytest.approx(50.0) and float(tue[12]) == pytest.approx(5.0)
    x = api.get(f"{BASE}/energy", by="floor", bucket="year", format="xlsx", **WEEK)
    sheet = openpyxl.load_workbook(io.BytesIO(x.content)).active
    rows = list(sheet.iter_rows(values_only=True))  # type: ignore[union-attr]
    head = list(rows[0])
    site_row = dict(zip(head, rows[-1], strict=True))
    assert site_row["level"] == "site" and site_row["empty_kwh"] == pytest.approx(157.5)


def test_closing_fits_as_the_what_if_answers(api: Api) -> None:
    r = api.get(f"{BASE}/energy/closing", **WEEK)
    assert r.status_code == 200, r.text
    rows = {(x["floor"], x["weekday"]): x for x in r.json()["rows"]}
    assert {k for k, v in rows.items() if v["recommended"]} == {
        ("f2", d) for d in ("mon", "tue", "wed", "thu", "fri")
    } | {("f1", "fri")}
    f2_mon = rows[("f2", "mon")]
    assert f2_mon["empty_share"] == pytest.approx(0.8)
    assert f2_mon["max_peak"] == 2 and f2_mon["desks_left"] == 3
    assert f2_mon["saving_kwh_year"] == pytest.approx(25 * 365.25 / 7)
    assert f2_mon["saving_kg_co2_year"] == pytest.approx(25 * 365.25 / 7 * 0.2)
    assert rows[("f1", "fri")]["saving_kwh_year"] == pytest.approx(20 * 365.25 / 7)
    assert "Floor 2 was empty 80% of its Monday conditioned hours" in f2_mon["text"]
    assert rows[("f1", "mon")]["fits"] is False and rows[("f1", "mon")]["days_over"] == 1
    for floor in ("f1", "f2"):
        move = {"kind": "close_floor", "site": "energyweek", "floor": floor}
        w = api.post("/v1/portfolio/what-if", role="facility", json={**WEEK, "moves": [move]})
        assert w.status_code == 200, w.text
        (answer,) = w.json()["sites"]
        for day in answer["desks"]["by_day_type"]:
            if day["day_type"] == "all":
                continue
            mine = rows[(floor, day["day_type"])]
            assert (mine["max_peak"], mine["fits"], mine["days_over"], mine["desks_left"]) == (
                day["max_peak"],
                day["fits"],
                day["days_over"],
                day["capacity"],
            ), (floor, day)


def test_energy_section_for_reports(api: Api) -> None:
    period = resolve_period(api.site, from_=datetime(2026, 3, 2).date(),
                            to=datetime(2026, 3, 9).date(), month=None)  # fmt: skip
    section = energy_section(api.store, api.site, period)
    assert section["totals"]["empty_kwh"] == pytest.approx(157.5)  # by floor
    assert [m["period"] for m in section["by_month"]] == ["2026-03"]
    assert len(section["recommendations"]) == 6
    assert section["coverage"]["energy_days_from_summaries"] == 3


# Roles here, not in tests/api/test_access.py's table: that module's app
# allows 20 failed authentications a minute, which its table now fills.
@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("facility", 200),
                                              ("finance", 200), ("agency:a", 403)])  # fmt: skip
@pytest.mark.parametrize("path", ["energy", "energy/closing"])
def test_roles(api: Api, role: str, status: int, path: str) -> None:
    r = api.get(f"{BASE}/{path}", role=role, **WEEK)
    assert r.status_code == status, r.text
    if status == 403:
        assert r.headers["content-type"] == "application/problem+json"


def test_a_key_is_needed(api: Api) -> None:
    assert api.get(f"{BASE}/energy", role=None, **WEEK).status_code == 401
    assert api.get(f"{BASE}/energy/closing", role=None, **WEEK).status_code == 401


@pytest.mark.parametrize(
    ("path", "params"),
    [("energy", {"bucket": "week"}), ("energy", {"by": "space"}),
     ("energy/closing", {"margin": "1"}), ("energy", {"from": "2026-03-09", "to": "2026-03-02"})],
)  # fmt: skip
def test_bad_parameters_are_422(api: Api, path: str, params: dict[str, str]) -> None:
    r = api.get(f"{BASE}/{path}", **{**WEEK, **params})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
