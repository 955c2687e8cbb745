"""Every panel query of the committed dashboards, run against a real InfluxDB
holding a simulated scenario, returns what the api computes for the same
scenario (to 1e-6).

The scenario: a synthetic site of three floors (one agent each), backfilled
by the simulator for the whole local month of February 2026 (people model,
seeded random faults, hourly heartbeats to keep it small), then rolled up and
charged through the api's own routes (``POST .../rollups``,
``POST .../charges/2026-02/run``), which write the derived measurements the
dashboards read. The api's figures come from its GET routes.

The live panels look at "now", which the api's live board takes from the wall
clock, so the last three hours up to the present are backfilled too, with
scripted spells (nobody is in the office at night), a silent sensor and an
offline agent, at the site's 5-minute heartbeat the live panels assume.
What each live panel is compared with:

- counts now, per floor and zone, offline agents: the api's ``/live``
  snapshot;
- faulty sensors and low batteries: the api's ``/sensors/health`` (its low
  battery and silent sensors of online agents);
- occupied spaces per floor over time (no api route): the api's own state
  intervals (``summaries.raw.read_intervals``), counted at each interval's end.

Grafana cannot run here; what runs is the InfluxQL Grafana sends, after its
variable substitution (``dashboards.interpolate``). Only the heatmap's
layout into a matrix (a Grafana transformation) is not run.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import create_key
from api.config import ApiSettings
from api.records import make_engine, make_sessionmaker
from core.calendar import local_day_bounds
from core.registry import Registry, Site
from dashboards.build import build_all
from dashboards.interpolate import ALL, VarValue, all_values_of, interpolate, time_range
from metrics.rollups import WEEKDAYS
from simulators.backfill import backfill
from simulators.scenario import Fault, FaultKind, Scenario, ScriptedSpell, Sensors
from simulators.synthetic import synthetic_site
from storage import StoreSettings, open_store
from summaries.raw import read_intervals
from tests.dashboards.conftest import Row, dump, find_panel, normalise
from tests.servers import InfluxServer

TARIFF = Path(__file__).parent / "data" / "xcheck_tariff.yaml"
SITE_ID = "xcheck"
MONTH = "2026-02"
MONTH_PARAMS = {"from": "2026-02-01", "to": "2026-03-01"}
TZ = {"tz": "Europe/Helsinki"}
ROLES = ("facility", "finance")
TOL = 1e-6

M = timedelta(minutes=1)
H = timedelta(hours=1)


def make_site() -> Site:
    # 3 floors of 10 desks and 2 meeting rooms; floor k dedicated (60 % of its
    # desks) to agency agk, the rest shared.
    return synthetic_site(30, desks_per_floor=10, rooms_per_floor=2, agencies=3, site_id=SITE_ID)


def live_scenario(now: datetime) -> Scenario:
    """Scripted last three hours: who is in at ``now`` is known by construction,
    and every change lies at least a minute away from ``now``."""

    def spell(space: str, start: timedelta, end: timedelta, count: int | None = None) -> Any:
        return ScriptedSpell(space=space, start=now - start, end=now + end, count=count)

    return Scenario(
        seed=5,
        occupancy="script",
        script=[
            spell("f1-d0001", 150 * M, 60 * M),
            spell("f1-d0002", 90 * M, -30 * M),  # left half an hour ago
            spell("f1-d0007", 40 * M, 60 * M),  # a shared desk
            spell("f1-r01", 60 * M, 60 * M, count=3),
            spell("f2-d0001", 20 * M, 60 * M),
            spell("f2-r02", 170 * M, 60 * M, count=5),
            spell("f3-d0001", 150 * M, 60 * M),  # its agent goes offline
        ],
        faults=[
            Fault(kind=FaultKind.SILENT, target="f2-d0003", start=now - 2 * H, end=now + H),
            # On a 5-minute boundary: the per-floor trend's intervals then end
            # either before the agent fell silent or after.
            Fault(
                kind=FaultKind.AGENT_OFFLINE, target="agent-f3", start=now - 100 * M, end=now + H
            ),
        ],
        random_faults=None,
    )


@dataclass
class World:
    site: Site
    client: TestClient
    keys: dict[str, str]
    influx: InfluxServer
    database: str
    now: datetime
    month_start: datetime
    month_end: datetime
    models: dict[str, Any]
    store: Any

    def get(self, path: str, role: str = "facility", **params: Any) -> Any:
        r = self.client.get(
            f"/v1/sites/{SITE_ID}{path}",
            headers={"Authorization": f"Bearer {self.keys[role]}"},
            params=params,
        )
        assert r.status_code == 200, r.text
        return r.json()

    def post(self, path: str, role: str, **params: Any) -> Any:
        r = self.client.post(
            f"/v1/sites/{SITE_ID}{path}",
            headers={"Authorization": f"Bearer {self.keys[role]}"},
            params=params,
        )
        assert r.status_code == 200, r.text
        return r.json()

    def panel(
        self,
        file: str,
        title: str,
        ref_id: str = "A",
        *,
        variables: Mapping[str, VarValue],
        start: datetime | None = None,
        end: datetime | None = None,
        interval: str = "1h",
    ) -> list[Row]:
        """A committed panel's query as Grafana would send it for the range
        [start, end] (default: the month), with the panel's own timeFrom."""
        model = self.models[file]
        panel = find_panel(model, title)
        (target,) = [t for t in panel["targets"] if t["refId"] == ref_id]
        lo, hi = time_range(
            start=start or self.month_start,
            end=end or self.month_end,
            time_from=panel.get("timeFrom"),
        )
        query = interpolate(
            target["query"],
            variables=variables,
            start=lo,
            end=hi,
            interval=interval,
            textboxes=TZ,
            all_values=all_values_of(model),
        )
        return normalise(self.influx.query(query, db=self.database, epoch="s"))


