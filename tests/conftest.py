"""Session-wide fixtures: real Mosquitto and InfluxDB servers on free ports.

Tests that need a fresh server of their own (to stop or restart it) use the
``mosquitto_factory`` / ``influx_factory`` fixtures instead of the shared ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests import repo_bounds
from tests.servers import InfluxServer, MosquittoServer, PostgresServer

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_SITES = REPO / "examples" / "sites"

repo_bounds.install()

# The suite runs in parallel workers beside servers and other workers, so one
# example's wall time says nothing about the code: no deadline (Hypothesis's
# default is 200 ms). Each test's own settings still set how much it explores.
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")


@pytest.fixture(autouse=True)
def _stay_inside_the_repository() -> Iterator[None]:
    """Fail a test that opened a file beside the checkout (see tests/repo_bounds.py)."""
    repo_bounds.take()
    yield
    outside = repo_bounds.take()
    if outside:
        pytest.fail(f"opened files outside the repository: {sorted(set(outside))}")


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoServer]:
    server = MosquittoServer(tmp_path_factory.mktemp("mosquitto")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def influx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxServer]:
    server = InfluxServer(tmp_path_factory.mktemp("influx")).start()
    yield server
    server.stop()


@pytest.fixture
def mosquitto_factory(tmp_path: Path) -> Iterator[Callable[..., MosquittoServer]]:
    started: list[MosquittoServer] = []

    def make(**kwargs: object) -> MosquittoServer:
        server = MosquittoServer(tmp_path / f"mosquitto{len(started)}", **kwargs)  # type: ignore[arg-type]
        started.append(server.start())
        return server

    yield make
    for s in started:
        s.stop()


@pytest.fixture
def influx_factory(tmp_path: Path) -> Iterator[Callable[..., InfluxServer]]:
    started: list[InfluxServer] = []

    def make(**kwargs: object) -> InfluxServer:
        server = InfluxServer(tmp_path / f"influx{len(started)}", **kwargs)  # type: ignore[arg-type]
        started.append(server.start())
        return server

    yield make
    for s in started:
        s.stop()


@pytest.fixture(scope="session")
def example_sites() -> Path:
    return EXAMPLE_SITES


@pytest.fixture(scope="session")
def example_site():  # type: ignore[no-untyped-def]
    from core.registry import load_site

    return load_site(EXAMPLE_SITES / "virastotalo.yaml")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL for the records database (create a database per test)."""
    server = PostgresServer().start()
    yield server
    server.stop()
