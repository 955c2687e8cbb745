"""InfluxStore against real InfluxDB 1.x servers: authentication, database and
retention-policy creation, outages. The token header of 2.x/3.x is checked on
the wire with a small local HTTP server, because no InfluxDB 2 or 3 package
exists here to run (Debian ships only 1.x); that server also stands in for the
replies a healthy 1.x cannot be made to give (503, 413)."""

from __future__ import annotations

import gzip
import http.server
import json
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from storage import StoreSettings, open_store
from storage.base import Point, StoreError, StoreUnavailable
from storage.influx import InfluxStore, quote_ident, quote_string, tag_conditions
from tests.servers import InfluxServer, free_port
from tests.storage.conftest import unique_database

T0 = 1_767_225_600_000_000_000
START, END = datetime(2025, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)


def points(n: int, space: str = "d1") -> list[Point]:
    return [
        Point("presence", {"site": "hq", "space": space}, {"occupied": i % 2}, T0 + i)
        for i in range(n)
    ]


def admin_query(server: InfluxServer, q: str, auth: tuple[str, str] | None = None) -> dict:
    query = "?" + urllib.parse.urlencode({"u": auth[0], "p": auth[1]}) if auth else ""
    data = urllib.parse.urlencode({"q": q}).encode()
    with urllib.request.urlopen(f"{server.url}/query{query}", data=data, timeout=10) as resp:
        return json.loads(resp.read())


# -- InfluxQL quoting (hand-worked) ---------------------------------------------


def test_identifier_and_string_quoting() -> None:
    assert quote_ident('a "b" \\c') == '"a \\"b\\" \\\\c"'
    assert quote_string("it's \\ x\ny") == "'it\\'s \\\\ x\\ny'"
    assert tag_conditions({"site": "hq", "space": ["a", "b", "a"]}) == [
        "\"site\" = 'hq'",
        "(\"space\" = 'a' OR \"space\" = 'b')",
    ]
    assert tag_conditions({"space": []}) is None
    with pytest.raises(TypeError, match="strings"):
        tag_conditions({"floor": 1})  # type: ignore[dict-item]


# -- database and retention policy ----------------------------------------------


def test_creates_database_and_retention_policy(influx: InfluxServer) -> None:
    db = unique_database()
    store = InfluxStore(influx.url, database=db, retention_policy="raw", retention_duration="520w")
    try:
        store.write(points(3))
        assert store.count("presence") == 3
        rps = admin_query(influx, f'SHOW RETENTION POLICIES ON "{db}"')
        rows = rps["results"][0]["series"][0]["values"]
        assert [r[1] for r in rows if r[0] == "raw"] == ["87360h0m0s"]  # 520 weeks
        # The points went to that policy, not to the default one.
        raw = influx.query('SELECT count(occupied) FROM "raw"."presence"', db=db)
        assert raw["results"][0]["series"][0]["values"][0][1] == 3
        default = influx.query('SELECT count(occupied) FROM "autogen"."presence"', db=db)
        assert "series" not in default["results"][0]
    finally:
        store.drop_database()
        store.close()


def test_missing_database_without_create_is_a_clear_error(influx: InfluxServer) -> None:
    with InfluxStore(influx.url, database=unique_database(), create_database=False) as store:
        with pytest.raises(StoreError, match="database not found") as caught:
            store.write(points(1))
        assert not isinstance(caught.value, StoreUnavailable)


def test_big_batches_are_split_into_several_requests(influx: InfluxServer) -> None:
    store = InfluxStore(influx.url, database=unique_database(), chunk_bytes=2_000)
    store.write(points(500))  # about 30 kB of line protocol: 15 or more requests
    assert store.count("presence") == 500
    store.drop_database()
    store.close()


# -- authentication (1.x, real server) -----------------------------------------


@pytest.fixture
def auth_server(influx_factory: Callable[..., InfluxServer]) -> InfluxServer:
    server = influx_factory(auth=True)
    # With no users yet, InfluxDB lets the first admin be created without credentials.
    admin_query(server, "CREATE USER admin WITH PASSWORD 'adm1n' WITH ALL PRIVILEGES")
    return server


def test_right_credentials_work(auth_server: InfluxServer) -> None:
    settings = StoreSettings(
        url=auth_server.url, database="authdb", username="admin", password="adm1n"
    )
    with open_store(settings) as store:
        store.write(points(2))
        assert store.count("presence") == 2
        assert len(store.read("presence", start=START, end=END)) == 2


@pytest.mark.parametrize(
    ("username", "password"), [("admin", "wrong"), ("nobody", "x"), (None, None)]
)
def test_wrong_credentials_say_authentication_failed(
    auth_server: InfluxServer, username: str | None, password: str | None
) -> None:
    settings = StoreSettings(
        url=auth_server.url, database="authdb", username=username, password=password
    )
    with open_store(settings) as store:
        for call in (
            lambda: store.write(points(1)),
            lambda: store.read("presence", start=START, end=END),
            lambda: store.count("presence"),
        ):
            with pytest.raises(StoreError, match="authentication failed") as caught:
                call()
            assert not isinstance(caught.value, StoreUnavailable)


