"""Summaries against the raw recompute on random small worlds (Hypothesis).

Each example is a random site (1-2 floors, 2-4 zones dedicated or shared,
several desks and rooms per zone, spaces without a sensor, 2-3 agencies) in a
time zone with DST, with its country's public holidays and sometimes a
closure day, and random opening hours per weekday (around the clock, over the
night hours the clocks change in, split, short, or closed). Over 2-4 local
days that include a DST change day: random presence streams (changes,
heartbeats, people counts, sensors silent past the silence factor or for
good, points of a space the registry does not know) and agents going offline,
written through the marking store the ingest uses (``storage.marks``) in
batches out of time order, with duplicates. The summariser runs; late points
arrive (their days turn dirty and reports read those days from raw points);
the summariser runs again. After each step every report endpoint, with every
grouping, bucket, space-type filter and peak form, for a facility key and an
agency key, answers the same JSON from summaries as with ``source=raw``, and
the metadata names exactly the days the late points touched. The merge gap is
on or off.

Bookings are not drawn: no report reads them (only charges do, and charges
have no summaries path).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, example, given, note, settings
from hypothesis import strategies as st

from api.app import create_app
from api.auth import create_key
from api.config import ApiSettings
from api.records import make_engine, make_sessionmaker
from core.calendar import local_day_bounds
from core.registry import Registry, Site, SpaceType
from metrics.cells import sort_cells
from storage import StoreSettings
from storage.base import AGENT_STATUS, PRESENCE, Point
from storage.marks import MarkingStore
from storage.sqlite import SQLiteStore
from summaries.compute import ALL
from summaries.reader import PeriodData
from summaries.summariser import SummaryParams, refresh_site, site_status
from tests.summaries.test_groups import assert_group_rows_equal

# (time zone, holiday calendar, a local day with a DST change). Dublin's and
# Sydney's come with a public holiday the next day (October bank holiday, NSW
# Labour Day); Lord Howe moves its clocks by half an hour; Santiago and Havana
# move them at midnight (a day without its midnight, a day whose midnight
# happens twice; Santiago's 4 April ends with 23:00-24:00 twice).
ZONES = [
    ("Europe/Helsinki", {"country": "FI"}, date(2026, 3, 29)),
    ("Europe/Helsinki", {"country": "FI"}, date(2026, 10, 25)),
    ("Europe/Dublin", {"country": "IE"}, date(2026, 10, 25)),
    ("America/New_York", {"country": "US"}, date(2026, 3, 8)),
    ("America/New_York", {"country": "US"}, date(2026, 11, 1)),
    ("Australia/Sydney", {"country": "AU", "subdivision": "NSW"}, date(2026, 10, 4)),
    ("Australia/Lord_Howe", {"country": "AU", "subdivision": "NSW"}, date(2026, 4, 5)),
    ("Australia/Lord_Howe", {"country": "AU", "subdivision": "NSW"}, date(2026, 10, 4)),
    ("America/Santiago", {"country": "CL"}, date(2026, 4, 4)),
    ("America/Santiago", {"country": "CL"}, date(2026, 9, 6)),
    ("America/Havana", {"country": "CU"}, date(2026, 3, 8)),
    ("America/Havana", {"country": "CU"}, date(2026, 11, 1)),
]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS = [["00:00-24:00"], ["01:00-04:00", "08:00-16:30"], ["07:00-18:00"], ["09:15-11:45"], []]
AGENCIES = ("aa", "bb", "cc")
ROLES = ("facility", "agency:aa")
GROUPINGS = ("space", "zone", "floor", "site", "agency", "space_type")
BUCKETS = (None, "hour", "day", "week", "month")
S = 1_000_000_000


@dataclass(frozen=True)
class World:
    site: Site
    days: list[date]  # the local days reported: the streams start late in the first
    early: list[list[Point]]  # batches, in the order they are written
    late: list[list[Point]]
    merge_gap_s: float
    seed: int

    def __repr__(self) -> str:  # what Hypothesis prints for a failing example
        n = sum(map(len, self.early)), sum(map(len, self.late))
        hours = {d: getattr(self.site.opening_hours, d) for d in WEEKDAYS}
        return (
            f"World(seed {self.seed}, {self.site.timezone}, days {self.days[0]}..{self.days[-1]}, "
            f"closures {self.site.closures}, hours {hours}, {len(self.site.spaces)} spaces, "
            f"merge gap {self.merge_gap_s}, {n[0]} early and {n[1]} late points)"
        )


def random_site(rng: random.Random, zone: int) -> tuple[Site, list[date]]:
    """A small random site in ``ZONES[zone]`` and the local days reported: 2-4
    days around its DST change, and the day before (the streams start in it)."""
    tz, holidays, dst = ZONES[zone]
    n_floors = rng.randint(1, 2)
    agencies = AGENCIES[: rng.randint(2, 3)]
    zones: list[dict[str, Any]] = []
    for i in range(rng.randint(2, 4)):
        zones.append({"id": f"z{i}", "name": f"Zone {i}", "floor": f"f{i % n_floors}"})
        agency = rng.choice([None, *agencies])
        if agency is not None:
            zones[-1]["agency"] = agency
    spaces: list[dict[str, Any]] = []
    for z in zones:
        for j in range(rng.randint(1, 4)):
            kind = rng.choice(["desk", "desk", "meeting_room", "phone_booth"])
            space: dict[str, Any] = {
                "id": f"{z['id']}s{j}",
                "type": kind,
                "zone": z["id"],
                "capacity": rng.randint(0, 8) if kind == "meeting_room" else 1,
                "area_m2": 6.0 if kind == "desk" else 12.5,
                "geometry": {"x": 2.0 * len(spaces), "y": 1.0, "w": 1.5, "h": 1.0},
            }
            if rng.random() < 0.9:  # one space in ten has no sensor
                space["sensor"] = {"id": f"sn-{space['id']}", "agent": f"ag{j % 2}"}
            spaces.append(space)
    window = rng.randint(2, 4)
    first = dst - timedelta(days=rng.randint(0, window - 1))
    days = [first + timedelta(days=i) for i in range(-1, window)]
    site = Site.model_validate(
        {
            "id": "rnd",
            "name": "Random site",
            "timezone": tz,
            "opening_hours": {d: rng.choice(HOURS) for d in WEEKDAYS},
            "holidays": holidays,
            "closures": [rng.choice(days)] if rng.random() < 0.4 else [],
            "area_m2": 500.0,
            "heartbeat_s": float(rng.choice([600, 1800])),
            "agencies": [
                {"id": a, "name": a.upper(), "headcount_htv": 3.0 + k}
                for k, a in enumerate(agencies)
            ],
            "floors": [
                {"id": f"f{k}", "name": f"F{k}", "level": k, "plan": {"width": 80, "height": 5}}
                for k in range(n_floors)
            ],
            "zones": zones,
            "spaces": spaces,
        }
    )
    return site, days


def presence_stream(rng: random.Random, site: Site, space: str, lo: int, hi: int) -> list[Point]:
    """Changes and heartbeats of one sensor in [lo, hi): now and then silent for
    at least the silence factor's 2.5 heartbeats, sometimes silent for good."""
    spec = site.space(space)
    hb = rng.choice([600, 900, 1800, 3600])
    send_hb = rng.random() < 0.8  # else the site's heartbeat_s applies
    step = hb if send_hb else int(site.heartbeat_s)
    counted = spec.type is not SpaceType.DESK and rng.random() < 0.8
    end = rng.randrange(lo, hi) if rng.random() < 0.15 else hi
    t = lo + rng.randrange(0, 4 * 3600) * S + rng.randrange(S)
    occupied = rng.random() < 0.3
    out = []
    for seq in itertools.count():
        if t >= end:
            break
        fields: dict[str, Any] = {"occupied": int(occupied), "seq": seq}
        if send_hb:
            fields["hb"] = float(hb)
        if counted:
            fields["count"] = rng.randint(1, spec.capacity + 2) if occupied else 0
        out.append(Point(PRESENCE, site.space_tags(space), fields, t))
        r = rng.random()
        if r < 0.04:
            t += int(step * rng.choice([2.5, rng.uniform(2.5, 8.0)]) * S)
        elif r < 0.45:
            occupied = not occupied
            t += rng.randrange(1, step) * S + rng.randrange(S)
        else:
            t += step * S
    return out