@pytest.fixture(scope="module")
def world(influx: InfluxServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    site = make_site()
    database = f"xcheck_{uuid.uuid4().hex[:8]}"
    settings = StoreSettings(url=influx.url, database=database)
    store = open_store(settings)
    month_start, month_end = (
        local_day_bounds(site, date(2026, 2, 1))[0],
        local_day_bounds(site, date(2026, 3, 1))[0],
    )
    helsinki = site.tz
    history = Scenario(
        seed=11,
        sensors=Sensors(heartbeat_s=3600),
        # Unknown time, so coverage is below 1 and ag3's lines are estimated.
        faults=[
            Fault(
                kind=FaultKind.SILENT,
                target="f2-d0004",
                start=datetime(2026, 2, 10, 8, tzinfo=helsinki),
                end=datetime(2026, 2, 12, 12, tzinfo=helsinki),
            ),
            Fault(
                kind=FaultKind.AGENT_OFFLINE,
                target="agent-f3",
                start=datetime(2026, 2, 17, 9, tzinfo=helsinki),
                end=datetime(2026, 2, 20, 13, tzinfo=helsinki),
            ),
        ],
    )
    # From the day before (so every space's state at the month start is
    # known) to past the month's end (the no-show window of charges).
    backfill(site, history, store, month_start - 26 * H, month_end + 2 * H, collect=False)
    # "Now" on a 5-minute boundary, and the live hours up to it.
    wall = datetime.now(UTC).replace(second=0, microsecond=0)
    now = wall - timedelta(minutes=wall.minute % 5)
    backfill(site, live_scenario(now), store, now - 3 * H, now, collect=False)

    tmp = tmp_path_factory.mktemp("xcheck")
    records = f"sqlite:///{tmp}/api.db"
    with make_sessionmaker(make_engine(records))() as session:
        keys = {role: create_key(session, role=role, name=role) for role in ROLES}
    api_settings = ApiSettings(
        registry=tmp,  # unused: the registry is passed in
        store=settings,
        records_url=records,
        broker_url=None,
        tariffs=TARIFF,
        rollup_interval_s=0,
    )
    app = create_app(api_settings, registry=Registry({site.id: site}), store=store)
    from dashboards.build import GENERATED, load_generated

    with TestClient(app) as client:
        w = World(
            site=site,
            client=client,
            keys=keys,
            influx=influx,
            database=database,
            now=now,
            month_start=month_start,
            month_end=month_end,
            models=load_generated(GENERATED),
            store=store,
        )
        w.post("/rollups", "facility", **MONTH_PARAMS)
        w.post(f"/charges/{MONTH}/run", "finance")
        yield w
    store.close()
    influx.query(f'DROP DATABASE "{database}"')


# ---- comparison helpers ---------------------------------------------------------
def close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=TOL, abs_tol=TOL)


