"""Portfolio reports by region and by month over the example portfolio
(examples/portfolio: six sites in three regions, a portfolio file), each
site backfilled by the simulator for two days across a month boundary
(Tuesday 31 March and Wednesday 1 April 2026) and summarised; Monday 30
March is backfilled too but left unsummarised (read from raw points), and
Thursday 2 April has no points at all, for the monthly trend over days of
every source.

Every figure is checked against what it must equal, computed another way:
a region's seconds are the sums of its sites' own site reports; its
headcount, area and target come from the registry; a month's rows are the
report of that month alone. Every portfolio route is read with an agency
key, in JSON and in the exports.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import openpyxl
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api import portfolio
from api.app import create_app
from api.auth import create_key
from api.config import ApiSettings
from api.records import make_engine, make_sessionmaker
from core.calendar import local_day_bounds
from core.registry import Registry, Site, load_registry
from simulators.backfill import backfill
from simulators.scenario import Scenario
from storage import StoreSettings
from storage.marks import MarkingStore
from storage.sqlite import SQLiteStore
from summaries.summariser import SummaryParams, refresh_site
from tests.api.conftest import Api
from tests.conftest import REPO

DAYS = [date(2026, 3, 31), date(2026, 4, 1)]
Q = {"from": DAYS[0].isoformat(), "to": (DAYS[-1] + timedelta(days=1)).isoformat()}
RAW_DAY, EMPTY_DAY = date(2026, 3, 30), date(2026, 4, 2)
#: a trend period with a raw day in March and a day without points in April
LONG = {"from": RAW_DAY.isoformat(), "to": (EMPTY_DAY + timedelta(days=1)).isoformat()}
ROLES = ("admin", "facility", "finance", "agency:vero", "agency:kela", "agency:prh")
AGENCY_ROLES = [r for r in ROLES if r.startswith("agency:")]
SECONDS = ("opening_s", "unknown_s", "observed_s", "occupied_s")
#: What an agency key never sees of a total row (as of a site's ``_site`` row).
OCCUPANCY = ("peak_desks", "p90_peak_desks", "use_rate", "utilisation", "coverage")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    tmp = tmp_path_factory.mktemp("regions")
    registry = load_registry(REPO / "examples" / "portfolio")
    sites = list(registry)
    store = MarkingStore(SQLiteStore(tmp / "occ.db"), {s.id: s.tz for s in sites})
    for n, site in enumerate(sites):
        start = local_day_bounds(site, RAW_DAY)[0]
        end = local_day_bounds(site, DAYS[-1])[1]
        backfill(site, Scenario(seed=11 + n), store, start, end, collect=False)
        refresh_site(store, site, SummaryParams(), days=DAYS)  # not RAW_DAY
    records = f"sqlite:///{tmp}/api.db"
    with make_sessionmaker(make_engine(records))() as session:
        keys = {role: create_key(session, role=role, name=role) for role in ROLES}
    settings = ApiSettings(
        store=StoreSettings(url=f"sqlite:///{tmp}/occ.db"),
        records_url=records,
        broker_url=None,
        rollup_interval_s=0,
        summaries_interval_s=0,
    )
    portfolio.clear_cache()
    with TestClient(create_app(settings, registry=registry, store=store)) as client:
        api = Api(client, keys, sites[0], store)
        api.registry = registry  # type: ignore[attr-defined]
        yield api
    store.close()


def reg(api: Api) -> Registry:
    return api.registry  # type: ignore[attr-defined,no-any-return]


def rows(api: Api, path: str, role: str = "facility", **q: Any) -> list[dict[str, Any]]:
    r = api.get(path, role=role, **{**Q, **q})
    assert r.status_code == 200, (path, role, q, r.text)
    return r.json()["rows"]  # type: ignore[no-any-return]


def in_region(api: Api, region: str) -> list[Site]:
    return sorted((s for s in reg(api) if s.region == region), key=lambda s: s.id)


REGIONS = ("etela-karjala", "paijat-hame", "pohjois-karjala")


def test_the_example_portfolio_has_its_three_regions(world: Api) -> None:
    assert sorted({s.region for s in reg(world)}) == list(REGIONS)
    got = rows(world, "/v1/portfolio/utilisation", by="region")
    assert [r["region"] for r in got] == list(REGIONS)
    assert [r["sites"] for r in got] == [2, 2, 2]


# ---- utilisation: a region is the sum of its sites' own reports ------------------------
@pytest.mark.parametrize("role", ["facility", *AGENCY_ROLES])
def test_utilisation_by_region_adds_up_the_site_reports(world: Api, role: str) -> None:
    for bucket in (None, "month"):
        q = {"bucket": bucket} if bucket else {}
        got = {
            (r["region"], r.get("bucket")): r
            for r in rows(world, "/v1/portfolio/utilisation", role, by="region", **q)
        }
        want: dict[tuple[str, Any], dict[str, float]] = {}
        for region in REGIONS:
            for site in in_region(world, region):
                path = f"/v1/sites/{site.id}/utilisation"
                for r in rows(world, path, role, by="site", **q):
                    w = want.setdefault((region, r.get("bucket")), dict.fromkeys(SECONDS, 0.0))
                    for c in SECONDS:
                        w[c] += r[c]
        assert set(got) == set(want), role
        for key, w in want.items():
            g = got[key]
            for c in SECONDS:
                assert g[c] == pytest.approx(w[c], rel=1e-12), (role, key, c)
            assert g["utilisation"] == pytest.approx(w["occupied_s"] / w["observed_s"])
            assert g["coverage"] == pytest.approx(w["observed_s"] / w["opening_s"])


def test_an_agencys_utilisation_by_region_is_its_rows_of_the_sites(world: Api) -> None:
    for role in ("facility", "agency:kela"):
        got = rows(world, "/v1/portfolio/utilisation", role, by="region", agency="kela")
        for r in got:
            occupied = sum(
                row["occupied_s"]
                for site in in_region(world, r["region"])
                for row in rows(world, f"/v1/sites/{site.id}/utilisation", role, by="agency")
                if row["agency"] == "kela"
            )
            assert r["occupied_s"] == pytest.approx(occupied, rel=1e-12)
        # kela has dedicated zones only at Joensuu and Lahti (the service
        # points are shared zones): two regions
        assert [r["region"] for r in got] == ["paijat-hame", "pohjois-karjala"], role


# ---- efficiency: registry figures from the registry, measured ones from the sites --------
def test_efficiency_by_region_combines_the_site_rows(world: Api) -> None:
    got = {r["region"]: r for r in rows(world, "/v1/portfolio/efficiency", by="region")}
    assert list(got) == [*REGIONS, "_portfolio"]
    for region in REGIONS:
        sites = in_region(world, region)
        htv = sum(a.headcount_htv for s in sites for a in s.agencies)
        area = sum(s.area_m2 for s in sites)
        weighted = sum(
            s.target_m2_per_htv * sum(a.headcount_htv for a in s.agencies) for s in sites
        )
        site_rows = [
            next(r for r in rows(world, f"/v1/sites/{s.id}/efficiency") if r["agency"] == "_site")
            for s in sites
        ]
        g = got[region]
        assert g["sites"] == 2
        assert g["headcount_htv"] == pytest.approx(htv)
        assert g["area_m2"] == pytest.approx(area)
        assert g["m2_per_htv"] == pytest.approx(area / htv)
        assert g["target_m2_per_htv"] == pytest.approx(weighted / htv)
        assert g["meets_target"] is (area / htv <= weighted / htv)
        assert g["releasable_m2"] == pytest.approx(sum(r["releasable_m2"] for r in site_rows))
        assert g["peak_desks"] == pytest.approx(sum(r["peak_desks"] for r in site_rows))
    total = got["_portfolio"]
    assert total["sites"] == 6
    assert total["headcount_htv"] == pytest.approx(sum(got[r]["headcount_htv"] for r in REGIONS))


def test_region_targets_mix_inherited_and_own_targets(world: Api) -> None:
    """Pohjois-Karjala: Joensuu inherits the portfolio's 10 m²/htv (124 htv),
    Lieksa's service point sets its own 15 (4.5 htv): (10 x 124 + 15 x 4.5)
    / 128.5 = 1307.5 / 128.5 = 10.1751 m²/htv (docs/metrics.md, "Portfolio")."""
    got = {r["region"]: r for r in rows(world, "/v1/portfolio/efficiency", by="region")}
    assert got["pohjois-karjala"]["target_m2_per_htv"] == pytest.approx(1307.5 / 128.5)
    assert got["pohjois-karjala"]["headcount_htv"] == pytest.approx(128.5)
    # 1,450 + 95 m² over 128.5 htv = 12.02 m²/htv, over the target
    assert got["pohjois-karjala"]["area_m2"] == pytest.approx(1545.0)
    assert got["pohjois-karjala"]["m2_per_htv"] == pytest.approx(1545.0 / 128.5)
    assert got["pohjois-karjala"]["meets_target"] is False


def test_an_agencys_efficiency_by_region(world: Api) -> None:
    """vero is at every site: per region, its headcounts at the region's sites
    added (registry), its releasable area the sum of its site rows."""
    for role in ("facility", "agency:vero"):
        got = {
            r["region"]: r
            for r in rows(world, "/v1/portfolio/efficiency", role, by="region", agency="vero")
        }
        assert list(got) == [*REGIONS, "_portfolio"]
        for region in REGIONS:
            sites = in_region(world, region)
            mine = [
                next(
                    r
                    for r in rows(world, f"/v1/sites/{s.id}/efficiency", role)
                    if r["agency"] == "vero"
                )
                for s in sites
            ]
            assert got[region]["headcount_htv"] == pytest.approx(
                sum(s.agency("vero").headcount_htv for s in sites)
            )
            assert got[region]["releasable_m2"] == pytest.approx(
                sum(r["releasable_m2"] for r in mine)
            )
            assert got[region]["utilisation"] is not None  # its own figures: shown
        want = rows(world, "/v1/portfolio/efficiency", role, by="agency", agency="vero")[0]
        assert got["_portfolio"]["headcount_htv"] == want["headcount_htv"]
        assert got["_portfolio"]["releasable_m2"] == pytest.approx(want["releasable_m2"])


# ---- names in the request's language ---------------------------------------------------
@pytest.mark.parametrize(
    ("lang", "name"), [("fi", "Pohjois-Karjala"), ("sv", "Norra Karelen"), ("en", "North Karelia")]
)
def test_region_names_follow_the_language(world: Api, lang: str, name: str) -> None:
    for path in ("/v1/portfolio/utilisation", "/v1/portfolio/efficiency"):
        got = {r["region"]: r["region_name"] for r in rows(world, path, by="region", lang=lang)}
        assert got["pohjois-karjala"] == name
    assert world.get("/v1/portfolio/utilisation", by="region", lang="de", **Q).status_code == 422


# ---- trend by month --------------------------------------------------------------------
@pytest.mark.parametrize("by", ["site", "agency", "region"])
def test_the_monthly_trend_is_each_months_report(world: Api, by: str) -> None:
    got = rows(world, "/v1/portfolio/efficiency", by=by, bucket="month")
    assert sorted({r["bucket"] for r in got}) == ["2026-03-01T00:00:00", "2026-04-01T00:00:00"]
    for day in DAYS:
        month = [
            {k: v for k, v in r.items() if k != "bucket"}
            for r in got
            if r["bucket"] == f"{day.replace(day=1).isoformat()}T00:00:00"
        ]
        alone = rows(
            world,
            "/v1/portfolio/efficiency",
            by=by,
            **{"from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat()},
        )
        assert month == alone, (by, day)


def _month_rows(got: list[dict[str, Any]], month: date) -> list[dict[str, Any]]:
    stamp = f"{month.isoformat()}T00:00:00"
    return [{k: v for k, v in r.items() if k != "bucket"} for r in got if r["bucket"] == stamp]


#: the months of LONG and each one's part of it: [from, to)
LONG_MONTHS = [
    (date(2026, 3, 1), {"from": RAW_DAY.isoformat(), "to": "2026-04-01"}),
    (date(2026, 4, 1), {"from": "2026-04-01", "to": LONG["to"]}),
]


@pytest.mark.parametrize("role", ["facility", *AGENCY_ROLES])
@pytest.mark.parametrize("by", ["site", "agency", "region"])
def test_each_trend_month_is_its_report_alone_over_days_of_every_source(
    world: Api, role: str, by: str
) -> None:
    """March: a raw day and a summarised one; April: a summarised day and one
    without points. Each month's rows, for every key, equal the report of
    that month's part of the period asked for on its own, ``agency=`` too."""
    agency = role.split(":", 1)[1] if role.startswith("agency:") else "vero"
    for q in ({}, {"agency": agency}):
        got = rows(world, "/v1/portfolio/efficiency", role, by=by, bucket="month", **q, **LONG)
        assert sorted({r["bucket"][:10] for r in got}) == ["2026-03-01", "2026-04-01"]
        for month, part in LONG_MONTHS:
            alone = rows(world, "/v1/portfolio/efficiency", role, by=by, **q, **part)
            assert alone, (by, role, q, month)
            assert _month_rows(got, month) == alone, (by, role, q, month)


