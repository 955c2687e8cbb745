"""Every report endpoint, with every grouping and bucket and every role,
answers the same from summaries (the default) as from ``source=raw``, on
SQLite and on the real InfluxDB; the metadata says where each day came from;
a late message for a summarised day shows in the next report at once (read
from raw while the day is dirty) and after the next summariser cycle."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import create_key
from api.config import ApiSettings
from api.records import make_engine, make_sessionmaker
from core.registry import Registry, load_site
from storage import StoreSettings, open_store
from storage.base import PRESENCE, Point
from storage.marks import MarkingStore
from summaries.summariser import SummaryParams, refresh_site, site_status
from tests.api import scenario
from tests.api.conftest import ROLES, SMALL_SITE, Api

DAY = scenario.DAY.date()
NEXT = DAY + timedelta(days=1)
GROUPINGS = ("space", "zone", "floor", "site", "agency", "space_type")
QUERY = {"from": (DAY - timedelta(days=1)).isoformat(), "to": (DAY + timedelta(days=3)).isoformat()}


@pytest.fixture(params=["sqlite", "influx"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    if request.param == "sqlite":
        settings = StoreSettings(url=f"sqlite:///{tmp_path}/store.db")
    else:
        influx = request.getfixturevalue("influx")
        settings = StoreSettings(url=influx.url, database=f"summ_{uuid.uuid4().hex[:8]}")
    site = load_site(SMALL_SITE)
    store = MarkingStore(open_store(settings), {site.id: site.tz})
    store.write(scenario.points(site))
    records = f"sqlite:///{tmp_path}/api.db"
    with make_sessionmaker(make_engine(records))() as session:
        keys = {role: create_key(session, role=role, name=role) for role in ROLES}
    app = create_app(
        ApiSettings(
            registry=SMALL_SITE,
            store=settings,
            records_url=records,
            broker_url=None,
            rollup_interval_s=0,
            summaries_interval_s=0,  # the test runs the cycles
        ),
        registry=Registry({site.id: site}),
        store=store,
    )
    with TestClient(app) as client:
        yield Api(client, keys, site, store)
    store.close()


def reports(api: Api, role: str, source: str) -> dict[str, object]:
    base = f"/v1/sites/{api.site.id}"
    out: dict[str, object] = {}
    asks: list[tuple[str, dict[str, object]]] = []
    for by in GROUPINGS:
        for bucket in (None, "hour", "day", "week", "month"):
            asks.append(("utilisation", {"by": by, **({"bucket": bucket} if bucket else {})}))
        for space_type in (None, "desk"):
            for daily in (False, True):
                q = {"by": by, "daily": daily, **({"space_type": space_type} if space_type else {})}
                asks.append(("peaks", q))
    asks += [("heatmap", {}), ("efficiency", {})]
    for path, q in asks:
        r = api.get(f"{base}/{path}", role=role, source=source, **QUERY, **q)  # type: ignore[arg-type]
        assert r.status_code == 200, (path, q, r.text)
        body = r.json()
        out[f"{path} {sorted(q.items())}"] = body["rows"]
        out[f"{path} meta"] = body["meta"]
    return out


def test_every_report_equal_from_summaries_and_raw(api: Api) -> None:
    site, store = api.site, api.store
    params = SummaryParams()
    now = datetime.combine(DAY + timedelta(days=5), datetime.min.time(), tzinfo=site.tz)
    done = refresh_site(store, site, params, now=now)
    assert DAY in done and NEXT in done
    for role in ROLES:
        summ, raw = reports(api, role, "summaries"), reports(api, role, "raw")
        meta = summ.pop("utilisation meta")
        raw.pop("utilisation meta")
        assert meta["days_from_summaries"] >= 2, meta  # type: ignore[index]
        for key in [k for k in summ if k.endswith(" meta")]:
            summ.pop(key), raw.pop(key)
        assert summ == raw, role
    # The hand-worked day is not empty: the figures compared are real ones.
    r = api.get(f"/v1/sites/{site.id}/utilisation", by="site", **QUERY).json()
    assert any(row["occupied_s"] > 0 for row in r["rows"])


def test_late_message_reaches_the_report(api: Api) -> None:
    site, store = api.site, api.store
    params = SummaryParams()
    now = datetime.combine(DAY + timedelta(days=5), datetime.min.time(), tzinfo=site.tz)
    refresh_site(store, site, params, now=now)
    url = f"/v1/sites/{site.id}/utilisation"
    before = api.get(url, by="space", **QUERY).json()
    space = site.spaces[0]
    at = datetime.combine(NEXT, datetime.min.time(), tzinfo=site.tz) + timedelta(hours=10)
    store.write(
        [
            Point(
                PRESENCE,
                site.space_tags(space.id),
                {"occupied": 1, "hb": 60.0},
                int(at.timestamp() * 1e9),
            )
        ]
    )
    assert NEXT in site_status(store, site, params, now=now).dirty
    live = api.get(url, by="space", **QUERY).json()
    assert NEXT.isoformat() in live["meta"]["stale_days"]
    assert live["rows"] == api.get(url, by="space", source="raw", **QUERY).json()["rows"]
    assert live["rows"] != before["rows"]
    refresh_site(store, site, params, now=now)
    after = api.get(url, by="space", **QUERY).json()
    assert after["meta"]["stale_days"] == [] and after["rows"] == live["rows"]


def test_source_must_be_known(api: Api) -> None:
    r = api.get(f"/v1/sites/{api.site.id}/utilisation", source="cache", **QUERY)
    assert r.status_code == 422 and "source" in r.text