def assert_rows(
    got: list[Row], expected: dict[tuple[Any, ...], float], keys: tuple[str, ...], col: str
) -> None:
    """``got`` rows keyed by ``keys`` carry ``col`` equal to ``expected``
    (same keys, values to 1e-6)."""
    found = {tuple(r[k] for k in keys): r[col] for r in got}
    assert set(found) == set(expected), dump(got)
    bad = {k: (found[k], v) for k, v in expected.items() if not close(found[k], v)}
    assert not bad, f"panel vs api differ: {bad}"


def epoch_of_local(site: Site, naive: str) -> int:
    """Epoch seconds of a naive local time ("2026-02-02T00:00:00") of the site."""
    t = pd.Timestamp(naive).tz_localize(site.tz)
    return int(t.timestamp())


def day_epoch(site: Site, day: str) -> int:
    return int(local_day_bounds(site, date.fromisoformat(day[:10]))[0].timestamp())


def rows_of(body: Any) -> list[dict[str, Any]]:
    return body["rows"] if isinstance(body, dict) and "rows" in body else body


ALLV: dict[str, VarValue] = {"site": SITE_ID, "floor": ALL, "zone": ALL}
AGENCIES: dict[str, VarValue] = {"site": SITE_ID, "agency": ALL}
MONTHLY = {"month": MONTH}


def util_rows(w: World, by: str, bucket: str | None = None) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"by": by, **MONTH_PARAMS}
    if bucket:
        params["bucket"] = bucket
    return rows_of(w.get("/utilisation", **params))


# ---- the scenario is what it should be ------------------------------------------
def test_scenario_has_unknown_time_and_estimated_lines(world: World) -> None:
    (site,) = util_rows(world, "site")
    assert 0.9 < site["coverage"] < 1.0
    lines = world.get(f"/charges/{MONTH}", role="finance")["lines"]
    assert any(ln["estimated"] for ln in lines) and not all(ln["estimated"] for ln in lines)


# ---- Utilisation ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("by", "variables"),
    [
        ("site", ALLV),
        ("floor", {**ALLV, "floor": "f2"}),
        ("zone", {**ALLV, "zone": "f3-own"}),
        ("zone", {**ALLV, "zone": ["f1-shared", "f2-shared"]}),
    ],
    ids=["site", "floor f2", "zone f3-own", "zones shared f1+f2"],
)
def test_utilisation_and_coverage_stats(
    world: World, by: str, variables: dict[str, VarValue]
) -> None:
    rows = util_rows(world, by)
    chosen = variables[by] if by != "site" else SITE_ID
    names = {chosen} if isinstance(chosen, str) else set(cast(list[str], chosen))
    picked = [r for r in rows if r[by] in names]
    assert len(picked) == len(names)
    occupied = sum(r["occupied_s"] for r in picked)
    observed = sum(r["observed_s"] for r in picked)
    opening = sum(r["opening_s"] for r in picked)
    (u,) = world.panel("utilisation.json", "Utilisation", variables=variables)
    (c,) = world.panel("utilisation.json", "Coverage", variables=variables)
    assert close(u["utilisation"], occupied / observed), (u, occupied / observed)
    assert close(c["coverage"], observed / opening), (c, observed / opening)
    if len(picked) == 1:  # the api's own ratios, not just its sums
        assert close(u["utilisation"], picked[0]["utilisation"])
        assert close(c["coverage"], picked[0]["coverage"])


@pytest.mark.parametrize(
    ("params", "variables"),
    [
        ({}, ALLV),
        ({"floor": "f3"}, {**ALLV, "floor": "f3"}),
        ({"zone": "f2-own"}, {**ALLV, "zone": "f2-own"}),
    ],
    ids=["site", "floor f3", "zone f2-own"],
)
def test_weekday_hour_heatmap(
    world: World, params: dict[str, str], variables: dict[str, VarValue]
) -> None:
    api = rows_of(world.get("/heatmap", **MONTHLY, **params))
    assert len(api) == 5 * 11  # Monday to Friday, 07-18
    expected = {(WEEKDAYS[r["weekday"]], f"{r['hour']:02d}"): r["utilisation"] for r in api}
    got = world.panel("utilisation.json", "Utilisation by weekday and hour", variables=variables)
    assert_rows(got, expected, ("weekday", "hour"), "utilisation")