def test_the_trend_meta_names_the_raw_days_of_the_whole_period(world: Api) -> None:
    r = world.get("/v1/portfolio/efficiency", by="agency", bucket="month", **LONG)
    meta = r.json()["meta"]
    assert (meta["from"], meta["to"], meta["bucket"]) == (LONG["from"], LONG["to"], "month")
    assert meta["site_days_from_summaries"] == 6 * 2
    raw = [RAW_DAY.isoformat(), EMPTY_DAY.isoformat()]
    assert meta["days_from_raw"] == {s.id: raw for s in reg(world)}
    start = local_day_bounds(reg(world).site("lahti-virastotalo"), RAW_DAY)[0]
    assert meta["periods"]["lahti-virastotalo"]["start_utc"] == start.isoformat()


def test_the_agency_reports_trend_is_each_months_portfolio_report(world: Api) -> None:
    """The m²/htv trend of vero's April report: March and April are the
    portfolio's by-agency report of that month alone (the months before
    have no measurement: registry figures, ``measured`` false)."""
    r = world.get("/v1/agencies/vero/report", month="2026-04", lang="en")
    assert r.status_code == 200, r.text
    trend = {t["month"]: t for t in r.json()["trend"]}
    assert len(trend) == 12 and list(trend)[-1] == "2026-04"
    for month in ("2026-03", "2026-04"):
        first = date.fromisoformat(f"{month}-01")
        after = date(2026, first.month + 1, 1)
        alone = {
            x["agency"]: x
            for x in rows(
                world,
                "/v1/portfolio/efficiency",
                by="agency",
                **{"from": first.isoformat(), "to": after.isoformat()},
            )
        }
        got = trend[month]
        assert got["measured"] is True
        for key in ("m2_per_htv", "target_m2_per_htv", "use_rate", "coverage"):
            assert got[key] == alone["vero"][key], (month, key)
        assert got["portfolio_m2_per_htv"] == alone["_portfolio"]["m2_per_htv"]
    assert trend["2026-02"]["measured"] is False and trend["2026-02"]["use_rate"] is None


