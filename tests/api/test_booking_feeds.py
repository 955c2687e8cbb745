"""iCalendar booking feeds polled with ETag and Last-Modified (issue 16, item 4),
against a real HTTP server on a free loopback port that counts the
conditional requests and answers 304 when nothing changed."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.bookings_cli import app as bookings_cli
from api.config import ApiSettings
from core.registry import Registry
from storage import StoreSettings
from tests.api.conftest import SMALL_SITE, Api, make_api
from tests.servers import http_server

FEEDS = "/v1/sites/pieni/booking-feeds"
BOOKINGS = "/v1/sites/pieni/bookings"


def _event(uid: str, day: str, start: str, end: str, space: str = "r1", agency: str = "aa") -> str:
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261001T000000Z\r\n"
        f"DTSTART:{day}T{start}00Z\r\nDTEND:{day}T{end}00Z\r\n"
        f"LOCATION:{space}\r\nCATEGORIES:{agency}\r\nSUMMARY:{uid}\r\nEND:VEVENT\r\n"
    )


def _calendar(*events: str) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
        + "".join(events)
        + "END:VCALENDAR\r\n"
    )


# days near "now", so that they fall in the poll window (62 days back, 400 ahead)
SOON = (datetime.now(UTC) + timedelta(days=7)).strftime("%Y%m%d")


class Feed:
    """What the server serves, and what it was asked."""

    def __init__(self, *, etag: bool = True, last_modified: bool = True):
        self.body = _calendar()
        self.version = 0
        self.modified = datetime(2026, 11, 1, tzinfo=UTC)
        self.use_etag, self.use_last_modified = etag, last_modified
        self.status = 200
        self.requests: list[dict[str, str]] = []
        self.not_modified = 0

    def publish(self, body: str) -> None:
        self.body = body
        self.version += 1
        self.modified += timedelta(minutes=5)

    @property
    def etag(self) -> str:
        return f'"v{self.version}"'


@pytest.fixture
def feed() -> Iterator[tuple[Feed, str]]:
    state = Feed()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(dict(self.headers))
            if state.status != 200:
                self.send_error(state.status)
                return
            stamp = format_datetime(state.modified, usegmt=True)
            etag_hit = state.use_etag and self.headers.get("If-None-Match") == state.etag
            date_hit = (
                state.use_last_modified
                and not (state.use_etag and self.headers.get("If-None-Match"))
                and self.headers.get("If-Modified-Since") == stamp
            )
            if etag_hit or date_hit:
                state.not_modified += 1
                self.send_response(304)
                self.end_headers()
                return
            data = state.body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("Content-Length", str(len(data)))
            if state.use_etag:
                self.send_header("ETag", state.etag)
            if state.use_last_modified:
                self.send_header("Last-Modified", stamp)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:
            pass

    with http_server(Handler) as port:
        yield state, f"http://127.0.0.1:{port}/rooms.ics"


# the feed servers listen on loopback, which the outbound address policy
# refuses unless the administrator allows it (tests/api/test_outbound_feeds.py)
LOOPBACK = "127.0.0.0/8"


@pytest.fixture
def sqlite_api(tmp_path: Path) -> Iterator[Api]:
    store = StoreSettings(url=f"sqlite:///{tmp_path}/store.db")
    yield from make_api(store, tmp_path, outbound_allowed_networks=LOOPBACK)


def _subscribe(api: Api, url: str) -> int:
    r = api.post(FEEDS, json={"url": url, "name": "rooms"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _poll(api: Api, feed_id: int) -> dict[str, Any]:
    r = api.post(f"{FEEDS}/{feed_id}/poll")
    assert r.status_code == 200, r.text
    return r.json()


def _ids(api: Api) -> list[str]:
    return sorted(b["id"] for b in api.get(BOOKINGS).json())


def test_etag_polls_create_update_and_cancel_and_a_304_changes_nothing(
    sqlite_api: Api, feed: tuple[Feed, str]
) -> None:
    state, url = feed
    state.use_last_modified = False
    state.publish(_calendar(_event("e1", SOON, "0700", "0800"), _event("e2", SOON, "0900", "1000")))
    fid = _subscribe(sqlite_api, url)
    first = _poll(sqlite_api, fid)
    assert first["last_summary"]["created"] == 2 and first["etag"] == '"v1"'
    assert _ids(sqlite_api) == ["e1", "e2"]
    second = _poll(sqlite_api, fid)
    assert state.requests[-1]["If-None-Match"] == '"v1"' and state.not_modified == 1
    assert second["last_status"] == "not modified (304)"
    assert _ids(sqlite_api) == ["e1", "e2"]
    # e1 moves an hour, e2 is gone, e3 is new
    state.publish(_calendar(_event("e1", SOON, "0800", "0900"), _event("e3", SOON, "1100", "1200")))
    third = _poll(sqlite_api, fid)["last_summary"]
    assert (third["created"], third["updated"], third["cancelled"]) == (1, 1, 1)
    assert _ids(sqlite_api) == ["e1", "e3"]
    hist = sqlite_api.get(f"{BOOKINGS}/e2/history").json()
    assert [(h["action"], h["who"]["name"], h["via"]) for h in hist] == [
        ("created", f"feed {fid}", f"feed:{fid}"),
        ("cancelled", f"feed {fid}", f"feed:{fid}"),
    ]
    moved = sqlite_api.get(f"{BOOKINGS}/e1/history").json()[-1]["changes"]
    assert moved["start"]["new"].endswith("T08:00:00+00:00")
    # e2 back in the feed: the booking the feed cancelled comes back
    state.publish(_calendar(_event("e1", SOON, "0800", "0900"), _event("e2", SOON, "0900", "1000"),
                            _event("e3", SOON, "1100", "1200")))  # fmt: skip
    fourth = _poll(sqlite_api, fid)["last_summary"]
    assert (fourth["updated"], fourth["unchanged"]) == (1, 2)
    assert _ids(sqlite_api) == ["e1", "e2", "e3"]
    assert sqlite_api.get(f"{BOOKINGS}/e2/history").json()[-1]["action"] == "restored"
    assert len(state.requests) == 4 and state.not_modified == 1


def test_last_modified_alone_is_sent_back_and_answered_304(
    sqlite_api: Api, feed: tuple[Feed, str]
) -> None:
    state, url = feed
    state.use_etag = False
    state.publish(_calendar(_event("e1", SOON, "0700", "0800")))
    fid = _subscribe(sqlite_api, url)
    assert _poll(sqlite_api, fid)["last_modified"] == format_datetime(state.modified, usegmt=True)
    assert "If-Modified-Since" not in state.requests[0]
    again = _poll(sqlite_api, fid)
    assert state.requests[1]["If-Modified-Since"] == format_datetime(state.modified, usegmt=True)
    assert "If-None-Match" not in state.requests[1]
    assert again["last_status"] == "not modified (304)" and state.not_modified == 1


def test_a_failing_feed_keeps_its_error_backs_off_and_is_logged_once(
    sqlite_api: Api, feed: tuple[Feed, str], caplog: pytest.LogCaptureFixture
) -> None:
    state, url = feed
    fid = _subscribe(sqlite_api, url)
    state.status = 500
    caplog.set_level(logging.WARNING, logger="api.feeds")
    before = datetime.now(UTC)
    one = _poll(sqlite_api, fid)
    two = _poll(sqlite_api, fid)
    assert one["last_error"] == two["last_error"] == "HTTP 500 Internal Server Error"
    assert (one["failures"], two["failures"]) == (1, 2)
    # 900 s after the first failure, 1800 s after the second
    waits = [datetime.fromisoformat(x["next_poll_at"]) - before for x in (one, two)]
    assert timedelta(seconds=900) <= waits[0] < timedelta(seconds=960)
    assert timedelta(seconds=1800) <= waits[1] < timedelta(seconds=1860)
    assert len([r for r in caplog.records if "failed" in r.getMessage()]) == 1
    state.status = 200
    state.body = "this is no calendar"
    bad = _poll(sqlite_api, fid)
    assert bad["last_error"].startswith("not a usable calendar: feed-") and bad["failures"] == 3
    assert bad["etag"] is None  # the bad version is fetched again next time
    gone = sqlite_api.post(FEEDS, json={"url": "http://127.0.0.1:9/nothing.ics"}).json()["id"]
    assert _poll(sqlite_api, gone)["last_error"].startswith("unreachable: ConnectError")
    state.publish(_calendar(_event("e1", SOON, "0700", "0800")))
    ok = _poll(sqlite_api, fid)
    assert (ok["failures"], ok["last_error"], ok["last_summary"]["created"]) == (0, None, 1)
    listed = {f["id"]: f for f in sqlite_api.get(FEEDS).json()}
    assert listed[gone]["last_error"].startswith("unreachable") and listed[fid]["failures"] == 0


def test_feed_routes_refuse_agencies_bad_urls_and_unknown_feeds(
    sqlite_api: Api, feed: tuple[Feed, str]
) -> None:
    _state, url = feed
    assert sqlite_api.get(FEEDS, "agency:aa").status_code == 403
    assert sqlite_api.post(FEEDS, "agency:aa", json={"url": url}).status_code == 403
    bad = sqlite_api.post(FEEDS, json={"url": "file:///etc/passwd"})
    assert bad.status_code == 422 and "http:// or https://" in bad.json()["detail"]
    fid = _subscribe(sqlite_api, url)
    headers = {"Authorization": f"Bearer {sqlite_api.keys['facility']}"}
    assert sqlite_api.client.delete(f"{FEEDS}/{fid}", headers=headers).status_code == 204
    assert sqlite_api.client.delete(f"{FEEDS}/{fid}", headers=headers).status_code == 404
    assert sqlite_api.post(f"{FEEDS}/{fid}/poll").status_code == 404


def test_the_api_polls_in_the_background_and_stops_on_shutdown(
    sqlite_api: Api, feed: tuple[Feed, str], tmp_path: Path
) -> None:
    state, url = feed
    state.publish(_calendar(_event("bg", SOON, "0700", "0800")))
    _subscribe(sqlite_api, url)
    settings = ApiSettings(
        registry=SMALL_SITE,
        store=sqlite_api.client.app.state.ctx.settings.store,  # type: ignore[attr-defined]
        records_url=f"sqlite:///{tmp_path}/api.db",
        broker_url=None,
        rollup_interval_s=0,
        summaries_interval_s=0,
        feeds_poll_interval_s=1,
        outbound_allowed_networks=LOOPBACK,
    )
    app = create_app(
        settings, registry=Registry({"pieni": sqlite_api.site}), store=sqlite_api.store
    )
    with TestClient(app):
        deadline = time.monotonic() + 10
        while not state.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert state.requests, "the poller did not poll"
    assert not [t for t in threading.enumerate() if t.name == "api-booking-feeds"]
    deadline = time.monotonic() + 5
    while _ids(sqlite_api) != ["bg"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _ids(sqlite_api) == ["bg"]


def test_the_cli_polls_every_feed_once(
    sqlite_api: Api, feed: tuple[Feed, str], tmp_path: Path
) -> None:
    state, url = feed
    state.publish(_calendar(_event("cli", SOON, "0700", "0800")))
    fid = _subscribe(sqlite_api, url)
    args = ["poll-feeds", "--records-url", f"sqlite:///{tmp_path}/api.db",
            "--registry", str(SMALL_SITE), "--outbound-allowed-networks", LOOPBACK]  # fmt: skip
    got = CliRunner().invoke(bookings_cli, args)
    assert got.exit_code == 0, got.output
    assert f"feed {fid}: 1 created, 0 updated, 0 unchanged, 0 cancelled, 0 rejected" in got.output
    again = CliRunner().invoke(bookings_cli, args)
    assert f"feed {fid}: not modified (304)" in again.output
    assert _ids(sqlite_api) == ["cli"]
    typo = CliRunner().invoke(
        bookings_cli, ["poll-feeds", "--records-url", f"sqlite:///{tmp_path}/nope.db"]
    )
    assert typo.exit_code == 2 and f"no records database at {tmp_path}/nope.db" in typo.output
    assert not (tmp_path / "nope.db").exists()