def _bucket_epoch(w: World, naive: str) -> int:
    return epoch_of_local(w.site, naive)


@pytest.mark.parametrize(
    ("title", "tag", "interval", "bucket"),
    [
        ("Utilisation per zone", "zone", "1d", "day"),
        ("Utilisation per zone", "zone", "1h", "hour"),
        ("Utilisation per space type", "space_type", "1d", "day"),
    ],
)
def test_utilisation_trends(world: World, title: str, tag: str, interval: str, bucket: str) -> None:
    api = util_rows(world, tag, bucket)
    # A bucket whose spaces were all unknown (the offline agent's floor) has
    # no utilisation in the api, and no row in the panel.
    expected = {
        (r[tag], _bucket_epoch(world, r["bucket"])): r["utilisation"]
        for r in api
        if r["observed_s"] > 0
    }
    if tag == "zone":
        assert any(r["observed_s"] == 0 for r in api)
    got = world.panel("utilisation.json", title, variables=ALLV, interval=interval)
    assert_rows(got, expected, (tag, "time"), "sum_sum")


def test_daily_peak_against_average(world: World) -> None:
    title = "Daily peak against average (occupied spaces)"
    site = world.site
    floors = rows_of(world.get("/peaks", by="floor", daily="true", **MONTHLY))
    whole = rows_of(world.get("/peaks", by="site", daily="true", **MONTHLY))
    assert {r["day"][:10] for r in floors} == {r["day"][:10] for r in whole}
    assert len(whole) == 20  # the open days of February 2026
    peak_floor = {(r["floor"], day_epoch(site, r["day"])): r["peak"] for r in floors}
    peak_site = {(day_epoch(site, r["day"]),): r["peak"] for r in whole}
    assert_rows(
        world.panel("utilisation.json", title, "A", variables=ALLV),
        peak_floor,
        ("floor", "time"),
        "peak",
    )
    assert_rows(
        world.panel("utilisation.json", title, "C", variables=ALLV), peak_site, ("time",), "peak"
    )
    f2 = {k: v for k, v in peak_floor.items() if k[0] == "f2"}
    got = world.panel("utilisation.json", title, "A", variables={**ALLV, "floor": "f2"})
    assert_rows(got, f2, ("floor", "time"), "peak")

    # Average occupied spaces during opening hours: occupied time / opening
    # time of one space (every space has the site's opening hours).
    def average(r: dict[str, Any]) -> float:
        return r["occupied_s"] / (r["opening_s"] / r["spaces"])

    per_floor = {
        (r["floor"], _bucket_epoch(world, r["bucket"])): average(r)
        for r in util_rows(world, "floor", "day")
    }
    per_site = {
        (_bucket_epoch(world, r["bucket"]),): average(r) for r in util_rows(world, "site", "day")
    }
    assert_rows(
        world.panel("utilisation.json", title, "B", variables=ALLV),
        per_floor,
        ("floor", "time"),
        "average",
    )
    assert_rows(
        world.panel("utilisation.json", title, "D", variables=ALLV), per_site, ("time",), "average"
    )


# ---- Space efficiency -----------------------------------------------------------
EFF_FIELDS = (
    "m2_per_htv",
    "target_m2_per_htv",
    "use_rate",
    "desk_sharing_ratio",
    "peak_desks",
    "p90_peak_desks",
    "headcount_htv",
    "utilisation",
    "coverage",
)


def _efficiency(w: World) -> dict[str, dict[str, Any]]:
    return {r["agency"]: r for r in rows_of(w.get("/efficiency", **MONTHLY))}


def test_efficiency_site_stats(world: World) -> None:
    site = _efficiency(world)["_site"]
    for title, field in [
        ("Site m² per htv (latest month)", "m2_per_htv"),
        ("Target m² per htv", "target_m2_per_htv"),
        ("Site use rate (latest month)", "use_rate"),
    ]:
        (row,) = world.panel("efficiency.json", title, variables=AGENCIES)
        assert close(row["last"], site[field]), (title, row, site[field])


