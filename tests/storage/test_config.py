"""StoreSettings validation and open_store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage import StoreSettings, open_store
from storage.config import sqlite_path
from storage.influx import InfluxStore
from storage.sqlite import SQLiteStore

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://host/x", "neither sqlite:///path/to/file.db nor http"),
        ("influx://host:8086", "neither sqlite:///path/to/file.db nor http"),
        ("localhost:8086", "neither sqlite:///path/to/file.db nor http"),
        ("sqlite://x.db", "three or four slashes"),
        ("sqlite:///", "names no file"),
        ("sqlite:///:memory:", "names no file"),
        ("http://", "neither"),
        ("http://host:99999", "Port out of range"),
        ("http://user:pw@host:8086", "not inside the URL"),
        ("http://host:8086/?db=x", "not inside the URL"),
    ],
)
def test_bad_urls_are_explained(url: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        StoreSettings(url=url)


def test_good_urls() -> None:
    # the default lives in the data directory (var/ of the checkout), whatever the cwd
    data = Path(__file__).resolve().parents[2] / "var"
    assert StoreSettings().url == f"sqlite:///{data}/occupancy.db"
    assert sqlite_path("sqlite:///var/occupancy.db") == Path("var/occupancy.db")
    assert sqlite_path("sqlite:////srv/occ/o.db") == Path("/srv/occ/o.db")
    assert StoreSettings(url="https://influx.example:8086/").url == "https://influx.example:8086"


def test_credentials_rules() -> None:
    with pytest.raises(ValidationError, match="either a token or a username"):
        StoreSettings(url="http://h:8086", token="t", username="u", password="p")
    with pytest.raises(ValidationError, match="needs a username"):
        StoreSettings(url="http://h:8086", password="p")
    with pytest.raises(ValidationError, match="InfluxQL duration"):
        StoreSettings(retention_duration="forever")
    with pytest.raises(ValidationError, match="Extra inputs"):
        StoreSettings(uri="sqlite:///x.db")  # type: ignore[call-arg]
    s = StoreSettings(url="http://h:8086", token="t0k")
    assert "t0k" not in repr(s)


def test_open_store_picks_the_implementation(tmp_path: Path) -> None:
    with open_store(StoreSettings(url=f"sqlite:///{tmp_path}/x/s.db")) as store:
        assert isinstance(store, SQLiteStore)
        assert store.path == tmp_path / "x" / "s.db"
    settings = StoreSettings(
        url="http://127.0.0.1:1", database="d", retention_policy="rp", username="u", password="p"
    )
    with open_store(settings) as influx:
        assert isinstance(influx, InfluxStore)
        assert (influx.database, influx.retention_policy) == ("d", "rp")


def test_settings_embed_in_a_service_settings_class(monkeypatch: pytest.MonkeyPatch) -> None:
    class ServiceSettings(BaseSettings):
        model_config = SettingsConfigDict(env_prefix="SVC_", env_nested_delimiter="__")
        store: StoreSettings = StoreSettings()

    monkeypatch.setenv("SVC_STORE__URL", "http://influx:8086")
    monkeypatch.setenv("SVC_STORE__TOKEN", "abc")
    s = ServiceSettings()
    assert s.store.url == "http://influx:8086"
    assert s.store.token is not None and s.store.token.get_secret_value() == "abc"


def test_importing_storage_stays_light() -> None:
    code = (
        "import sys, storage; "
        "heavy = [m for m in ('pandas', 'httpx', 'numpy', 'sqlite3') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr
