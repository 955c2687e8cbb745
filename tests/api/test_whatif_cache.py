"""The what-if's interval cache (api/whatif_cache.py) on the hand-worked Monday
of tests/api/test_whatif.py, in a real SQLite store written through the
marking store and summarised by the real summariser.

Moving aa from pieni to toinen: toinen's desk demand peaks at 7 (of 10).
A late point then puts toinen's shared desk s1 in use 12:30-13:00, when
toinen's own 7 desks are in use too: 8. The day is dirty until the
summariser runs again, so it is read from raw points (8, not the kept 7);
once summarised, its new generation is kept and reused.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api import whatif
from api.app import create_app
from api.auth import create_key
from api.config import ApiSettings
from api.records import make_engine, make_sessionmaker
from api.whatif_cache import IntervalCache, by_day
from core.messages import Presence
from core.registry import Registry, Site, load_site
from storage import StoreSettings, open_store
from storage.marks import MarkingStore
from storage.points import presence_point
from summaries.summariser import SummaryParams, refresh_site
from tests.api.conftest import SMALL_SITE
from tests.api.test_whatif import DAY, MOVE, PERIOD, by_site, points, second_site

PARAMS = SummaryParams()


@dataclass
class Env:
    client: TestClient
    key: str
    store: MarkingStore
    sites: list[Site]
    cache: IntervalCache

    def ask(self, **body: Any) -> dict[str, Any]:
        r = self.client.post(
            "/v1/portfolio/what-if",
            json={**PERIOD, "moves": [MOVE], **body},
            headers={"Authorization": f"Bearer {self.key}"},
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    def summarise(self, *sites: Site) -> None:
        for site in sites or self.sites:
            refresh_site(self.store, site, PARAMS, days=[DAY.date()])

    def uncached(self) -> dict[str, Any]:
        req = whatif.WhatIfRequest.model_validate({**PERIOD, "moves": [MOVE]})
        registry = Registry({s.id: s for s in self.sites})
        return whatif.what_if(
            store=self.store, registry=registry, params=PARAMS, req=req, tariffs=None
        )


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    first = load_site(SMALL_SITE)
    sites = [first, second_site(first)]
    settings = StoreSettings(url=f"sqlite:///{tmp_path}/occ.db")
    raw = open_store(settings)
    store = MarkingStore(raw, {s.id: s.tz for s in sites})
    for site in sites:
        store.write(points(site))
    records = f"sqlite:///{tmp_path}/api.db"
    with make_sessionmaker(make_engine(records))() as session:
        key = create_key(session, role="finance", name="planner")
    api_settings = ApiSettings(
        store=settings,
        records_url=records,
        broker_url=None,
        rollup_interval_s=0,
        summaries_interval_s=0,
    )
    app = create_app(api_settings, registry=Registry({s.id: s for s in sites}), store=store)
    with TestClient(app) as client:
        cache = app.state.ctx.whatif_intervals
        yield Env(client, key, store, sites, cache)
    raw.close()


def late_point(site: Site) -> Any:
    # s1 is free all day at toinen (hourly heartbeats say so); in use from
    # 12:30 until the 13:00 heartbeat
    msg = Presence(
        space_id="s1",
        agent_id="ag",
        sensor_id="s-s1",
        occupied=True,
        event_time=(DAY + timedelta(hours=12, minutes=30)).astimezone(UTC),
        seq=10_000,
        kind="change",
        heartbeat_interval_s=3600,
    )
    return presence_point(site, msg)


def desks(answer: dict[str, Any]) -> float:
    return float(by_site(answer)["toinen"]["desks"]["max_peak"])


def test_unsummarised_days_are_read_from_raw_points_every_time(env: Env) -> None:
    a, b = env.ask(), env.ask()
    assert a == b and desks(a) == 7
    assert (env.cache.hits, env.cache.misses, env.cache.rows) == (0, 4, 0)  # 2 calls x 2 sites


def test_summarised_days_are_kept_and_give_the_same_answer(env: Env) -> None:
    env.summarise()
    first = env.ask()
    assert (env.cache.hits, env.cache.misses) == (0, 2)  # one day at each of two sites
    assert env.cache.rows > 0
    second = env.ask()
    assert (env.cache.hits, env.cache.misses) == (2, 2)
    assert first == second == env.uncached()
    assert desks(second) == 7


def test_a_late_point_is_seen_until_and_after_the_summariser_runs(env: Env) -> None:
    env.summarise()
    assert desks(env.ask()) == 7
    toinen = env.sites[1]
    env.store.write([late_point(toinen)])  # marks toinen's day dirty
    dirty = env.ask()
    assert desks(dirty) == 8  # 7 own desks + s1, 12:30-13:00
    assert (env.cache.hits, env.cache.misses) == (1, 3)  # pieni kept, toinen read
    assert dirty == env.uncached()
    env.summarise(toinen)  # a new generation: read once more, then kept
    assert desks(env.ask()) == 8 and (env.cache.hits, env.cache.misses) == (2, 4)
    assert desks(env.ask()) == 8 and (env.cache.hits, env.cache.misses) == (4, 4)


def test_the_cache_keeps_at_most_max_rows(env: Env) -> None:
    env.summarise()
    env.ask()
    one_day = env.cache.rows
    small = IntervalCache(max_rows=one_day - 1)  # not even both days fit
    req = whatif.WhatIfRequest.model_validate({**PERIOD, "moves": [MOVE]})
    registry = Registry({s.id: s for s in env.sites})
    kw: dict[str, Any] = {"store": env.store, "registry": registry, "params": PARAMS,
                          "req": req, "tariffs": None, "cache": small}  # fmt: skip
    assert whatif.what_if(**kw) == whatif.what_if(**kw) == env.uncached()
    assert small.rows <= one_day - 1


def test_by_day_splits_at_local_midnight_and_fills_empty_days() -> None:
    import pandas as pd

    site = load_site(SMALL_SITE)
    # 23:30 UTC on 1 Nov is 01:30 on 2 Nov in Helsinki (UTC+2)
    frame = pd.DataFrame(
        {
            "space": ["a1", "a2"],
            "state": ["occupied", "occupied"],
            "start": pd.to_datetime(["2026-11-01T21:00Z", "2026-11-01T23:30Z"], utc=True),
            "end": pd.to_datetime(["2026-11-01T21:30Z", "2026-11-02T00:00Z"], utc=True),
        }
    )
    first = DAY.date() - timedelta(days=1)
    parts = by_day(frame, site, first, DAY.date() + timedelta(days=1))
    assert {d: list(p["space"]) for d, p in parts.items()} == {
        first: ["a1"],
        DAY.date(): ["a2"],
        DAY.date() + timedelta(days=1): [],
    }
