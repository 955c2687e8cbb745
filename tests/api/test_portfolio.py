"""Portfolio reports over two sites in two time zones: the example site
(Helsinki) and a copy in London without agency ``avi`` (its zones shared)
and with a target of 12 m²/htv, each backfilled by the simulator for two
days (a Monday and a Tuesday) into one SQLite store and summarised; a late
message makes a day dirty, read from raw points, in the last test.

A site's portfolio row equals its own report's row for every role; an
agency across sites equals the hand-sum of its site reports' rows (and the
raw recompute of its seconds); the agency keys see only their own rows.
"""

from __future__ import annotations

import io
import math
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api import portfolio
from api.app import create_app
from api.auth import create_key
from api.config import ApiSettings
from api.limits import ConcurrencyLimiter
from api.records import make_engine, make_sessionmaker
from core.calendar import local_day_bounds
from core.registry import Registry, Site, load_site
from simulators.backfill import backfill
from simulators.scenario import Scenario
from storage import StoreSettings, open_store
from storage.base import PRESENCE, Point
from storage.marks import MarkingStore
from storage.sqlite import SQLiteStore
from summaries.reader import PeriodData
from summaries.summariser import SummaryParams, refresh_site
from tests.api import scenario
from tests.api.conftest import SMALL_SITE, Api

FIRST = date(2026, 3, 2)  # a Monday
DAYS = [FIRST + timedelta(days=i) for i in range(2)]
Q = {"from": FIRST.isoformat(), "to": (DAYS[-1] + timedelta(days=1)).isoformat()}
ROLES = ("admin", "facility", "finance", "agency:vero", "agency:avi")
PEEK = 1e-12  # relative: float sums of site reports' seconds against exact sums


def variant(site: Site, **changes: Any) -> Site:
    return Site.model_validate({**site.model_dump(mode="python"), **changes})


def without_agency(site: Site, agency: str) -> dict[str, Any]:
    data = site.model_dump(mode="python")
    for zone in data["zones"]:
        if zone["agency"] == agency:
            zone["agency"] = None  # its zones become shared
    data["agencies"] = [a for a in data["agencies"] if a["id"] != agency]
    return data


