"""Reports over days beyond ``raw_retention_days`` (7; the hand-worked day, 2
November 2026, is older), on SQLite and on the real InfluxDB: after the
summariser's cycle has dropped (SQLite) or recorded (InfluxDB) the day's raw
points, every report still answers the hand-worked figures from summaries,
the same rows as before; ``source=raw``, rollups and charges over that day
are 422 naming the setting; ``source=raw`` over recent days still works."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import create_key
from api.config import ApiSettings
from api.records import make_engine, make_sessionmaker
from core.registry import Registry, load_site
from core.timeutil import utcnow
from storage import PRESENCE, StoreSettings, open_store
from storage.marks import MarkingStore
from summaries.summariser import Summariser, SummaryParams, refresh_site
from tests.api import scenario
from tests.api.conftest import ROLES, SMALL_SITE, Api

DAY = scenario.DAY.date()
QUERY = {"from": (DAY - timedelta(days=1)).isoformat(), "to": (DAY + timedelta(days=2)).isoformat()}
KEEP = 7
H = 3600.0
TARIFF = Path(__file__).parent / "data" / "tariff.yaml"


@pytest.fixture(params=["sqlite", "influx"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    site = load_site(SMALL_SITE)
    if request.param == "sqlite":
        plain = StoreSettings(url=f"sqlite:///{tmp_path}/store.db")
    else:
        influx = request.getfixturevalue("influx")
        plain = StoreSettings(url=influx.url, database=f"ret_{uuid.uuid4().hex[:8]}")
    # the day is written before raw retention is set (InfluxDB refuses raw
    # points older than the raw policy), then summarised
    writer = MarkingStore(open_store(plain), {site.id: site.tz})
    writer.write(scenario.points(site))
    days = [DAY + timedelta(days=i) for i in range(-1, 3)]
    refresh_site(writer, site, SummaryParams(), days=days)
    writer.close()
    settings = plain.model_copy(update={"raw_retention_days": KEEP})
    store = MarkingStore(open_store(settings), {site.id: site.tz})
    records = f"sqlite:///{tmp_path}/api.db"
    with make_sessionmaker(make_engine(records))() as session:
        keys = {role: create_key(session, role=role, name=role) for role in ROLES}
    app = create_app(
        ApiSettings(
            registry=SMALL_SITE,
            store=settings,
            records_url=records,
            broker_url=None,
            tariffs=TARIFF,
            rollup_interval_s=0,
            summaries_interval_s=0,  # the test runs the cycle
        ),
        registry=Registry({site.id: site}),
        store=store,
    )
    with TestClient(app) as client:
        yield Api(client, keys, site, store)
    if request.param == "influx":
        store.inner.drop_database()  # type: ignore[attr-defined]
    store.close()


def reports(api: Api) -> dict[str, object]:
    base = f"/v1/sites/{api.site.id}"
    out = {}
    for path, q in [
        ("utilisation", {"by": "space"}),
        ("utilisation", {"by": "zone", "bucket": "day"}),
        ("peaks", {"by": "site", "daily": True}),
        ("heatmap", {}),
        ("efficiency", {}),
    ]:
        r = api.get(f"{base}/{path}", **QUERY, **q)  # type: ignore[arg-type]
        assert r.status_code == 200, r.text
        out[f"{path} {q}"] = r.json()["rows"]
    return out


def assert_refused(r, what: str) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    detail = r.json()["detail"]
    assert detail.startswith(what) and f"raw_retention_days = {KEEP}" in detail, detail


def test_reports_beyond_retention_come_from_summaries(api: Api) -> None:
    site = api.site
    before = reports(api)
    raw_before = api.store.count(PRESENCE)
    Summariser(api.store, [site], SummaryParams(), raw_retention_days=KEEP).cycle()
    if not api.store.expires_raw:  # SQLite: the summariser deleted them
        assert api.store.count(PRESENCE) < raw_before / 2
    assert reports(api) == before
    r = api.get(f"/v1/sites/{site.id}/utilisation", by="space", **QUERY)
    by_space = {row["space"]: row for row in r.json()["rows"]}
    # the hand-worked day (tests/api/scenario.py), over 3 opening days: 2 Nov only has data
    assert by_space["a1"]["occupied_s"] == 2 * H
    assert by_space["a2"]["occupied_s"] == 8 * H
    assert by_space["a5"]["unknown_s"] >= 1.5 * H
    meta = r.json()["meta"]
    assert meta["days_from_raw"] == [] and meta["missing_days"] == [] and meta["held_days"] == []
    assert_refused(api.get(f"/v1/sites/{site.id}/utilisation", source="raw", **QUERY), "source=raw")
    assert_refused(api.get(f"/v1/sites/{site.id}/peaks", source="raw", **QUERY), "source=raw")
    assert_refused(api.post(f"/v1/sites/{site.id}/rollups", params=QUERY), "rollups")
    assert_refused(api.get(f"/v1/sites/{site.id}/charges/2026-11", role="finance"), "charges")
    # days still within retention: raw points as ever
    today = utcnow().astimezone(site.tz).date()
    recent = {"from": (today - timedelta(days=2)).isoformat(), "to": today.isoformat()}
    r = api.get(f"/v1/sites/{site.id}/utilisation", source="raw", **recent)
    assert r.status_code == 200, r.text
    assert r.json()["meta"]["source"] == "raw"
    assert date.fromisoformat(recent["from"]) > DAY + timedelta(days=KEEP)
