"""POST /v1/portfolio/what-if on a hand-worked Monday (2 November 2026) at
two copies of the small site (tests/api/data/small.yaml: desks a1..a5 in aa's
zone za, b1, b2 in bb's zone zb, shared desks s1..s3 and room r1 in zs; 200
m²; aa 8 htv, bb 4 htv), written to a real SQLite store as presence points.

Site ``pieni`` (a), local times:
    a1, a2, a3 (aa)  08:00-11:00   -> aa's dedicated presence 3
    s1 (shared)      08:00-10:00   -> aa's headcount share 8/12 of it
    r1 (shared room) 08:00-09:00
    b1 (bb)          12:00-14:00
Site ``toinen`` (b): the same site with zone zb on a second floor f2 (40 m²):
    a1..a5, b1, b2   11:00-15:00   -> 7 desks
    r1               13:00-15:00

Moving aa from a to b: b's desk demand is 3 + 2/3 from 08 to 10, 3 from 10
to 11, 7 from 11 to 15: peak 7 of 10 desks. The sum of the sources' peaks is
7 + 3 + 2/3 = 10.67 > 10: the shortcut says it does not fit; it does.
Rooms: 2/3 from 08 to 09, 1 from 13 to 15: peak 1 of 1 (sum of peaks 5/3).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from api import whatif
from api.app import create_app
from api.auth import create_key
from api.config import ApiSettings
from api.records import make_engine, make_sessionmaker
from core.messages import Presence
from core.registry import Registry, Site, load_site
from storage import Point, StoreSettings, open_store
from storage.points import presence_point
from tests.api.conftest import SMALL_SITE, Api

DAY = datetime(2026, 11, 2, tzinfo=ZoneInfo("Europe/Helsinki"))
ROLES = ("admin", "facility", "finance", "agency:aa")
SPELLS = {
    "pieni": {
        **{s: (8, 11) for s in ("a1", "a2", "a3")},
        **{"s1": (8, 10), "r1": (8, 9), "b1": (12, 14)},
    },
    "toinen": {**{s: (11, 15) for s in ("a1", "a2", "a3", "a4", "a5", "b1", "b2")}, "r1": (13, 15)},
}
TARIFF = """
name: Test
versions:
- version: "1"
  effective_from: 2026-01-01
  sites:
    pieni:
      cost_to_recover_eur: 2000.00
      base_share: 0.5
      weights: {desk: 1.0, meeting_room: 1.0}