@pytest.fixture(scope="module")
def world(example_site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    tmp = tmp_path_factory.mktemp("portfolio")
    london = without_agency(example_site, "avi")
    sites = [
        example_site,
        Site.model_validate(
            {**london, "id": "vt-lontoo", "timezone": "Europe/London", "target_m2_per_htv": 12}
        ),
    ]
    registry = Registry({s.id: s for s in sites})
    store = MarkingStore(SQLiteStore(tmp / "occ.db"), {s.id: s.tz for s in sites})
    params = SummaryParams()
    for n, site in enumerate(sites):
        start = local_day_bounds(site, DAYS[0])[0]
        end = local_day_bounds(site, DAYS[-1])[1]
        backfill(site, Scenario(seed=3 + n), store, start, end, collect=False)
        refresh_site(store, site, params, days=DAYS)
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
        api = Api(client, keys, example_site, store)
        api.registry = registry  # type: ignore[attr-defined]
        yield api
    store.close()


def rows(api: Api, path: str, role: str = "facility", **q: Any) -> list[dict[str, Any]]:
    r = api.get(path, role=role, **Q, **q)
    assert r.status_code == 200, (path, role, q, r.text)
    return r.json()["rows"]


def sites_of(api: Api) -> list[Site]:
    return list(api.registry)  # type: ignore[attr-defined]


def near(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return a == pytest.approx(b, rel=PEEK, abs=1e-9)


def ratio(a: float, b: float) -> float | None:
    return a / b if b > 0 else None


# ---- one site: the portfolio row is the site report's row ----------------------------
@pytest.mark.parametrize("role", ["facility", "agency:vero", "agency:avi"])
def test_utilisation_by_site_is_each_sites_report(world: Api, role: str) -> None:
    for bucket in (None, "day"):
        q = {"bucket": bucket} if bucket else {}
        got = rows(world, "/v1/portfolio/utilisation", role, by="site", **q)
        want = [
            r
            for site in sorted(sites_of(world), key=lambda s: s.id)
            for r in rows(world, f"/v1/sites/{site.id}/utilisation", role, by="site", **q)
        ]
        assert got == want, (role, bucket)
        assert got or role.startswith("agency:")


@pytest.mark.parametrize("role", ["facility", "agency:avi"])
def test_efficiency_by_site_is_each_sites_site_row(world: Api, role: str) -> None:
    got = rows(world, "/v1/portfolio/efficiency", role, by="site")
    assert [r["site"] for r in got] == [*sorted(s.id for s in sites_of(world)), "_portfolio"]
    for row in got[:-1]:
        site_rows = rows(world, f"/v1/sites/{row['site']}/efficiency", role)
        (want,) = [r for r in site_rows if r["agency"] == "_site"]
        assert {k: v for k, v in row.items() if k != "site"} == {
            k: v for k, v in want.items() if k != "agency"
        }
    by_agency = rows(world, "/v1/portfolio/efficiency", role, by="agency")
    total = {k: v for k, v in by_agency[-1].items() if k != "sites"}
    assert total == {"agency": "_portfolio", **{k: v for k, v in got[-1].items() if k != "site"}}
    assert by_agency[-1]["sites"] == 2


# ---- across sites: sums of the site reports -----------------------------------------
def hand_utilisation(site_rows: list[dict[str, Any]], keys: list[str]) -> dict[tuple, dict]:  # type: ignore[type-arg]
    out: dict[tuple, dict] = {}  # type: ignore[type-arg]
    for r in site_rows:
        a = out.setdefault(
            tuple(r[k] for k in keys),
            {"sites": 0, "spaces": 0, "open_days": 0, "space_days": 0, "used": 0.0}
            | dict.fromkeys(("opening_s", "unknown_s", "observed_s", "occupied_s"), 0.0),
        )
        a["sites"] += 1
        for c in ("spaces", "open_days", "opening_s", "unknown_s", "observed_s", "occupied_s"):
            a[c] += r[c]
        # every space of a group has a cell on every open day of the site
        a["space_days"] += r["spaces"] * r["open_days"]
        a["used"] += (r["frequency"] or 0.0) * r["spaces"] * r["open_days"]
    for a in out.values():
        a["coverage"] = ratio(a["observed_s"], a["opening_s"])
        a["utilisation"] = ratio(a["occupied_s"], a["observed_s"])
        a["frequency"] = ratio(a.pop("used"), a.pop("space_days"))
    return out


@pytest.mark.parametrize("role", ["facility", "agency:vero"])
def test_utilisation_by_agency_is_the_sum_of_the_sites(world: Api, role: str) -> None:
    for bucket in (None, "month"):
        q = {"bucket": bucket} if bucket else {}
        keys = ["agency", "bucket"] if bucket else ["agency"]
        got = rows(world, "/v1/portfolio/utilisation", role, by="agency", **q)
        per_site = [
            r
            for site in sites_of(world)
            for r in rows(world, f"/v1/sites/{site.id}/utilisation", role, by="agency", **q)
        ]
        want = hand_utilisation(per_site, keys)
        assert [tuple(r[k] for k in keys) for r in got] == sorted(want)
        for row in got:
            hand = want[tuple(row[k] for k in keys)]
            for col, value in hand.items():
                assert near(row[col], value), (role, bucket, row[keys[0]], col)
        if role.startswith("agency:"):
            assert {r["agency"] for r in got} == {role.split(":")[1]}
        else:
            assert {r["agency"] for r in got} == {
                "_shared",
                "avi",
                "dvv",
                "prh",
                "tilastokeskus",
                "vero",
            }
    # an agency of one site: its row is that site's row
    avi = rows(world, "/v1/portfolio/utilisation", "facility", by="agency", agency="avi")
    (want,) = rows(world, "/v1/sites/virastotalo/utilisation", by="agency", agency="avi")
    assert avi == [{"sites": 1, **want}]


def test_agency_seconds_equal_the_raw_recompute(world: Api) -> None:
    """Independent of the site reports: every site's day cells recomputed from
    raw points, the agency's dedicated spaces' nanoseconds added up exactly."""
    got = {r["agency"]: r for r in rows(world, "/v1/portfolio/utilisation", by="agency")}
    ns = {a: [0, 0, 0] for a in got}
    people = {a: [0.0, 0.0] for a in got}
    for site in sites_of(world):
        cells = PeriodData(
            store=world.store,
            site=site,
            start=local_day_bounds(site, DAYS[0])[0],
            end=local_day_bounds(site, DAYS[-1])[1],
            params=SummaryParams(),
            source="raw",
        ).day_cells()
        owner = {z.id: z.agency or "_shared" for z in site.zones}
        cells["agency"] = cells["space"].map({s.id: owner[s.zone] for s in site.spaces})
        cap = cells["space"].map({s.id: float(s.capacity) for s in site.spaces})
        for agency, part in cells.groupby("agency"):
            for i, c in enumerate(("opening_ns", "unknown_ns", "occupied_ns")):
                ns[str(agency)][i] += sum(int(v) for v in part[c])
            people[str(agency)][0] += float(part["people_s"].sum())
            people[str(agency)][1] += float((cap[part.index] * part["counted_ns"] / 1e9).sum())
    for agency, (opening, unknown, occupied) in ns.items():
        row = got[agency]
        assert row["opening_s"] == opening / 1e9 and row["occupied_s"] == occupied / 1e9
        assert row["observed_s"] == (opening - unknown) / 1e9
        assert near(row["intensity"], ratio(*people[agency]))
    assert got["vero"]["occupied_s"] > 0 and got["vero"]["sites"] == 2


def hand_efficiency(
    eff_rows: list[dict[str, Any]], util_rows: list[dict[str, Any]], occupancy: bool
) -> dict[str, Any]:
    s = lambda c: sum(r[c] for r in eff_rows)  # noqa: E731
    htv, area, desks = s("headcount_htv"), s("area_m2"), s("desks")
    targets = {r["target_m2_per_htv"] for r in eff_rows}
    target = (
        targets.pop()
        if len(targets) == 1
        else sum(r["target_m2_per_htv"] * r["headcount_htv"] for r in eff_rows) / htv
    )
    out = {
        "sites": len(eff_rows),
        "headcount_htv": htv,
        "desks": desks,
        "desk_area_m2": s("desk_area_m2"),
        "area_m2": area,
        "m2_per_htv": area / htv,
        "target_m2_per_htv": target,
        "meets_target": area / htv <= target + 1e-9,
        "desk_sharing_ratio": htv / desks,
    }
    if not occupancy:
        return out
    peak = sum(r["peak_desks"] for r in eff_rows if r["peak_desks"] is not None)
    rel_m2 = s("releasable_m2")
    observed = sum(r["observed_s"] for r in util_rows)
    # presence: the sites' daily-peak figures summed, use rates of the sums
    mean = sum(r["peak_presence_mean"] for r in eff_rows)
    return out | {
        "peak_desks": peak,
        "p90_peak_desks": sum(r["p90_peak_desks"] for r in eff_rows),
        "use_rate": mean / htv,
        "use_rate_mean": mean / htv,
        "use_rate_p90": sum(r["peak_presence_p90"] for r in eff_rows) / htv,
        "use_rate_max": peak / htv,
        "desks_needed": s("desks_needed"),
        "desks_held": s("desks_held"),
        "utilisation": ratio(sum(r["occupied_s"] for r in util_rows), observed),
        "coverage": ratio(observed, sum(r["opening_s"] for r in util_rows)),
        "releasable_desks": s("releasable_desks"),
        "releasable_m2": rel_m2,
        "m2_per_htv_after": (area - rel_m2) / htv,
    }


@pytest.mark.parametrize("role", ["facility", "agency:vero"])
def test_efficiency_by_agency_combines_the_sites(world: Api, role: str) -> None:
    got = {r["agency"]: r for r in rows(world, "/v1/portfolio/efficiency", role, by="agency")}
    eff = {s.id: rows(world, f"/v1/sites/{s.id}/efficiency", role) for s in sites_of(world)}
    util = {
        (s.id, by): rows(world, f"/v1/sites/{s.id}/utilisation", role, by=by)
        for s in sites_of(world)
        for by in ("agency", "site")
    }
    own = role.split(":")[1] if role.startswith("agency:") else None
    agencies = [own] if own else ["avi", "dvv", "prh", "tilastokeskus", "vero"]
    assert list(got) == [*agencies, "_portfolio"]
    for label in [*agencies, "_portfolio"]:
        if label == "_portfolio":
            e = [r for site_rows in eff.values() for r in site_rows if r["agency"] == "_site"]
            u = [r for (_, by), site_rows in util.items() if by == "site" for r in site_rows]
        else:
            e = [r for site_rows in eff.values() for r in site_rows if r["agency"] == label]
            u = [
                r
                for (_, by), site_rows in util.items()
                if by == "agency"
                for r in site_rows
                if r["agency"] == label
            ]
        hand = hand_efficiency(e, u, occupancy=not (own and label == "_portfolio"))
        for col, value in hand.items():
            assert near(got[label][col], value), (role, label, col)
        if own and label == "_portfolio":  # as the _site row: registry figures only
            assert got[label]["peak_desks"] is None and got[label]["utilisation"] is None
    if not own:
        assert got["avi"]["sites"] == 1 and got["vero"]["sites"] == 2
        (avi,) = [r for r in eff["virastotalo"] if r["agency"] == "avi"]
        assert got["avi"] == {"sites": 1, **avi}  # one site's agency: its row exactly
        assert got["_portfolio"]["target_m2_per_htv"] != 10  # one site's target is 12


# ---- roles, formats, errors ----------------------------------------------------------
def test_finance_and_admin_see_what_facility_sees(world: Api) -> None:
    for path, by in [("utilisation", "agency"), ("efficiency", "agency"), ("efficiency", "site")]:
        want = rows(world, f"/v1/portfolio/{path}", "facility", by=by)
        for role in ("finance", "admin"):
            assert rows(world, f"/v1/portfolio/{path}", role, by=by) == want


def test_agency_keys_see_only_their_own_rows(world: Api) -> None:
    for path in ("/v1/portfolio/utilisation", "/v1/portfolio/efficiency"):
        r = world.get(path, role="agency:vero", by="agency", agency="dvv", **Q)
        assert r.status_code == 403 and "own agency" in r.json()["detail"]
        mine = world.get(path, role="agency:vero", by="agency", agency="vero", **Q)
        assert {row["agency"] for row in mine.json()["rows"]} == {"vero"}
    eff = rows(world, "/v1/portfolio/efficiency", "agency:avi", by="site")
    assert all(r["peak_desks"] is None and r["utilisation"] is None for r in eff)
    assert all(r["headcount_htv"] > 0 for r in eff)


def test_exports_are_the_json_rows(world: Api) -> None:
    want = pd.DataFrame(rows(world, "/v1/portfolio/efficiency", by="agency"))
    csv = world.get("/v1/portfolio/efficiency", by="agency", format="csv", **Q)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert 'filename="portfolio-efficiency-agency.csv"' in csv.headers["content-disposition"]
    xlsx = world.get("/v1/portfolio/utilisation", by="agency", format="xlsx", **Q)
    assert xlsx.status_code == 200
    pd.testing.assert_frame_equal(pd.read_csv(io.StringIO(csv.text)), want, check_dtype=False)
    pd.testing.assert_frame_equal(
        pd.read_excel(io.BytesIO(xlsx.content)),
        pd.DataFrame(rows(world, "/v1/portfolio/utilisation", by="agency")),
        check_dtype=False,
    )


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ({"by": "zone"}, "by"),
        ({"bucket": "hour"}, "bucket"),
        ({"month": "2026-13"}, "month"),
        ({"month": "2026-03", "from": "2026-03-01"}, "month"),
        ({"from": "2026-03-05", "to": "2026-03-02"}, "to"),
        ({"from": "2025-01-01", "to": "2026-03-02"}, "to"),
    ],
)
def test_bad_parameters_answer_422_naming_them(
    world: Api, query: dict[str, str], param: str
) -> None:
    r = world.client.get(
        "/v1/portfolio/utilisation",
        params=query,
        headers={"Authorization": f"Bearer {world.keys['facility']}"},
    )
    assert r.status_code == 422 and param in r.json()["detail"], r.text
    assert r.headers["content-type"] == "application/problem+json"