def test_efficiency_per_agency(world: World) -> None:
    api = _efficiency(world)
    agencies = sorted(a for a in api if a != "_site")
    assert agencies == ["ag1", "ag2", "ag3"]
    table = world.panel("efficiency.json", "Latest month per agency", variables=AGENCIES)
    for field in EFF_FIELDS:
        expected = {(a,): api[a][field] for a in agencies}
        assert_rows(table, expected, ("agency",), field)
    month = int(world.month_start.timestamp())
    for title, ref, field in [
        ("m² per htv per agency against target", "A", "m2_per_htv"),
        ("Use rate per agency", "A", "use_rate"),
    ]:
        trend: dict[tuple[Any, ...], float] = {(a, month): api[a][field] for a in agencies}
        assert_rows(
            world.panel("efficiency.json", title, ref, variables=AGENCIES),
            trend,
            ("agency", "time"),
            field,
        )
    target = world.panel(
        "efficiency.json", "m² per htv per agency against target", "B", variables=AGENCIES
    )
    assert_rows(
        target, {(month,): api["_site"]["target_m2_per_htv"]}, ("time",), "target_m2_per_htv"
    )
    bars = world.panel("efficiency.json", "Desk-sharing ratio (latest month)", variables=AGENCIES)
    assert_rows(bars, {(a,): api[a]["desk_sharing_ratio"] for a in agencies}, ("agency",), "last")
    one = world.panel(
        "efficiency.json", "Latest month per agency", variables={**AGENCIES, "agency": "ag2"}
    )
    assert [r["agency"] for r in one] == ["ag2"]


# ---- Charges --------------------------------------------------------------------
def _lines(w: World) -> list[dict[str, Any]]:
    body = w.get(f"/charges/{MONTH}", role="finance")
    return cast(list[dict[str, Any]], body["lines"])


def test_charges_totals(world: World) -> None:
    lines = _lines(world)
    cents = sum(round(float(ln["amount_eur"]) * 100) for ln in lines)
    assert cents == 1234567  # the tariff's cost, to the cent
    (total,) = world.panel("charges.json", "Charged in period", variables=AGENCIES)
    assert round(total["sum"] * 100) == cents
    (ag3,) = world.panel(
        "charges.json", "Charged in period", variables={**AGENCIES, "agency": "ag3"}
    )
    assert close(ag3["sum"], sum(float(ln["amount_eur"]) for ln in lines if ln["agency"] == "ag3"))
    (est,) = world.panel("charges.json", "Lines from low-coverage data", variables=AGENCIES)
    assert est["count"] == sum(1 for ln in lines if ln["estimated"])


def test_charges_per_agency_and_month(world: World) -> None:
    lines = _lines(world)
    agencies = sorted({ln["agency"] for ln in lines})
    table = world.panel("charges.json", "Charge per agency and month", variables=AGENCIES)
    found = {(r["month"], r["agency"]): r for r in table}
    assert set(found) == {(MONTH, a) for a in agencies}, dump(table)
    # The statement shows hours and coverage to 4 decimals (and weighted
    # hours to 6), the measurement keeps the exact floats: compare to that.
    for col, field, agg, tol in [
        ("amount_eur", "amount_eur", sum, 1e-9),
        ("hours", "hours", sum, 1e-3),
        ("weighted_hours", "weighted_hours", sum, 1e-5),
        ("min_coverage", "coverage", min, 5e-5),
    ]:
        for a in agencies:
            want = agg(float(ln[field]) for ln in lines if ln["agency"] == a)  # type: ignore[operator]
            assert math.isclose(found[(MONTH, a)][col], want, abs_tol=tol), (col, a, want)
    bars = world.panel("charges.json", "Monthly charge per agency", variables=AGENCIES)
    month = int(world.month_start.timestamp())
    expected = {
        (a, month): sum(float(ln["amount_eur"]) for ln in lines if ln["agency"] == a)
        for a in agencies
    }
    assert_rows(bars, expected, ("agency", "time"), "sum")


def test_charge_lines(world: World) -> None:
    lines = _lines(world)
    got = world.panel("charges.json", "Charge lines (audit)", variables=AGENCIES)
    keys = ("month", "agency", "line")
    for col in ("amount_eur", "hours", "weighted_hours", "coverage"):
        expected = {(MONTH, ln["agency"], ln["line"]): float(ln[col]) for ln in lines}
        # the statement rounds to 4 decimals, the measurement keeps floats
        found = {tuple(r[k] for k in keys): r[col] for r in got}
        assert set(found) == set(expected), dump(got)
        for k, v in expected.items():
            assert math.isclose(found[k], v, abs_tol=5e-5), (col, k, found[k], v)
    flags = {tuple(r[k] for k in keys): (r["estimated"], r["tariff_version"]) for r in got}
    assert flags == {
        (MONTH, ln["agency"], ln["line"]): (int(ln["estimated"]), ln["tariff_version"])
        for ln in lines
    }