def test_non_admin_user_writes_to_an_existing_database(auth_server: InfluxServer) -> None:
    admin = ("admin", "adm1n")
    admin_query(auth_server, 'CREATE DATABASE "shared"', admin)
    admin_query(auth_server, "CREATE USER writer WITH PASSWORD 'w'", admin)
    admin_query(auth_server, 'GRANT ALL ON "shared" TO "writer"', admin)
    # create_database is on, but the user may not create databases: tolerated.
    with InfluxStore(auth_server.url, database="shared", username="writer", password="w") as store:
        store.write(points(4))
        assert store.count("presence") == 4


# -- outages ----------------------------------------------------------------------


@pytest.mark.timeout(60)  # a hang, not slowness, is what this guards against
def test_stopped_server_is_unavailable_then_recovers(
    influx_factory: Callable[..., InfluxServer],
) -> None:
    server = influx_factory()
    store = InfluxStore(server.url, database="outage", timeout_s=30)
    store.write(points(3))  # a pooled keep-alive connection now exists
    server.stop()
    for call in (
        store.ping,
        lambda: store.write(points(5)),
        lambda: store.read("presence", start=START, end=END),
        lambda: store.last("presence", by="space"),
        lambda: store.count("presence"),
    ):
        with pytest.raises(StoreUnavailable, match="unreachable"):
            call()
    server.start()
    store.ping()
    store.write(points(5))
    assert store.count("presence") == 5
    store.close()


def test_unreachable_settings_url_is_unavailable() -> None:
    store = open_store(StoreSettings(url=f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(StoreUnavailable):
        store.ping()
    store.close()


# -- what only a stand-in server can show ------------------------------------------


@dataclass
class Recorded:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class StandIn:
    """A local HTTP server that records requests and answers as told."""

    url: str
    requests: list[Recorded] = field(default_factory=list)
    write_replies: list[tuple[int, str]] = field(default_factory=list)


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    port = free_port()
    state = StandIn(url=f"http://127.0.0.1:{port}")

    class Handler(http.server.BaseHTTPRequestHandler):
        def _handle(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            params = dict(urllib.parse.parse_qsl(parts.query))
            state.requests.append(
                Recorded(self.command, parts.path, params, dict(self.headers), body)
            )
            if parts.path == "/write":
                status, text = state.write_replies.pop(0) if state.write_replies else (204, "")
            elif parts.path == "/query":
                status, text = 200, json.dumps({"results": [{"statement_id": 0}]})
            else:
                status, text = 204, ""
            payload = (
                json.dumps({"error": text}).encode() if text and status >= 400 else text.encode()
            )
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _handle

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


def test_token_auth_header_and_gzip_body_on_the_wire(stand_in: StandIn) -> None:
    settings = StoreSettings(
        url=stand_in.url, database="bucket", token="s3cr3t", create_database=False
    )
    with open_store(settings) as store:
        store.write([Point("presence", {"space": "d 1"}, {"occupied": 1}, 5)])
        store.count("presence")
    write = next(r for r in stand_in.requests if r.path == "/write")
    assert write.method == "POST"
    assert write.headers["Authorization"] == "Token s3cr3t"
    assert write.headers["Content-Encoding"] == "gzip"
    assert write.params == {"db": "bucket", "precision": "ns"}
    assert gzip.decompress(write.body) == b"presence,space=d\\ 1 occupied=1i 5\n"
    query = next(r for r in stand_in.requests if r.path == "/query")
    assert query.headers["Authorization"] == "Token s3cr3t"
    assert query.params["db"] == "bucket" and query.params["epoch"] == "ns"
    assert query.params["q"] == 'SELECT *::field FROM "presence" GROUP BY *'
    assert not any(r.path.startswith("/api/v2") for r in stand_in.requests)


def test_basic_auth_on_the_wire(stand_in: StandIn) -> None:
    with InfluxStore(stand_in.url, username="u", password="p", create_database=False) as store:
        store.write(points(1))
    assert stand_in.requests[0].headers["Authorization"] == "Basic dTpw"  # base64("u:p")
    assert "u" not in stand_in.requests[0].params  # never in the URL, where logs keep it


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_side_errors_are_unavailable(stand_in: StandIn, status: int) -> None:
    stand_in.write_replies.append((status, "engine overloaded"))
    store = InfluxStore(stand_in.url, create_database=False)
    with pytest.raises(StoreUnavailable, match="engine overloaded"):
        store.write(points(2))
    store.close()


def test_too_large_request_is_split(stand_in: StandIn) -> None:
    stand_in.write_replies.append((413, "request entity too large"))
    with InfluxStore(stand_in.url, create_database=False) as store:
        store.write(points(4))
    bodies = [gzip.decompress(r.body).count(b"\n") for r in stand_in.requests if r.path == "/write"]
    assert bodies == [4, 2, 2]


def test_create_database_refused_by_a_2x_server_is_tolerated(stand_in: StandIn) -> None:
    with InfluxStore(stand_in.url, database="bucket", token="t") as store:
        store.write(points(1))
    create = stand_in.requests[0]
    assert (create.method, create.path) == ("POST", "/query")
    assert urllib.parse.parse_qs(create.body.decode())["q"] == ['CREATE DATABASE "bucket"']
    # then where the raw points live (a raw retention policy, if one exists)
    shown = stand_in.requests[1]
    assert shown.params["q"] == 'SHOW RETENTION POLICIES ON "bucket"'
    assert stand_in.requests[2].path == "/write"
    assert "rp" not in stand_in.requests[2].params  # none found: the database's default