def test_meta_says_where_each_site_came_from(world: Api) -> None:
    meta = world.get("/v1/portfolio/efficiency", **Q).json()["meta"]
    assert meta["sites"] == 2 and meta["site_days_from_summaries"] == 2 * 2
    assert meta["days_from_raw"] == {} and meta["stale_days"] == {}
    assert meta["periods"]["vt-lontoo"]["timezone"] == "Europe/London"
    assert meta["periods"]["vt-lontoo"]["start_utc"] == "2026-03-02T00:00:00+00:00"
    assert meta["periods"]["virastotalo"]["start_utc"] == "2026-03-01T22:00:00+00:00"
    assert (meta["from"], meta["to"]) == (Q["from"], Q["to"])


def test_report_slot_is_held(world: Api) -> None:
    ctx = world.client.app.state.ctx  # type: ignore[attr-defined]
    saved, ctx.reports = ctx.reports, ConcurrencyLimiter(per_key=2, per_server=1)
    try:
        ctx.reports.acquire("someone-else")
        r = world.get("/v1/portfolio/efficiency", **Q)
        assert r.status_code == 429 and "the server" in r.json()["detail"]
        ctx.reports.release("someone-else")
        assert world.get("/v1/portfolio/efficiency", **Q).status_code == 200
        assert ctx.reports.running == 0
    finally:
        ctx.reports = saved