# ---- Live occupancy -------------------------------------------------------------
def _live(w: World) -> dict[str, Any]:
    return cast(dict[str, Any], w.get("/live"))


def _live_panel(w: World, title: str, variables: Mapping[str, VarValue] = ALLV) -> list[Row]:
    return w.panel("live.json", title, variables=variables, start=w.now - 6 * H, end=w.now)


def test_live_counts_now(world: World) -> None:
    live = _live(world)
    spaces = live["spaces"]
    known = [s for s in spaces if s["state"] != "unknown"]
    (occ,) = _live_panel(world, "Occupied spaces now")
    assert occ["sum"] == live["totals"]["occupied"] == 5  # by construction of the script
    (rep,) = _live_panel(world, "Spaces reporting")
    assert rep["count"] == len(known) == live["totals"]["occupied"] + live["totals"]["free"]
    (people,) = _live_panel(world, "People counted now")
    assert people["sum"] == sum(s["count"] or 0 for s in known) == 8
    f1 = _live_panel(world, "Occupied spaces now", {**ALLV, "floor": "f1"})
    assert f1 == [{"time": f1[0]["time"], "sum": live["floors"]["f1"]["occupied"]}]


@pytest.mark.parametrize("tag", ["floor", "zone"])
def test_live_per_group_now(world: World, tag: str) -> None:
    live = _live(world)
    groups = live[tag + "s"]
    title = "Occupied per floor now" if tag == "floor" else "Occupied per zone now"
    got = _live_panel(world, title)
    # Groups with no space reporting (the offline agent's floor) have no row.
    reporting = {g: c for g, c in groups.items() if c["occupied"] + c["free"] > 0}
    assert_rows(got, {(g,): c["occupied"] for g, c in reporting.items()}, (tag,), "occupied")
    assert_rows(
        got, {(g,): c["occupied"] + c["free"] for g, c in reporting.items()}, (tag,), "reporting"
    )
    assert {g for g, c in groups.items() if c["unknown"] == c["total"]} == set(groups) - set(
        reporting
    )


def test_offline_agents(world: World) -> None:
    live = _live(world)
    offline = sorted(a["agent"] for a in live["agents"] if not a["online"])
    assert offline == ["agent-f3"]
    (count,) = _live_panel(world, "Agents offline")
    assert count["count"] == len(offline)
    rows = _live_panel(world, "Offline agents")
    assert sorted(r["agent"] for r in rows) == offline


def test_faulty_sensors_and_low_batteries(world: World) -> None:
    health = world.get("/sensors/health")
    online = {a["agent"] for a in health["agents"] if a["online"]}
    # The panel reads the agents' health reports of the last hour, so it
    # lists what online agents report: silent and low-battery sensors.
    expected = sorted(
        s["sensor"]
        for s in health["sensors"]
        if s["agent"] in online and {"silent", "low battery"} & set(s["problems"])
    )
    assert "s-f2-d0003" in expected  # the scripted silent sensor
    rows = _live_panel(world, "Faulty sensors and low batteries")
    assert sorted(r["sensor"] for r in rows) == expected
    batteries = {s["sensor"]: s["battery_pct"] for s in health["sensors"]}
    for r in rows:
        if r["sensor"] in batteries and r["battery_pct"] < 15:
            assert close(r["battery_pct"], batteries[r["sensor"]])