def status_stream(rng: random.Random, site: Site, agent: str, lo: int, hi: int) -> list[Point]:
    tags = {"site": site.id, "agent": agent}
    out = []
    if rng.random() < 0.5:
        out.append(Point(AGENT_STATUS, tags, {"online": 1}, lo + rng.randrange(0, 3600) * S))
    for _ in range(rng.randint(0, 2)):
        off = rng.randrange(lo, hi)
        out.append(Point(AGENT_STATUS, tags, {"online": 0}, off))
        back = off + rng.randrange(60, 14 * 3600) * S
        if back < hi and rng.random() < 0.8:
            out.append(Point(AGENT_STATUS, tags, {"online": 1}, back))
    return out


def batches(rng: random.Random, points: list[Point]) -> list[list[Point]]:
    """Points in batches of random sizes, the batches and their points out of
    time order now and then (an outbox replaying, a spool flushed late)."""
    points = sorted(points, key=lambda p: p.time_ns)
    out = []
    while points:
        n = rng.randint(1, max(1, len(points) // 3))
        batch, points = points[:n], points[n:]
        if rng.random() < 0.3:
            rng.shuffle(batch)
        out.append(batch)
    if rng.random() < 0.5:
        rng.shuffle(out)
    return out


def make_world(*, zone: int, seed: int, merge_gap_s: float) -> World:
    """A random world: the site, its points, which of them arrive late."""
    rng = random.Random(seed)
    site, days = random_site(rng, zone)
    lo = int(pd.Timestamp(local_day_bounds(site, days[0])[1]).value)
    lo -= rng.randrange(1, 8) * 3600 * S  # late on the day before
    hi = int(pd.Timestamp(local_day_bounds(site, days[-1])[1]).value)
    sensed = [s.id for s in site.spaces if s.sensor is not None]
    points = [p for s in sensed for p in presence_stream(rng, site, s, lo, hi)]
    points += [p for a in site.agents() for p in status_stream(rng, site, a, lo, hi)]
    if rng.random() < 0.5:  # a sensor the registry does not know (yet)
        ghost = {**site.space_tags(site.spaces[0].id), "space": "ghost"}
        points.append(Point(PRESENCE, ghost, {"occupied": 1}, rng.randrange(lo, hi)))
    late = set()
    if rng.random() < 0.7:  # a random tenth of everything
        late |= {i for i in range(len(points)) if rng.random() < 0.1}
    if sensed and rng.random() < 0.7:  # one space's outbox: a few hours of its points
        space, at = rng.choice(sensed), rng.randrange(lo, hi)
        late |= {
            i
            for i, p in enumerate(points)
            if p.tags.get("space") == space and at <= p.time_ns < at + 6 * 3600 * S
        }
    if rng.random() < 0.5:  # the agents' status, delivered late
        late |= {i for i, p in enumerate(points) if p.measurement == AGENT_STATUS}
    dups = [p for p in points if rng.random() < 0.05]
    early = [p for i, p in enumerate(points) if i not in late] + dups[: len(dups) // 2]
    later = [points[i] for i in sorted(late)] + dups[len(dups) // 2 :]
    return World(
        site=site,
        days=days,
        early=batches(rng, early),
        late=batches(rng, later),
        merge_gap_s=merge_gap_s,
        seed=seed,
    )


worlds = st.builds(
    make_world,
    zone=st.integers(0, len(ZONES) - 1),
    seed=st.integers(0, 2**32 - 1),
    merge_gap_s=st.sampled_from([0.0, 600.0]),
)


def local_days(site: Site, points: list[Point]) -> set[date]:
    times = pd.to_datetime(pd.Series([p.time_ns for p in points], dtype="int64"), utc=True)
    return set(times.dt.tz_convert(site.timezone).dt.date)


def period_data(world: World, store: MarkingStore, source: str) -> PeriodData:
    site = world.site
    return PeriodData(
        store=store,
        site=site,
        start=local_day_bounds(site, world.days[0])[0],
        end=local_day_bounds(site, world.days[-1])[1],
        params=SummaryParams(merge_gap_s=world.merge_gap_s),
        source=source,  # type: ignore[arg-type]
    )


def assert_same_inputs(world: World, store: MarkingStore, *, every_view: bool) -> dict[str, Any]:
    """Every input a report is made of, from summaries and from raw points:
    hour cells, day cells, and the daily peaks of every group level and
    space-type filter, for every key's view (``every_view``) or all spaces;
    returns the summaries' metadata."""
    site = world.site
    summ, raw = period_data(world, store, "summaries"), period_data(world, store, "raw")
    for cells in ("day_cells", "hour_cells"):
        pd.testing.assert_frame_equal(
            sort_cells(getattr(summ, cells)(), site),
            sort_cells(getattr(raw, cells)(), site),
            check_exact=True,
            obj=cells,
        )
    pd.testing.assert_frame_equal(
        summ.presence_pairs(), raw.presence_pairs(), check_exact=True, obj="presence"
    )
    types = [None, *sorted({s.type.value for s in site.spaces})]
    views = [ALL, *(a.id for a in site.agencies)] if every_view else [ALL]
    for view in views:
        # stored per view: floor, site, space_type (``summaries.compute.VIEW_LEVELS``)
        levels = GROUPINGS if view == ALL else ("floor", "site", "space_type")
        for level in levels:
            for t in types:
                pd.testing.assert_frame_equal(
                    summ.daily_peaks(level=level, types=t, view=view),
                    raw.daily_peaks(level=level, types=t, view=view),
                    check_exact=True,
                    obj=f"peaks {level}/{t}/{view}",
                )
    # the per-group daily rows (stored ones where the day is committed) equal
    # the raw path's and the sums of the day cells
    assert_group_rows_equal(site, summ, raw)
    return summ.meta()


def asks() -> list[tuple[str, str, dict[str, Any]]]:
    """(role, endpoint, query) of every report a key can ask for."""
    out: list[tuple[str, dict[str, Any]]] = []
    for by in GROUPINGS:
        for bucket in BUCKETS:
            out.append(("utilisation", {"by": by, **({"bucket": bucket} if bucket else {})}))
        for space_type in (None, "desk", "meeting_room"):
            for daily in (False, True):
                q = {"by": by, "daily": daily, **({"space_type": space_type} if space_type else {})}
                out.append(("peaks", q))
    out += [("heatmap", {}), ("efficiency", {})]
    return [(role, path, q) for role in ROLES for path, q in out]


ASKS = asks()


def assert_same_answers(
    client: TestClient, keys: dict[str, str], world: World, chosen: list[int]
) -> None:
    """The endpoints' JSON (or refusal) from summaries and with ``source=raw``."""
    period = {"from": world.days[0].isoformat(), "to": (world.days[-1] + timedelta(1)).isoformat()}
    for i in chosen:
        role, path, q = ASKS[i]
        answers = []
        for source in ("summaries", "raw"):
            r = client.get(
                f"/v1/sites/{world.site.id}/{path}",
                params={**period, **q, "source": source},
                headers={"Authorization": f"Bearer {keys[role]}"},
            )
            # 403: an agency that may see no group of this kind; the same both ways
            assert r.status_code in (200, 403), (role, path, q, r.text)
            body = r.json()
            answers.append((r.status_code, body.get("rows", body.get("detail"))))
        assert answers[0] == answers[1], (role, path, q)


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, str]]:
    folder = tmp_path_factory.mktemp("random-worlds")
    url = f"sqlite:///{folder}/api.db"
    with make_sessionmaker(make_engine(url))() as session:
        keys = {role: create_key(session, role=role, name=role) for role in ROLES}
    return folder, url, keys


_n = itertools.count()


def each_zone(test: Any) -> Any:
    """An explicit example per zone (a generated sequence may miss one); between
    them they ask every report of ``ASKS`` once."""
    for i in reversed(range(len(ZONES))):
        world = make_world(zone=i, seed=1000 + i, merge_gap_s=600.0 * (i % 2))
        test = example(world=world, chosen=list(range(i, len(ASKS), len(ZONES))))(test)
    return test


@settings(
    max_examples=4,  # besides one example per zone
    deadline=None,
    derandomize=True,  # the same examples on every run and machine
    database=None,
    # No shrinking: one example takes seconds, shrinking one would outlast the
    # test's timeout; the failing example's description says what it was.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    world=worlds,
    chosen=st.lists(st.integers(0, len(ASKS) - 1), min_size=4, max_size=4, unique=True),
)
@each_zone
def test_random_world_equal_from_summaries_and_raw(
    world: World, chosen: list[int], records: tuple[Path, str, dict[str, str]]
) -> None:
    note(repr(world))
    folder, records_url, keys = records
    site = world.site
    path = folder / f"store{next(_n)}.db"
    store = MarkingStore(SQLiteStore(path), {site.id: site.tz})
    params = SummaryParams(merge_gap_s=world.merge_gap_s)
    # the summariser's "today": the day after the reported days
    now = local_day_bounds(site, world.days[-1] + timedelta(days=1))[0] + timedelta(hours=1)
    assert now < datetime.now(site.tz), "the reported days must lie in the past"
    reported = set(world.days)
    try:
        for batch in world.early:
            store.write(batch)
        refresh_site(store, site, params, now=now)
        assert site_status(store, site, params, now=now).dirty == []
        for batch in world.late:
            store.write(batch)
        touched = local_days(site, [p for b in world.late for p in b])
        assert site_status(store, site, params, now=now).dirty == sorted(touched)
        # the late data's days come from raw points until the next cycle
        meta = assert_same_inputs(world, store, every_view=False)
        assert meta["stale_days"] == sorted(d.isoformat() for d in reported & touched)
        assert meta["days_from_summaries"] == len(reported - touched)
        app = create_app(
            ApiSettings(
                registry=folder,
                store=StoreSettings(url=f"sqlite:///{path}"),
                records_url=records_url,
                broker_url=None,
                merge_gap_s=world.merge_gap_s,
                min_group_spaces=1,  # an agency sees every group: more figures compared
                rollup_interval_s=0,
                summaries_interval_s=0,
            ),
            registry=Registry({site.id: site}),
            store=store,
        )
        with TestClient(app) as client:
            assert_same_answers(client, keys, world, chosen[: len(chosen) // 2])
            refresh_site(store, site, params, now=now)
            assert site_status(store, site, params, now=now).dirty == []
            meta = assert_same_inputs(world, store, every_view=True)
            assert meta["stale_days"] == [] and meta["days_from_raw"] == []
            assert meta["days_from_summaries"] == len(reported)
            assert_same_answers(client, keys, world, chosen[len(chosen) // 2 :])
    finally:
        store.close()
