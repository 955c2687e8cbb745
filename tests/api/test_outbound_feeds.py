"""Booking-feed URLs and the outbound address policy (core/outbound.py): an
internal address is refused when the feed is subscribed (422), and at each
poll, through redirects too, by the API and by ``occupancy bookings
poll-feeds``. Real HTTP servers on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.bookings_cli import app as bookings_cli
from storage import StoreSettings
from tests.api.conftest import SMALL_SITE, Api, make_api
from tests.api.test_booking_feeds import SOON, _calendar, _event
from tests.servers import http_server

FEEDS = "/v1/sites/pieni/booking-feeds"


@dataclass
class Server:
    port: int = 0
    paths: list[str] = field(default_factory=list)
    redirect_to: str | None = None
    body: str = ""

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


def _serve() -> Iterator[Server]:
    state = Server(body=_calendar(_event("f1", SOON, "0700", "0800")))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.paths.append(self.path)
            if state.redirect_to is not None:
                self.send_response(302)
                self.send_header("Location", state.redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = state.body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:
            pass

    with http_server(Handler) as state.port:
        yield state


@pytest.fixture
def front() -> Iterator[Server]:
    yield from _serve()


@pytest.fixture
def back() -> Iterator[Server]:
    yield from _serve()


def _api(tmp_path: Path, allowed: str) -> Iterator[Api]:
    store = StoreSettings(url=f"sqlite:///{tmp_path}/store.db")
    yield from make_api(store, tmp_path, outbound_allowed_networks=allowed)


def test_an_internal_feed_url_is_refused_when_subscribed(tmp_path: Path, front: Server) -> None:
    for api in _api(tmp_path, ""):
        for url, said in [
            (front.url("/rooms.ics"), "127.0.0.1, a loopback address"),
            (front.url("/rooms.ics", "localhost"), "localhost resolves to 127.0.0.1"),
            ("http://2130706433/rooms.ics", "2130706433 resolves to 127.0.0.1"),
            ("http://[::1]/rooms.ics", "::1, a loopback address"),
            ("http://[::ffff:127.0.0.1]/rooms.ics", "(that is 127.0.0.1), a loopback"),
            ("http://[fe80::1]/rooms.ics", "fe80::1, a link-local address"),
            ("http://192.168.1.20/rooms.ics", "192.168.1.20, a private (RFC 1918) address"),
            ("https://calendar.invalid/rooms.ics", "calendar.invalid does not resolve"),
        ]:
            r = api.post(FEEDS, json={"url": url})
            assert r.status_code == 422, (url, r.text)
            assert r.json()["detail"].startswith("url: ") and said in r.json()["detail"], url
        assert api.get(FEEDS).json() == []
        assert front.paths == []


def test_a_redirect_to_an_internal_address_is_refused_at_the_poll(
    tmp_path: Path, front: Server, back: Server
) -> None:
    # the administrator allows the feed host by name, not 127.0.0.1
    for api in _api(tmp_path, "localhost"):
        r = api.post(FEEDS, json={"url": front.url("/rooms.ics", "localhost")})
        assert r.status_code == 201, r.text
        fid = r.json()["id"]
        front.redirect_to = back.url("/internal.ics")
        polled = api.post(f"{FEEDS}/{fid}/poll").json()
        assert polled["last_status"] == "failed" and polled["failures"] == 1
        assert polled["last_error"].startswith(
            "refused by the outbound address policy: 127.0.0.1, a loopback address"
        ), polled["last_error"]
        assert front.paths == ["/rooms.ics"] and back.paths == []
        # a redirect to the allowed name is followed
        front.redirect_to = back.url("/moved.ics", "localhost")
        polled = api.post(f"{FEEDS}/{fid}/poll").json()
        assert polled["last_error"] is None and polled["last_summary"]["created"] == 1
        assert back.paths == ["/moved.ics"]


def test_the_cli_poll_applies_the_policy_to_stored_feeds(tmp_path: Path, front: Server) -> None:
    for api in _api(tmp_path, "127.0.0.0/8"):
        fid = api.post(FEEDS, json={"url": front.url("/rooms.ics")}).json()["id"]
    args = ["poll-feeds", "--records-url", f"sqlite:///{tmp_path}/api.db",
            "--registry", str(SMALL_SITE)]  # fmt: skip
    got = CliRunner().invoke(bookings_cli, args)  # no allow-list: loopback refused
    assert got.exit_code == 1 and f"feed {fid}: failed" in got.output, got.output
    assert front.paths == []
    got = CliRunner().invoke(bookings_cli, [*args, "--outbound-allowed-networks", "127.0.0.0/8"])
    assert got.exit_code == 0 and f"feed {fid}: 1 created" in got.output, got.output
    assert front.paths == ["/rooms.ics"]
    bad = CliRunner().invoke(bookings_cli, [*args, "--outbound-allowed-networks", "127.0.0.1/8"])
    assert bad.exit_code == 2 and "outbound_allowed_networks" in bad.output, bad.output