"""
MOVE = {"kind": "move_agency", "agency": "aa", "from_site": "pieni", "to_site": "toinen"}
PERIOD = {"from": "2026-11-02", "to": "2026-11-03"}


def second_site(site: Site) -> Site:
    data = site.model_dump(mode="python")
    data["id"] = "toinen"
    data["floors"][0]["image"] = None
    data["floors"].append({**data["floors"][0], "id": "f2", "level": 2, "area_m2": 40})
    for zone in data["zones"]:
        if zone["id"] == "zb":
            zone["floor"] = "f2"
    return Site.model_validate(data)


def points(site: Site) -> list[Point]:
    out: list[Point] = []
    spells = SPELLS[site.id]

    def add(space: str, h: float, kind: str, seq: int) -> None:
        a, b = spells.get(space, (0, 0))
        occupied = a <= h < b
        msg = Presence(
            space_id=space,
            agent_id="ag",
            sensor_id=f"s-{space}",
            occupied=occupied,
            people_count=(1 if occupied else 0) if space == "r1" else None,
            event_time=(DAY + timedelta(hours=h)).astimezone(UTC),
            seq=seq,
            kind=kind,  # type: ignore[arg-type]
            heartbeat_interval_s=3600,
        )
        out.append(presence_point(site, msg))

    for space in (s.id for s in site.spaces):
        for h in range(7, 17):
            add(space, h, "heartbeat", len(out) + 1)
        for h in spells.get(space, ()):
            add(space, h, "change", len(out) + 1)
    return out


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    tmp = tmp_path_factory.mktemp("whatif")
    first = load_site(SMALL_SITE)
    sites = [first, second_site(first)]
    store_settings = StoreSettings(url=f"sqlite:///{tmp}/occ.db")
    store = open_store(store_settings)
    for site in sites:
        store.write(points(site))
    (tmp / "tariff.yaml").write_text(TARIFF)
    records = f"sqlite:///{tmp}/api.db"
    with make_sessionmaker(make_engine(records))() as session:
        keys = {role: create_key(session, role=role, name=role) for role in ROLES}
    settings = ApiSettings(
        store=store_settings,
        records_url=records,
        broker_url=None,
        tariffs=tmp / "tariff.yaml",
        rollup_interval_s=0,
        summaries_interval_s=0,
    )
    app = create_app(settings, registry=Registry({s.id: s for s in sites}), store=store)
    with TestClient(app) as client:
        yield Api(client, keys, first, store)
    store.close()


def ask(api: Api, role: str = "finance", **body: Any) -> Any:
    return api.post("/v1/portfolio/what-if", role=role, json={**PERIOD, **body})


def by_site(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["site"]: s for s in answer["sites"]}


def test_aligned_peak_fits_where_the_sum_of_peaks_does_not(api: Api) -> None:
    r = ask(api, moves=[MOVE], margin=0)
    assert r.status_code == 200, r.text
    got = by_site(r.json())
    b = got["toinen"]
    assert b["role"] == "target" and b["days"] == 1
    assert b["desks"]["capacity"] == 10
    assert b["desks"]["max_peak"] == pytest.approx(7)
    assert b["desks"]["sum_of_peaks_max"] == pytest.approx(7 + 3 + 8 / 12)
    assert b["desks"]["fits"] is True
    (mon, whole) = b["desks"]["by_day_type"]
    assert mon["day_type"] == "mon" and whole["day_type"] == "all"
    assert mon["headroom"] == pytest.approx(3) and mon["days_over"] == 0
    assert b["rooms"]["capacity"] == 1 and b["rooms"]["max_peak"] == pytest.approx(1)
    assert b["rooms"]["sum_of_peaks_max"] == pytest.approx(1 + 8 / 12) and b["rooms"]["fits"]
    # m²/htv after: aa 8 + 8 htv, bb 4; 200 m²: dedicated aa 30, bb 12, the
    # rest 158 by headcount
    agencies = {a["agency"]: a for a in b["agencies"]}
    assert agencies["aa"]["headcount_htv"] == 16
    assert agencies["aa"]["m2_per_htv"] == pytest.approx((30 + 158 * 16 / 20) / 16)
    assert agencies["bb"]["m2_per_htv"] == pytest.approx((12 + 158 * 4 / 20) / 4)
    assert agencies["_site"]["m2_per_htv"] == pytest.approx(10)
    assert b["released_m2"] == 0 and b["cost_released"]["eur_per_month"] is None
    # the source keeps bb's desk and 1/3 of the shared desk; aa's zone (30 m²) is released
    a = got["pieni"]
    assert a["role"] == "source" and a["desks"]["capacity"] == 5
    assert a["desks"]["max_peak"] == pytest.approx(1)
    assert a["released_m2"] == 30
    assert a["cost_released"]["eur_per_month"] == pytest.approx(2000 * 30 / 200)
    assert {x["agency"] for x in a["agencies"]} == {"bb", "_site"}
    assert a["agencies"][-1]["m2_per_htv"] == pytest.approx(170 / 4)
    assert "headcount share" in r.json()["meta"]["shared_rule"]


def test_shared_use_left_out(api: Api) -> None:
    got = by_site(ask(api, moves=[MOVE], margin=0, shared="left_out").json())
    assert got["toinen"]["desks"]["sum_of_peaks_max"] == pytest.approx(10)
    assert got["pieni"]["desks"]["max_peak"] == pytest.approx(1)  # s1 stays whole


def test_close_floor_that_does_not_fit_with_the_margin(api: Api) -> None:
    close = {"kind": "close_floor", "site": "toinen", "floor": "f2"}
    r = ask(api, moves=[MOVE, close], margin=0.2)
    assert r.status_code == 200, r.text
    b = by_site(r.json())["toinen"]
    # b1, b2 (on f2) still come: 7 desks in use, 8 left, usable 8 x 0.8 = 6.4
    assert b["desks"]["capacity"] == 8 and b["desks"]["max_peak"] == pytest.approx(7)
    assert b["desks"]["fits"] is False
    whole = b["desks"]["by_day_type"][-1]
    assert whole["days_over"] == 1 and whole["headroom"] == pytest.approx(6.4 - 7)
    assert b["released_m2"] == 40 and b["released_floors"] == ["f2"]
    # the same floor closed alone, 10 % margin: usable 7.2, 7 fits
    alone = by_site(ask(api, moves=[close]).json())
    assert list(alone) == ["toinen"] and alone["toinen"]["desks"]["fits"] is True


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"moves": [{**MOVE, "to_site": "nowhere"}]}, "moves[0].to_site: no site 'nowhere'"),
        ({"moves": [{**MOVE, "agency": "zz"}]}, "moves[0].agency: agency 'zz' has no staff"),
        ({"moves": [{**MOVE, "to_site": "pieni"}]}, "must differ"),
        (
            {"moves": [{"kind": "close_floor", "site": "pieni", "floor": "f9"}]},
            "has no floor 'f9'",
        ),
        ({"moves": [{"kind": "close_floor", "site": "pieni", "floor": "f1"}]}, "every floor"),
        ({"moves": [MOVE, MOVE]}, "twice"),
        ({"moves": []}, "at least 1"),
        ({"moves": [{**MOVE, "kind": "merge"}]}, "move_agency"),
        ({"moves": [{**MOVE, "people": 3}]}, "Extra inputs"),
        ({"moves": [MOVE], "margin": 1}, "less than 1"),
        ({"moves": [MOVE], "to": "2026-11-01"}, "must be after from"),
    ],
)
def test_bad_plans_are_422(api: Api, body: dict[str, Any], says: str) -> None:
    r = ask(api, **body)
    assert r.status_code == 422, r.text
    assert says in r.text


def test_roles(api: Api) -> None:
    for role in ("admin", "facility"):
        assert ask(api, role=role, moves=[MOVE]).status_code == 200
    r = ask(api, role="agency:aa", moves=[MOVE])
    assert r.status_code == 403 and "role" in r.text
    # before its plan is judged: a bad plan tells an agency key nothing either
    assert ask(api, role="agency:aa", moves=[{**MOVE, "agency": "zz"}]).status_code == 403
    assert ask(api, role="agency:aa", moves=[]).status_code == 403
    anonymous = api.client.post("/v1/portfolio/what-if", json={**PERIOD, "moves": [MOVE]})
    assert anonymous.status_code == 401


def test_no_tariff_says_so(tmp_path: Path) -> None:
    from api.reports import resolve_period
    from api.whatif import _cost_released

    site = load_site(SMALL_SITE)
    period = resolve_period(site, from_=DAY.date(), to=DAY.date() + timedelta(days=1), month=None)
    got = _cost_released(site, 30, period, None)
    assert got["eur_per_month"] is None and "no tariff" in got["note"]


def test_a_period_without_data_fits_trivially(api: Api) -> None:
    r = api.post(
        "/v1/portfolio/what-if",
        role="admin",
        json={"from": "2026-10-05", "to": "2026-10-07", "moves": [MOVE]},
    )
    assert r.status_code == 200, r.text
    b = by_site(r.json())["toinen"]
    assert b["desks"]["max_peak"] == 0 and b["desks"]["fits"] is True


def test_reading_in_runs_of_days_changes_nothing(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    body = {"from": "2026-11-01", "to": "2026-11-05", "moves": [MOVE]}
    whole = api.post("/v1/portfolio/what-if", role="admin", json=body).json()
    monkeypatch.setattr(whatif, "READ_DAYS", 1)
    assert api.post("/v1/portfolio/what-if", role="admin", json=body).json() == whole
    assert by_site(whole)["toinen"]["desks"]["max_peak"] == pytest.approx(7)