def test_the_trend_meta_covers_the_whole_period(world: Api) -> None:
    meta = world.get("/v1/portfolio/efficiency", by="region", bucket="month", **Q).json()["meta"]
    assert (meta["from"], meta["to"], meta["bucket"]) == (Q["from"], Q["to"], "month")
    assert meta["site_days_from_summaries"] == 6 * 2
    assert meta["days_from_raw"] == {} and meta["stale_days"] == {}


# ---- an agency key on every portfolio route -------------------------------------------
ROUTES = [
    ("utilisation", {"by": "site"}),
    ("utilisation", {"by": "agency"}),
    ("utilisation", {"by": "region"}),
    ("utilisation", {"by": "region", "bucket": "month"}),
    ("efficiency", {"by": "site"}),
    ("efficiency", {"by": "agency"}),
    ("efficiency", {"by": "region"}),
    ("efficiency", {"by": "agency", "bucket": "month"}),
    ("efficiency", {"by": "region", "bucket": "month"}),
]


def _only_its_own(role: str, path: str, q: dict[str, str], got: list[dict[str, Any]]) -> None:
    agency = role.split(":", 1)[1]
    by = q["by"]
    if path == "utilisation" and by == "agency":
        assert {r["agency"] for r in got} <= {agency}, (q, got)
    elif path == "efficiency" and by == "agency":
        assert {r["agency"] for r in got} == {agency, "_portfolio"}, q
        for r in got:
            if r["agency"] == "_portfolio":
                assert all(r[c] is None for c in OCCUPANCY), q
    elif path == "efficiency":  # site and region rows: registry figures only
        assert got, q
        assert all(r[c] is None for r in got for c in OCCUPANCY), q


