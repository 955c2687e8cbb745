"""Key handling (issues 14 and 20): revocation ends open streams, keys expire,
the query-string key works on the event stream only and never reaches the
access log, failed authentications are rate-limited per address, and a key
cannot name an unknown agency."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from api.auth import create_key, revoke_key, verify_key
from api.keys_cli import app as keys_app
from api.records import ApiKey, make_engine, make_sessionmaker
from tests.api.conftest import SMALL_SITE, Api
from tests.api.served import served_api

STREAM = "/v1/sites/pieni/live/stream"


def _revoke(records_url: str, key: str) -> None:
    engine = make_engine(records_url)
    with make_sessionmaker(engine)() as session:
        assert revoke_key(session, key.split("_")[1])
    engine.dispose()


def test_an_open_stream_ends_within_the_key_cache_time_of_a_revocation(tmp_path: Path) -> None:
    with served_api(tmp_path, key_cache_s=1) as api, httpx.Client(base_url=api.base_url) as http:
        with http.stream("GET", STREAM, headers=api.headers("facility"), timeout=10) as resp:
            assert resp.status_code == 200
            lines = resp.iter_lines()
            assert next(line for line in lines if line.startswith("event:")) == "event: snapshot"
            _revoke(api.records_url, api.keys["facility"])
            revoked_at = time.monotonic()
            rest = list(lines)  # ends only when the server closes the stream
            took = time.monotonic() - revoked_at
        assert "event: revoked" in rest
        assert took <= 1 + 0.5 + 0.5, took  # cache time + one poll + slack
        time.sleep(1.0)  # past the cache time, the key opens nothing either
        assert http.get("/v1/sites/pieni/live", headers=api.headers("facility")).status_code == 401


def test_an_expired_key_is_refused_and_an_unexpired_one_works(sqlite_api: Api) -> None:
    ctx = sqlite_api.client.app.state.ctx  # type: ignore[attr-defined]
    with ctx.sessions() as session:
        soon = create_key(
            session, role="facility", name="t", expires_at=datetime.now(UTC) + timedelta(hours=1)
        )
        past = create_key(
            session, role="facility", name="t", expires_at=datetime.now(UTC) - timedelta(seconds=1)
        )
    live = "/v1/sites/pieni/live"
    assert (
        sqlite_api.client.get(live, headers={"Authorization": f"Bearer {soon}"}).status_code == 200
    )
    resp = sqlite_api.client.get(live, headers={"Authorization": f"Bearer {past}"})
    assert resp.status_code == 401 and resp.headers["content-type"] == "application/problem+json"


def test_a_cached_key_stops_at_its_expiry(tmp_path: Path) -> None:
    sessions = make_sessionmaker(make_engine(f"sqlite:///{tmp_path}/api.db"))
    from api.auth import KeyCache

    with sessions() as s:
        key = create_key(
            s, role="facility", name="t", expires_at=datetime.now(UTC) + timedelta(seconds=0.3)
        )
        principal = verify_key(s, key)
    assert principal is not None and principal.expires_at is not None
    cache = KeyCache(ttl_s=60)
    cache.put(key, principal)
    assert cache.get(key) == principal
    time.sleep(0.35)
    assert cache.get(key) is None
    with sessions() as s:
        assert verify_key(s, key) is None


def test_an_existing_records_db_gains_the_expiry_column_and_keeps_its_keys(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    old = sa.create_engine(url)
    with old.begin() as conn:  # the api_keys table as earlier versions made it
        conn.execute(
            sa.text(
                "CREATE TABLE api_keys (id VARCHAR(16) PRIMARY KEY, name VARCHAR(200), "
                "role VARCHAR(100), secret_hash VARCHAR(64), created_at DATETIME, "
                "revoked_at DATETIME)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO api_keys VALUES ('abc', 'old', 'facility', "
                "'9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', "
                "'2026-01-01 00:00:00', NULL)"
            )
        )
    old.dispose()
    with make_sessionmaker(make_engine(url))() as session:
        # sha256("test") above: the old key still verifies, with no expiry
        p = verify_key(session, "occ_abc_test")
        assert p is not None and p.expires_at is None
        assert session.get(ApiKey, "abc") is not None
    make_engine(url).dispose()  # a second start finds the column and adds nothing


def test_the_query_string_key_is_refused_off_the_stream(sqlite_api: Api) -> None:
    key = sqlite_api.keys["finance"]
    resp = sqlite_api.client.post(f"/v1/sites/pieni/charges/2026-11/run?access_token={key}")
    assert resp.status_code == 401
    resp = sqlite_api.client.get("/v1/sites/pieni/live", params={"access_token": key})
    assert resp.status_code == 401
    spec = sqlite_api.client.get("/openapi.json").json()
    with_token = [
        path
        for path, ops in spec["paths"].items()
        for op in ops.values()
        if any(p["name"] == "access_token" for p in op.get("parameters", []))
    ]
    assert with_token == [STREAM.replace("pieni", "{site_id}")]


def test_the_stream_takes_the_query_key_and_the_access_log_hides_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    with served_api(tmp_path) as api, httpx.Client(base_url=api.base_url) as http:
        key = api.keys["facility"]
        with http.stream("GET", STREAM, params={"access_token": key}, timeout=10) as resp:
            assert resp.status_code == 200
            assert next(resp.iter_lines()).startswith("retry:")
        api.app.state.ctx.closing.set()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(
            "live/stream" in r.getMessage() for r in caplog.records
        ):
            time.sleep(0.05)
    lines = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert any("access_token=[redacted]" in line for line in lines), lines
    secret = key.split("_", 2)[2]
    assert not any(secret in r.getMessage() for r in caplog.records)


def test_failed_authentications_are_rate_limited_per_address(tmp_path: Path) -> None:
    with (
        served_api(tmp_path, auth_failures_per_min=5) as api,
        httpx.Client(base_url=api.base_url) as http,
    ):
        live = "/v1/sites/pieni/live"
        bad = {"Authorization": "Bearer occ_nope_guess"}
        codes = [http.get(live, headers=bad).status_code for _ in range(7)]
        assert codes == [401] * 5 + [429] * 2
        blocked = http.get(live, headers=api.headers("facility"))
        assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1
        assert blocked.headers["content-type"] == "application/problem+json"
        # a missing key is not a guess: it does not count
    with (
        served_api(tmp_path / "b", auth_failures_per_min=2) as api,
        httpx.Client(base_url=api.base_url) as http,
    ):
        codes = [http.get("/v1/sites/pieni/live").status_code for _ in range(4)]
        assert codes == [401] * 4
        assert http.get("/v1/sites/pieni/live", headers=api.headers("facility")).status_code == 200


def test_keys_create_refuses_an_unknown_agency_and_lists_the_known(tmp_path: Path) -> None:
    records = f"sqlite:///{tmp_path}/api.db"
    common = ["--records-url", records, "--registry", str(SMALL_SITE)]
    runner = CliRunner()
    bad = runner.invoke(keys_app, ["create", "--role", "agency:nosuch", *common])
    assert bad.exit_code == 2
    assert "unknown agency 'nosuch'" in bad.output and "aa, bb" in bad.output
    good = runner.invoke(keys_app, ["create", "--role", "agency:aa", *common])
    assert good.exit_code == 0 and good.output.startswith("occ_")
    listed = runner.invoke(keys_app, ["list", "--records-url", records])
    assert listed.output.count("\n") == 1  # only the good one was stored


def test_keys_create_with_an_expiry(tmp_path: Path) -> None:
    records = f"sqlite:///{tmp_path}/api.db"
    runner = CliRunner()
    made = runner.invoke(
        keys_app,
        ["create", "--role", "facility", "--expires", "2099-01-31", "--records-url", records],
    )
    assert made.exit_code == 0, made.output
    with make_sessionmaker(make_engine(records))() as session:
        p = verify_key(session, made.output.strip())
    assert p is not None and p.expires_at == datetime(2099, 2, 1, tzinfo=UTC)
    listed = runner.invoke(keys_app, ["list", "--records-url", records])
    assert "active until 2099-02-01 00:00Z" in listed.output
    past = runner.invoke(
        keys_app,
        ["create", "--role", "facility", "--expires", "2020-01-01", "--records-url", records],
    )
    assert past.exit_code == 2 and "already past" in past.output


def test_keys_list_never_creates_a_records_database(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "api.db"
    runner = CliRunner()
    for args in (["list"], ["revoke", "abc"]):
        result = runner.invoke(keys_app, [*args, "--records-url", f"sqlite:///{missing}"])
        assert result.exit_code == 2
        assert f"no records database at {missing}: the file does not exist" in result.output
    assert not missing.parent.exists()
