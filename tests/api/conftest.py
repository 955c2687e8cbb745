"""An API over a real store (SQLite or the real InfluxDB) holding the
hand-worked day of ``tests/api/scenario.py``, with a key for every role."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api.app import create_app
from api.auth import create_key
from api.config import ApiSettings
from api.records import make_engine, make_sessionmaker
from core.registry import Registry, Site, load_site
from storage import Store, StoreSettings, open_store
from tests.api import scenario

SMALL_SITE = Path(__file__).parent / "data" / "small.yaml"
ROLES = ("admin", "facility", "finance", "agency:aa", "agency:bb")


@dataclass
class Api:
    client: TestClient
    keys: dict[str, str]
    site: Site
    store: Store

    def get(self, path: str, role: str | None = "facility", **params: object):  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {self.keys[role]}"} if role else {}
        return self.client.get(path, headers=headers, params=params)

    def post(self, path: str, role: str | None = "facility", **kwargs: object):  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {self.keys[role]}"} if role else {}
        extra = kwargs.pop("headers", {})
        return self.client.post(path, headers={**headers, **extra}, **kwargs)  # type: ignore[arg-type]


def make_api(
    store_settings: StoreSettings,
    tmp_path: Path,
    *,
    tariffs: Path | None = None,
    records_url: str | None = None,
    outbound_allowed_networks: str = "",
) -> Iterator[Api]:
    site = load_site(SMALL_SITE)
    store = open_store(store_settings)
    store.write(scenario.points(site))
    records = records_url or f"sqlite:///{tmp_path}/api.db"
    with make_sessionmaker(make_engine(records))() as session:
        keys = {role: create_key(session, role=role, name=role) for role in ROLES}
    settings = ApiSettings(
        registry=SMALL_SITE,
        store=store_settings,
        records_url=records,
        broker_url=None,
        tariffs=tariffs,
        rollup_interval_s=0,  # the tests roll up explicitly
        feeds_poll_interval_s=0,  # and poll booking feeds explicitly
        outbound_allowed_networks=outbound_allowed_networks,
    )
    app = create_app(settings, registry=Registry({site.id: site}), store=store)
    with TestClient(app) as client:
        yield Api(client, keys, site, store)
    store.close()


@pytest.fixture(params=["sqlite", "influx"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    if request.param == "sqlite":
        settings = StoreSettings(url=f"sqlite:///{tmp_path}/store.db")
    else:
        influx = request.getfixturevalue("influx")
        settings = StoreSettings(url=influx.url, database=f"api_{uuid.uuid4().hex[:8]}")
    yield from make_api(settings, tmp_path)


@pytest.fixture
def sqlite_api(tmp_path: Path) -> Iterator[Api]:
    yield from make_api(StoreSettings(url=f"sqlite:///{tmp_path}/store.db"), tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def records_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/api.db"
    server = request.getfixturevalue("postgres")
    name = f"records_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return server.url.rsplit("/", 1)[0] + f"/{name}"