@pytest.mark.parametrize("role", AGENCY_ROLES)
@pytest.mark.parametrize(("path", "q"), ROUTES)
def test_an_agency_key_sees_only_its_own_rows(
    world: Api, role: str, path: str, q: dict[str, str]
) -> None:
    got = rows(world, f"/v1/portfolio/{path}", role, **q)
    _only_its_own(role, path, q, got)
    other = "dvv" if role != "agency:dvv" else "vero"
    r = world.get(f"/v1/portfolio/{path}", role=role, agency=other, **q, **Q)
    assert r.status_code == 403 and "own agency" in r.json()["detail"]
    for fmt in ("csv", "xlsx"):
        export = world.get(f"/v1/portfolio/{path}", role=role, format=fmt, **q, **Q)
        assert export.status_code == 200, export.text
        frame = (
            pd.read_csv(io.StringIO(export.text))
            if fmt == "csv"
            else pd.read_excel(io.BytesIO(export.content))
        )
        rebuilt = [
            {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            for row in frame.to_dict("records")
        ]
        _only_its_own(role, path, q, rebuilt)
        assert len(rebuilt) == len(got), (path, q, fmt)


def test_an_agency_key_may_not_plan_a_what_if(world: Api) -> None:
    body = {**Q, "moves": [{"kind": "close_floor", "site": "lahti-virastotalo", "floor": "f3"}]}
    for role in AGENCY_ROLES:
        assert world.post("/v1/portfolio/what-if", role=role, json=body).status_code == 403


def test_a_region_total_hides_other_agencies_use_from_an_agency_key(world: Api) -> None:
    """The agency's region utilisation is made of its visible spaces only:
    at Lappeenranta (prh's rooms and the shared zones) it is less than the
    site's whole."""
    mine = {
        r["region"]: r for r in rows(world, "/v1/portfolio/utilisation", "agency:prh", by="region")
    }
    all_ = {r["region"]: r for r in rows(world, "/v1/portfolio/utilisation", by="region")}
    assert mine["etela-karjala"]["spaces"] < all_["etela-karjala"]["spaces"]


# ---- exports ---------------------------------------------------------------------------
def test_the_region_exports_are_the_json_rows(world: Api) -> None:
    # a column with no value (pool_share of regions) is null in JSON, empty in CSV
    want = pd.DataFrame(rows(world, "/v1/portfolio/efficiency", by="region", lang="sv"))
    want = want.astype({c: float for c in want.columns if want[c].isna().all()})
    csv = world.get("/v1/portfolio/efficiency", by="region", lang="sv", format="csv", **Q)
    assert 'filename="portfolio-efficiency-region.csv"' in csv.headers["content-disposition"]
    pd.testing.assert_frame_equal(pd.read_csv(io.StringIO(csv.text)), want, check_dtype=False)
    xlsx = world.get("/v1/portfolio/utilisation", by="region", bucket="month", format="xlsx", **Q)
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    sheet = book["portfolio-utilisation-region"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["region", "region_name", "bucket", "sites"]
    json_rows = rows(world, "/v1/portfolio/utilisation", by="region", bucket="month")
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert len(values) == len(json_rows) == 6  # three regions x two months
    first = dict(zip(header, values[0], strict=True))
    assert first["region_name"] == "Etelä-Karjala"
    assert first["bucket"].date() == date(2026, 3, 1)  # a real date cell, not text
    assert first["occupied_s"] == pytest.approx(json_rows[0]["occupied_s"])


def test_an_agency_at_no_site_has_no_region_rows(world: Api) -> None:
    for path in ("/v1/portfolio/utilisation", "/v1/portfolio/efficiency"):
        assert rows(world, path, by="region", agency="tilastokeskus") == []
