"""The portfolio's efficiency of many sites in one pass
(``api.portfolio.efficiency_at_once``) against each site computed on its own
(``api.portfolio._site_efficiency``), on three sites backfilled by the
simulator for two days and summarised: the example site (Helsinki), a copy
in London without agency ``avi`` (its zones shared, another seed) and a copy
in Helsinki whose second day is made dirty by a late message (a day not
wholly from summaries: that site must be left to its own read).

The frames must be equal to the last bit (``check_exact``), for a facility
key and for agency keys; the report through the API must be the same with
and without the one pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api import access, portfolio
from api.app import create_app
from api.auth import Principal, create_key
from api.config import ApiSettings
from api.records import make_engine, make_sessionmaker
from core.calendar import local_day_bounds
from core.registry import Registry, Site
from simulators.backfill import backfill
from simulators.scenario import Scenario
from storage import StoreSettings
from storage.base import PRESENCE, Point
from storage.marks import MarkingStore
from storage.sqlite import SQLiteStore
from summaries import reader
from summaries.reader import PeriodData
from summaries.summariser import SummaryParams, refresh_site
from tests.api.test_portfolio import variant, without_agency

FIRST = date(2026, 3, 2)  # a Monday
DAYS = [FIRST + timedelta(days=i) for i in range(2)]
Q = {"from": FIRST.isoformat(), "to": (DAYS[-1] + timedelta(days=1)).isoformat()}
ROLES = ("facility", "agency:vero", "agency:avi")
DIRTY = "vt-likainen"


@pytest.fixture(scope="module")
def world(example_site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("at_once")
    london = without_agency(example_site, "avi")
    sites = [
        example_site,
        Site.model_validate({**london, "id": "vt-lontoo", "timezone": "Europe/London"}),
        variant(example_site, id=DIRTY),
    ]
    store = MarkingStore(SQLiteStore(tmp / "occ.db"), {s.id: s.tz for s in sites})
    for n, site in enumerate(sites):
        start, end = local_day_bounds(site, DAYS[0])[0], local_day_bounds(site, DAYS[-1])[1]
        backfill(site, Scenario(seed=5 + n), store, start, end, collect=False)
        refresh_site(store, site, SummaryParams(), days=DAYS)
    dirty = sites[2]
    space = next(s for s in dirty.spaces if s.zone == dirty.zones[0].id)
    at = local_day_bounds(dirty, DAYS[1])[0] + timedelta(hours=12, minutes=7)
    store.write(
        [Point(PRESENCE, dirty.space_tags(space.id), {"occupied": 1, "hb": 300.0},
               int(at.timestamp() * 1e9))]
    )  # fmt: skip
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
    registry = Registry({s.id: s for s in sites})
    with TestClient(create_app(settings, registry=registry, store=store)) as client:
        yield {"client": client, "keys": keys, "sites": sites, "store": store}
    store.close()


def datas(world: dict[str, Any], principal: Principal) -> list[tuple[Site, PeriodData]]:
    out = []
    for site in world["sites"]:
        start, end = local_day_bounds(site, DAYS[0])[0], local_day_bounds(site, DAYS[-1])[1]
        data = PeriodData(
            store=world["store"],
            site=site,
            start=start,
            end=end,
            params=SummaryParams(),
            visible=access.visible_spaces(site, principal),
        )
        out.append((site, data))
    return out


def one_pass(world: dict[str, Any], role: str) -> list[str]:
    """The sites the one pass computes."""
    example, london, _dirty = world["sites"]
    return [example.id] + ([london.id] if role != "agency:avi" else [])


@pytest.mark.parametrize("role", ROLES)
def test_one_pass_equals_each_site_on_its_own(world: dict[str, Any], role: str) -> None:
    principal = Principal(key_id="k", name="k", role=role)
    reader.clear_cache()
    todo = datas(world, principal)
    at_once = portfolio.efficiency_at_once(principal, 0.1)(todo)
    # left to their own read: the dirty site (a day from raw points) and, for
    # avi, London (no agency avi: no group rows stored in its view, its own
    # read builds them from the day cells)
    assert sorted(at_once) == sorted(one_pass(world, role))
    for site, data in datas(world, principal):
        own = portfolio._site_efficiency(data, site, principal, 0.1)
        if site.id in at_once:
            pd.testing.assert_frame_equal(at_once[site.id], own, check_exact=True)
    # what each whole site's meta says: every day from summaries, as its own read says
    for (site, data), (_, fresh) in zip(todo, datas(world, principal), strict=True):
        if site.id in at_once:
            portfolio._site_efficiency(fresh, site, principal, 0.1)
            assert data.meta() == fresh.meta()
            assert data.meta()["days_from_summaries"] == len(DAYS)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("by", ["agency", "site", "region"])
def test_the_report_is_the_same_without_the_one_pass(
    world: dict[str, Any], role: str, by: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, key = world["client"], world["keys"][role]

    def ask() -> Any:
        reader.clear_cache()
        portfolio.clear_cache()  # cold: nothing kept
        r = client.get(
            "/v1/portfolio/efficiency",
            params={**Q, "by": by},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert r.status_code == 200, r.text
        return r.json()

    real, computed = portfolio.efficiency_at_once, []

    def spy(*a: Any, **k: Any) -> Any:
        inner = real(*a, **k)

        def counted(todo: Any) -> Any:
            computed.append(inner(todo))
            return computed[-1]

        return counted

    monkeypatch.setattr(portfolio, "efficiency_at_once", spy)
    fast = ask()
    assert [sorted(c) for c in computed] == [sorted(one_pass(world, role))]
    monkeypatch.setattr(portfolio, "efficiency_at_once", lambda *a, **k: lambda todo: {})
    slow = ask()
    assert fast == slow
    assert fast["meta"]["days_from_raw"][DIRTY] == [DAYS[1].isoformat()]
    assert not set(fast["meta"]["days_from_raw"]) & set(one_pass(world, role))


def test_an_empty_list_of_sites_gives_nothing() -> None:
    principal = Principal(key_id="k", name="k", role="facility")
    assert portfolio.efficiency_at_once(principal, 0.1)([]) == {}
