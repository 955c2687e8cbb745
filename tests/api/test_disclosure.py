"""The differencing check of the disclosure rule (docs/api.md, "Disclosure rule").

The example site is backfilled for two working days into a real SQLite store.
For every agency key, every report endpoint with every grouping, bucket and
filter, and the live snapshot, is called through the API. Each figure shown is
matched to the set of spaces it sums: the API's number must equal an
independent recompute (from the facility key's per-space figures, or a plain
sweep of the intervals) over either the group's visible spaces or its whole
registry membership, and whichever matches is the row's space vector. Then a
rank test: no foreign dedicated space set (another agency's dedicated spaces,
one of its zones, one of its spaces) lies in the row space of all those
vectors, i.e. no linear combination of visible figures isolates it. Before the
fix, floor f2 minus its zones gave vero's figures and this test failed there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import create_key
from api.config import ApiSettings
from api.records import make_engine, make_sessionmaker
from core.registry import Registry, Site, load_site
from metrics.utilisation import group_of
from simulators.backfill import backfill
from simulators.scenario import Scenario, Sensors
from storage import StoreSettings, open_store
from summaries.raw import read_opening_intervals
from tests.conftest import EXAMPLE_SITES

SITE_FILE = EXAMPLE_SITES / "virastotalo.yaml"
PERIOD = {"from": "2026-11-02", "to": "2026-11-04"}  # Monday and Tuesday
START, END = datetime(2026, 11, 1, 20, tzinfo=UTC), datetime(2026, 11, 3, 23, tzinfo=UTC)
GROUPINGS = ("space", "zone", "floor", "site", "agency", "space_type")
BUCKETS = (None, "hour", "day", "week", "month")
MIN_GROUP = 5


@dataclass
class World:
    client: TestClient
    keys: dict[str, str]
    site: Site
    iv: pd.DataFrame  # opening-hour intervals of every space, for recomputes

    def get(self, path: str, role: str, **params: Any) -> Any:
        params = {k: v for k, v in params.items() if v is not None}
        r = self.client.get(
            f"/v1/sites/{self.site.id}{path}",
            headers={"Authorization": f"Bearer {self.keys[role]}"},
            params=params,
        )
        return r


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp: Path = tmp_path_factory.mktemp("disclosure")
    site = load_site(SITE_FILE)
    settings = StoreSettings(url=f"sqlite:///{tmp}/store.db")
    store = open_store(settings)
    scenario = Scenario(seed=7, sensors=Sensors(heartbeat_s=3600), random_faults=None)
    backfill(site, scenario, store, START, END, collect=False)
    records = f"sqlite:///{tmp}/api.db"
    roles = ["facility", *(f"agency:{a.id}" for a in site.agencies)]
    with make_sessionmaker(make_engine(records))() as session:
        keys = {role: create_key(session, role=role, name=role) for role in roles}
    api_settings = ApiSettings(
        registry=SITE_FILE,
        store=settings,
        records_url=records,
        broker_url=None,
        rollup_interval_s=0,
        min_group_spaces=MIN_GROUP,
    )
    iv = read_opening_intervals(
        store=store,
        site=site,
        start=datetime(2026, 11, 1, 22, tzinfo=UTC),
        end=datetime(2026, 11, 3, 22, tzinfo=UTC),
    )
    app = create_app(api_settings, registry=Registry({site.id: site}), store=store)
    with TestClient(app) as client:
        yield World(client, keys, site, iv)
    store.close()


def agency_spaces(site: Site, agency: str) -> set[str]:
    return {s.id for s in site.spaces if site.zone(s.zone).agency == agency}


# ---- independent recomputes ------------------------------------------------
def _sweep_peak(pieces: pd.DataFrame) -> int:
    """Highest number of overlapping occupied intervals (an end before a start)."""
    events = sorted(
        [(t, 1) for t in pieces["start"]] + [(t, -1) for t in pieces["end"]],
        key=lambda e: (e[0], e[1]),
    )
    best = cur = 0
    for _, step in events:
        cur += step
        best = max(best, cur)
    return best


def _daily_peaks(world: World, members: frozenset[str]) -> dict[str, int]:
    occ = world.iv[(world.iv["state"] == "occupied") & world.iv["space"].isin(members)]
    days = sorted(set(world.iv["day"]))
    return {d.isoformat(): _sweep_peak(occ[occ["day"] == d]) for d in days}


class Collector:
    """Rows of visible figures as space vectors, after checking each number."""

    def __init__(self, world: World, agency: str):
        self.world = world
        self.site = world.site
        self.agency = agency
        self.visible = frozenset(  # its own dedicated spaces and the shared ones
            s.id for s in world.site.spaces if world.site.zone(s.zone).agency in (None, agency)
        )
        self.index = {s.id: i for i, s in enumerate(world.site.spaces)}
        self.rows: list[np.ndarray] = []
        self.problems: list[str] = []  # figures that disagree with the recompute
        self.count = 0

    def candidates(self, full: frozenset[str]) -> list[frozenset[str]]:
        return [full & self.visible, full]

    def add(self, members: frozenset[str]) -> None:
        v = np.zeros(len(self.index))
        for s in members:
            v[self.index[s]] = 1.0
        self.rows.append(v)
        self.count += 1

    def match(self, full: frozenset[str], value: float, recompute: Any, what: str) -> None:
        """Add the candidate membership whose recompute equals ``value``."""
        for members in self.candidates(full):
            if members and np.isclose(recompute(members), value, rtol=1e-9, atol=1e-6):
                self.add(members)
                return
        raise AssertionError(f"{what}: {value} is no sum over its visible or whole group")


def _members(site: Site, by: str, group: str, space_type: str | None = None) -> frozenset[str]:
    out = {s for s, g in group_of(site=site, by=by).items() if g == group}  # type: ignore[arg-type]
    if space_type is not None:
        out = {s for s in out if site.space(s).type.value == space_type}
    return frozenset(out)


# ---- the endpoints -----------------------------------------------------------
def collect_utilisation(world: World, c: Collector, role: str) -> None:
    for bucket in BUCKETS:
        ref = pd.DataFrame(
            world.get("/utilisation", "facility", by="space", bucket=bucket, **PERIOD).json()[
                "rows"
            ]
        )
        key = ["space", "bucket"] if bucket else ["space"]
        per_space = ref.set_index(key)
        for by in GROUPINGS:
            r = world.get("/utilisation", role, by=by, bucket=bucket, **PERIOD)
            assert r.status_code == 200, (by, bucket, r.text)
            for row in r.json()["rows"]:
                full = _members(world.site, by, row[by])

                def recompute(
                    members: frozenset[str], row: dict = row, ref: pd.DataFrame = per_space
                ) -> float:
                    sel = ref.reset_index()
                    sel = sel[sel["space"].isin(members)]
                    if "bucket" in row and row["bucket"] is not None:
                        sel = sel[sel["bucket"] == row["bucket"]]
                    return float(sel["occupied_s"].sum())

                c.match(full, row["occupied_s"], recompute, f"utilisation by={by} bucket={bucket}")
                if by != "space" and row["spaces"] != len(full & c.visible):
                    c.problems.append(f"utilisation by={by} {row[by]}: spaces {row['spaces']}")


def collect_heatmap(world: World, c: Collector, role: str) -> None:
    ref = pd.DataFrame(
        world.get("/utilisation", "facility", by="space", bucket="hour", **PERIOD).json()["rows"]
    )
    ref["hour_ts"] = pd.to_datetime(ref["bucket"])
    ref["weekday"] = ref["hour_ts"].dt.day_of_week
    ref["hour"] = ref["hour_ts"].dt.hour
    filters = (
        [(None, None)]
        + [(z.id, None) for z in world.site.zones]
        + [(None, f.id) for f in world.site.floors]
    )
    for zone, floor in filters:
        r = world.get("/heatmap", role, zone=zone, floor=floor, **PERIOD)
        if r.status_code == 403:
            continue
        assert r.status_code == 200, r.text
        by, group = (
            ("zone", zone) if zone else ("floor", floor) if floor else ("site", world.site.id)
        )
        full = _members(world.site, by, group)
        for row in r.json()["rows"]:

            def recompute(members: frozenset[str], row: dict = row) -> float:
                sel = ref[
                    ref["space"].isin(members)
                    & (ref["weekday"] == row["weekday"])
                    & (ref["hour"] == row["hour"])
                ]
                return float(sel["occupied_s"].sum())

            c.match(full, row["occupied_s"], recompute, f"heatmap {zone or floor}")


def collect_peaks(world: World, c: Collector, role: str) -> None:
    for by in GROUPINGS:
        for space_type in (None, "desk"):
            for daily in (False, True):
                r = world.get("/peaks", role, by=by, space_type=space_type, daily=daily, **PERIOD)
                assert r.status_code == 200, r.text
                for row in r.json()["rows"]:
                    full = _members(world.site, by, row[by], space_type)

                    def recompute(
                        members: frozenset[str], row: dict = row, daily: bool = daily
                    ) -> float:
                        peaks = _daily_peaks(world, members)
                        return float(peaks[row["day"]] if daily else max(peaks.values()))

                    if "spaces" in row and by != "space" and row["spaces"] != len(full & c.visible):
                        c.problems.append(f"peaks by={by} {row[by]}: spaces {row['spaces']}")
                    value = row["peak"] if daily else row["max_peak"]
                    if value == 0:  # a zero tells nothing about which spaces it counts
                        c.add(full & c.visible)
                        c.add(full)
                        continue
                    c.match(full, value, recompute, f"peaks by={by} type={space_type}")


def collect_efficiency(world: World, c: Collector, role: str, agency: str) -> None:
    ref = pd.DataFrame(world.get("/utilisation", "facility", by="space", **PERIOD).json()["rows"])
    rows = world.get("/efficiency", role, **PERIOD).json()["rows"]
    assert [r["agency"] for r in rows] == [agency, "_site"]
    own, site_row = rows
    members = frozenset(agency_spaces(world.site, agency))
    sel = ref[ref["space"].isin(members)]
    assert own["utilisation"] == pytest.approx(sel["occupied_s"].sum() / sel["observed_s"].sum())
    c.add(members)
    # the shared area is split by headcount: no other agency's use enters it
    dedicated = sum(world.site.space(s).area_m2 for s in members)
    all_dedicated = sum(
        s.area_m2 for s in world.site.spaces if world.site.zone(s.zone).agency is not None
    )
    htv = {a.id: a.headcount_htv for a in world.site.agencies}
    rest = world.site.area_m2 - all_dedicated
    assert own["area_m2"] == pytest.approx(dedicated + rest * htv[agency] / sum(htv.values()))
    for col in ("peak_desks", "p90_peak_desks", "use_rate", "utilisation", "coverage"):
        assert site_row[col] is None, col


def collect_live(world: World, c: Collector, role: str) -> None:
    body = world.get("/live", role).json()
    for by, key in (("floor", "floors"), ("zone", "zones")):
        for group, counts in body[key].items():
            full = _members(world.site, by, group)
            c.match(full, counts["total"], len, f"live {by} {group}")
    if body["totals"]:
        full = frozenset(s.id for s in world.site.spaces)
        c.match(full, body["totals"]["total"], len, "live totals")
    shown = {s["space"] for s in body["spaces"]}
    assert shown <= agency_spaces(world.site, c.agency)
    # the replay of a backfilled day follows the live rule: its own spaces only
    replay = world.get("/replay", role, date="2026-11-02")  # a Monday inside the backfill
    assert replay.status_code == 200, replay.text
    assert set(replay.json()["spaces"]) == agency_spaces(world.site, c.agency)


def foreign_sets(site: Site, agency: str) -> list[tuple[str, frozenset[str]]]:
    out = []
    for other in site.agencies:
        if other.id == agency:
            continue
        out.append((f"agency {other.id}", frozenset(agency_spaces(site, other.id))))
        for z in site.zones:
            if z.agency == other.id:
                zone = frozenset(s.id for s in site.spaces if s.zone == z.id)
                out.append((f"zone {z.id}", zone))
                out += [(f"space {s}", frozenset({s})) for s in sorted(zone)]
    return out


def isolable(rows: list[np.ndarray], target: np.ndarray) -> bool:
    """Whether ``target`` is a linear combination of ``rows`` (rank test)."""
    a = np.unique(np.array(rows), axis=0)
    return bool(np.linalg.matrix_rank(np.vstack([a, target])) == np.linalg.matrix_rank(a))


@pytest.mark.parametrize("agency", ["vero", "dvv", "prh", "tilastokeskus", "avi"])
def test_no_combination_of_visible_figures_isolates_another_agency(
    world: World, agency: str
) -> None:
    assert {a.id for a in world.site.agencies} == {"vero", "dvv", "prh", "tilastokeskus", "avi"}
    role = f"agency:{agency}"
    c = Collector(world, agency)
    collect_utilisation(world, c, role)
    collect_heatmap(world, c, role)
    collect_peaks(world, c, role)
    collect_live(world, c, role)
    assert c.count > 500  # every endpoint and grouping contributed
    leaks = []
    for name, spaces in foreign_sets(world.site, agency):
        target = np.zeros(len(c.index))
        for s in spaces:
            target[c.index[s]] = 1.0
        if isolable(c.rows, target):
            leaks.append(name)
    assert leaks == []
    assert c.problems == []
    collect_efficiency(world, c, role, agency)


def test_the_rank_test_finds_the_floor_minus_zones_leak(world: World) -> None:
    """The check itself: floor f2 and its zones over whole groups isolate vero."""
    site = world.site
    c = Collector(world, "dvv")
    c.add(_members(site, "floor", "f2"))
    for z in site.zones:
        if z.floor == "f2" and z.agency != "vero":
            c.add(_members(site, "zone", z.id))
    vero = np.zeros(len(c.index))
    for s in agency_spaces(site, "vero") & _members(site, "floor", "f2"):
        vero[c.index[s]] = 1.0
    assert isolable(c.rows, vero)