def test_occupied_per_floor_over_time(world: World) -> None:
    """No api route gives this: compared with the api's own state intervals,
    counted at the end of each 5-minute interval of the last two hours."""
    start, end = world.now - 2 * H, world.now
    iv = read_intervals(store=world.store, site=world.site, start=start - H, end=end)
    floor_of = {s.id: world.site.zone(s.zone).floor for s in world.site.spaces}
    got = world.panel(
        "live.json",
        "Occupied spaces per floor",
        variables=ALLV,
        start=start,
        end=end,
        interval="5m",
    )
    expected = {}
    t = start
    while t < end:
        instant = t + 5 * M - timedelta(microseconds=1)
        at = iv[(iv["start"] <= instant) & (iv["end"] > instant) & (iv["state"] == "occupied")]
        counts = at["space"].map(floor_of).value_counts()
        for floor in ("f1", "f2", "f3"):
            expected[(floor, int(t.timestamp()))] = int(counts.get(floor, 0))
        t += 5 * M
    # An interval in which no space of a floor reported (the offline agent's)
    # gives no value, which Grafana draws as a gap: nothing was occupied.
    found = {(r["floor"], r["time"]): r["sum"] for r in got if r["time"] < int(end.timestamp())}
    for key, value in expected.items():
        assert (found.get(key) or 0) == value, (key, found.get(key), value)
    assert {f for f, _ in found} <= {"f1", "f2", "f3"}


# ---- energy of empty space ----------------------------------------------------------
@pytest.fixture(scope="module")
def energy(world: World) -> dict[str, Any]:
    """The month summarised (energy hours written to InfluxDB), the api's
    /energy answers by zone per month and per day, and its energy hours."""
    from summaries.energy import read_energy_hours
    from summaries.reader import PeriodData
    from summaries.summariser import SummaryParams, refresh_site

    days = [date(2026, 2, 1) + timedelta(days=i) for i in range(28)]
    refresh_site(world.store, world.site, SummaryParams(), days=days)
    data = PeriodData(world.store, world.site, world.month_start, world.month_end, SummaryParams())
    hours, _ = read_energy_hours(data)
    return {
        "month": world.get("/energy", by="zone", bucket="month", **MONTH_PARAMS)["rows"],
        "day": world.get("/energy", by="zone", bucket="day", **MONTH_PARAMS)["rows"],
        "hours": hours,
    }


def _zone_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["level"] == "zone"]


def test_energy_totals(world: World, energy: dict[str, Any]) -> None:
    zones = _zone_rows(energy["month"])
    cond = sum(r["conditioned_h"] for r in zones)
    empty = sum(r["empty_h"] for r in zones)
    unknown = sum(r["unknown_h"] for r in zones)
    assert unknown > 0  # the silent sensor and the offline agent
    (got,) = world.panel("energy.json", "Empty conditioned zone-hours", variables=ALLV)
    assert close(got["empty_h"], empty)
    (got,) = world.panel("energy.json", "Empty share of conditioned time", variables=ALLV)
    assert close(got["share"], empty / cond)
    (got,) = world.panel("energy.json", "Unknown share (not counted as empty)", variables=ALLV)
    assert close(got["share"], unknown / cond)
    h = energy["hours"]
    (got,) = world.panel(
        "energy.json", "Whole floor empty, share of conditioned time", variables=ALLV
    )
    assert close(got["share"], h["floor_empty_ns"].sum() / h["conditioned_ns"].sum())


def test_energy_per_zone(world: World, energy: dict[str, Any]) -> None:
    month = {r["group"]: r for r in _zone_rows(energy["month"])}
    got = world.panel("energy.json", "Empty share per zone over the range", variables=ALLV)
    assert_rows(got, {(z,): r["empty_share"] for z, r in month.items()}, ("zone",), "share")
    tz = world.site.tz

    def day_of(row: Row) -> str:
        return datetime.fromtimestamp(row["time"], tz).date().isoformat()

    daily = {(r["group"], r["period"]): r for r in _zone_rows(energy["day"])}
    got = world.panel("energy.json", "Empty conditioned hours per zone per day", variables=ALLV)
    found = {(r["zone"], day_of(r)): r["empty_h"] for r in got}
    assert set(found) == set(daily)
    assert all(close(found[k], daily[k]["empty_h"]) for k in daily)
    got = world.panel(
        "energy.json", "Empty share of conditioned time per zone per day", variables=ALLV
    )
    found = {(r["zone"], day_of(r)): r["share"] for r in got}
    assert all(close(found[k], daily[k]["empty_share"]) for k in daily)


def test_every_panel_query_is_cross_checked() -> None:
    """Each committed target is run by some test of this module."""
    import inspect
    import sys

    source = inspect.getsource(sys.modules[__name__])
    titles = {
        panel["title"]
        for file, model in build_all().items()
        if file != "service.json"  # cross-checked in test_service_vs_api.py
        for panel in model["panels"]
    }
    missing = sorted(t for t in titles if f'"{t}"' not in source)
    assert missing == [], missing