# ---- kept results follow the store -------------------------------------------------
def test_a_late_message_reaches_the_portfolio(world: Api) -> None:
    """A site's kept sums are keyed by its days' generations: a late point
    makes the day dirty (read from raw at once), a summariser cycle rewrites
    it (a new generation); the portfolio follows the site report both times."""
    site = world.site
    url = f"/v1/sites/{site.id}/utilisation"

    def both() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        body = world.get("/v1/portfolio/utilisation", by="site", **Q).json()
        (mine,) = [r for r in body["rows"] if r["site"] == site.id]
        (want,) = rows(world, url, by="site")
        return mine, want, body["meta"]

    before, want, _ = both()
    assert before == want
    space = next(s for s in site.spaces if s.zone == site.zones[0].id)
    at = local_day_bounds(site, DAYS[1])[0] + timedelta(hours=12, minutes=7)
    world.store.write(
        [
            Point(
                PRESENCE,
                site.space_tags(space.id),
                {"occupied": 1, "hb": 300.0},
                int(at.timestamp() * 1e9),
            )
        ]
    )
    dirty, want, meta = both()
    assert dirty == want and dirty != before
    assert DAYS[1].isoformat() in meta["stale_days"][site.id]
    assert meta["days_from_raw"] == {site.id: [DAYS[1].isoformat()]}
    refresh_site(world.store, site, SummaryParams(), days=[DAYS[1]])
    after, want, meta = both()
    assert after == want == dirty and meta["stale_days"] == meta["days_from_raw"] == {}


