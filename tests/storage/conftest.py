"""One store fixture, two implementations: every contract test runs against the
real InfluxDB 1.x server (a fresh database per test) and a SQLite file (and,
for the columnar writes, a SQLite file that keeps them as column blocks)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.base import Store
from storage.influx import InfluxStore
from storage.sqlite import SQLiteStore
from tests.servers import InfluxServer


def unique_database() -> str:
    return f"test_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def influx_store(influx: InfluxServer) -> Iterator[InfluxStore]:
    store = InfluxStore(influx.url, database=unique_database())
    yield store
    store.drop_database()
    store.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "store.db")
    yield store
    store.close()


@pytest.fixture
def sqlite_blocks_store(tmp_path: Path) -> Iterator[SQLiteStore]:
    """Every ``write_columns`` kept as a column block, however small."""
    store = SQLiteStore(tmp_path / "blocks.db", block_rows=1)
    yield store
    store.close()


@pytest.fixture(params=["sqlite", "influx"])
def store(request: pytest.FixtureRequest) -> Store:
    return request.getfixturevalue(f"{request.param}_store")
