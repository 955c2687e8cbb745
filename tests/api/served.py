"""The real app under uvicorn on a free loopback port, in a thread of the test
process, over a SQLite store (the scenario day) and a SQLite records DB: for
tests that need real HTTP (open event streams, concurrent requests, the access
log)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from api.app import create_app
from api.auth import create_key
from api.config import ApiSettings
from api.records import make_engine, make_sessionmaker
from core.registry import Registry, load_site
from storage import StoreSettings, open_store
from tests.api import scenario
from tests.api.conftest import ROLES, SMALL_SITE
from tests.servers import free_port, wait_for_port


@dataclass
class Served:
    base_url: str
    app: FastAPI
    keys: dict[str, str]
    records_url: str

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


def run_uvicorn(
    app: FastAPI, port: int, *, name: str = "served-api", **config: Any
) -> tuple[uvicorn.Server, threading.Thread]:
    """uvicorn serving ``app`` on 127.0.0.1:``port`` in a daemon thread, started."""
    config.setdefault("timeout_graceful_shutdown", 2)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **config))
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    wait_for_port(port)
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError(f"the API did not start on port {port}")
    return server, thread


@contextmanager
def served_api(tmp_path: Path, **settings: Any) -> Iterator[Served]:
    site = load_site(SMALL_SITE)
    store_settings = StoreSettings(url=f"sqlite:///{tmp_path}/store.db")
    store = open_store(store_settings)
    store.write(scenario.points(site))
    records = f"sqlite:///{tmp_path}/api.db"
    engine = make_engine(records)
    with make_sessionmaker(engine)() as session:
        keys = {role: create_key(session, role=role, name=role) for role in ROLES}
    engine.dispose()
    port = free_port()
    app = create_app(
        ApiSettings(
            registry=SMALL_SITE,
            store=store_settings,
            records_url=records,
            broker_url=None,
            rollup_interval_s=0,
            **settings,
        ),
        registry=Registry({site.id: site}),
        store=store,
    )
    # log_config=None: uvicorn leaves the loggers alone, so caplog sees the access log
    server, thread = run_uvicorn(app, port, log_config=None)
    try:
        yield Served(f"http://127.0.0.1:{port}", app, keys, records)
    finally:
        app.state.ctx.closing.set()
        server.should_exit = True
        thread.join(15)
        store.close()