# ---- the real InfluxDB ------------------------------------------------------------------
def test_on_influxdb_the_hand_worked_day_at_two_sites(influx: Any, tmp_path: Path) -> None:
    """The hand-worked day (tests/api/scenario.py) at the small site and at a
    copy of it, summarised into the real InfluxDB. Agency aa (a1..a5) across
    both: occupied 2 x 10 h = 72,000 s of observed 2 x 38.5 h = 277,200 s;
    its desk peak is 2 at each site (a1 and a2 at 10:00), so 4 summed, use
    rate 4 / (2 x 8 htv) = 0.25; its key splits the 158 m² outside dedicated
    zones by headcount, 8 : 4, so its area is 2 x (30 + 158 x 8 / 12) m²."""
    small = load_site(SMALL_SITE)
    sites = [small, variant(small, id="pieni-kaksi")]
    settings = StoreSettings(url=influx.url, database=f"pf_{uuid.uuid4().hex[:8]}")
    store = MarkingStore(open_store(settings), {s.id: s.tz for s in sites})
    day = scenario.DAY.date()
    for site in sites:
        store.write(scenario.points(site))
        refresh_site(store, site, SummaryParams(), days=[day])
    records = f"sqlite:///{tmp_path}/api.db"
    with make_sessionmaker(make_engine(records))() as session:
        keys = {r: create_key(session, role=r, name=r) for r in ("facility", "agency:aa")}
    app = create_app(
        ApiSettings(
            store=settings, records_url=records, broker_url=None,
            rollup_interval_s=0, summaries_interval_s=0,
        ),
        registry=Registry({s.id: s for s in sites}),
        store=store,
    )  # fmt: skip
    q = {"from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat()}
    with TestClient(app) as client:
        api = Api(client, keys, small, store)

        def get(path: str, role: str = "facility", **extra: Any) -> dict[str, Any]:
            r = api.get(path, role=role, **q, **extra)
            assert r.status_code == 200, r.text
            return r.json()

        body = get("/v1/portfolio/utilisation", by="agency")
        assert body["meta"]["site_days_from_summaries"] == 2 and body["meta"]["days_from_raw"] == {}
        aa = {r["agency"]: r for r in body["rows"]}["aa"]
        assert (aa["sites"], aa["spaces"], aa["occupied_s"], aa["observed_s"]) == (
            2, 10, 72_000.0, 277_200.0,
        )  # fmt: skip
        assert aa["utilisation"] == 72_000 / 277_200
        for role in ("facility", "agency:aa"):
            want = [
                r
                for s in sites
                for r in get(f"/v1/sites/{s.id}/utilisation", role, by="site")["rows"]
            ]
            assert get("/v1/portfolio/utilisation", role, by="site")["rows"] == want
        mine = get("/v1/portfolio/efficiency", "agency:aa")["rows"]
        assert [r["agency"] for r in mine] == ["aa", "_portfolio"]
        assert (mine[0]["peak_desks"], mine[0]["use_rate"]) == (4, 0.25)
        assert mine[0]["area_m2"] == pytest.approx(2 * (30 + 158 * 8 / 12), rel=1e-12)
        assert mine[1]["peak_desks"] is None and mine[1]["headcount_htv"] == 24
    store.close()


def test_by_region_without_a_portfolio_file_is_one_row(world: Api) -> None:
    """Sites that name no region (a registry without a portfolio file) are the
    region ``_no_region``: the sum of the by=site rows, with no name."""
    for role in ("facility", "agency:vero"):
        (got,) = rows(world, "/v1/portfolio/utilisation", role, by="region")
        sites = rows(world, "/v1/portfolio/utilisation", role, by="site")
        assert (got["region"], got["region_name"], got["sites"]) == ("_no_region", None, 2)
        for c in ("opening_s", "observed_s", "occupied_s"):
            assert near(got[c], sum(r[c] for r in sites)), (role, c)
    eff = rows(world, "/v1/portfolio/efficiency", by="region")
    assert [r["region"] for r in eff] == ["_no_region", "_portfolio"]
    assert eff[0]["headcount_htv"] == eff[1]["headcount_htv"]
