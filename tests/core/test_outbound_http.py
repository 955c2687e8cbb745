"""The guarded httpx client (core/outbound_http.py) against real HTTP servers
on loopback (IPv4 and IPv6): refused by default, reached when allow-listed,
checked at connection time (DNS rebinding) and on every redirect hop."""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest
import trustme

from core.outbound import OutboundPolicy, OutboundRefused
from core.outbound_http import guarded_client
from tests.servers import http_server


@dataclass
class Server:
    host: str
    port: int
    paths: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)  # the Host header of each request
    redirect_to: str | None = None

    def url(self, path: str = "/", name: str | None = None) -> str:
        where = name or (f"[{self.host}]" if ":" in self.host else self.host)
        return f"http://{where}:{self.port}{path}"


def _serve(host: str, tls: ssl.SSLContext | None = None) -> Iterator[Server]:
    state = Server(host, 0)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            state.paths.append(self.path)
            state.hosts.append(self.headers.get("Host", ""))
            if state.redirect_to is not None:
                self.send_response(302)
                self.send_header("Location", state.redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        do_GET = do_POST = _answer

        def log_message(self, *_args: Any) -> None:
            pass

    with http_server(Handler, host, tls=tls) as state.port:
        yield state


@pytest.fixture
def v4() -> Iterator[Server]:
    yield from _serve("127.0.0.1")


@pytest.fixture
def other() -> Iterator[Server]:
    yield from _serve("127.0.0.1")


@pytest.fixture
def v6() -> Iterator[Server]:
    yield from _serve("::1")


def _get(policy: OutboundPolicy, url: str, *, follow: bool = True) -> str:
    with guarded_client(policy, timeout=5, follow_redirects=follow) as client:
        return client.get(url).text


def test_a_loopback_server_is_refused_by_default_and_reached_when_allowed(v4: Server) -> None:
    for url in (v4.url(), v4.url(name="localhost"), v4.url(name="2130706433")):
        with pytest.raises(OutboundRefused, match=re.escape("127.0.0.1, a loopback")):
            _get(OutboundPolicy(), url)
    assert v4.paths == []  # not even a connection reached it
    allowed = OutboundPolicy.from_setting("127.0.0.0/8")
    assert _get(allowed, v4.url("/a")) == "ok"
    assert _get(allowed, v4.url("/b", name="localhost")) == "ok"
    assert _get(allowed, v4.url("/c", name="2130706433")) == "ok"
    assert v4.paths == ["/a", "/b", "/c"]


def test_ipv6_loopback_and_its_mapped_forms(v6: Server, v4: Server) -> None:
    with pytest.raises(OutboundRefused, match="::1, a loopback"):
        _get(OutboundPolicy(), v6.url())
    with pytest.raises(OutboundRefused, match=re.escape("that is 127.0.0.1")):
        _get(OutboundPolicy(), v4.url(name="[::ffff:127.0.0.1]"))
    assert v6.paths == [] and v4.paths == []
    assert _get(OutboundPolicy.from_setting("::1/128"), v6.url("/six")) == "ok"
    assert v6.paths == ["/six"]


def test_the_connection_goes_to_the_address_that_was_checked(v4: Server) -> None:
    """DNS rebinding: the name resolves to a public address when the URL is
    given and to loopback when the request is made. The resolver is a
    stand-in (no DNS server of the test's own can be given to the system
    resolver); the server is real."""
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])
    policy = OutboundPolicy(resolver=lambda _host, _port: next(answers))
    policy.check_url(v4.url(name="rebind.example"))  # public now: accepted
    with pytest.raises(OutboundRefused, match=re.escape("rebind.example resolves to 127.0.0.1")):
        _get(policy, v4.url(name="rebind.example"))
    assert v4.paths == []


def test_the_client_connects_by_the_checked_number_not_a_second_lookup(v4: Server) -> None:
    """A name only the policy's resolver knows reaches the server: the client
    connected to the address the policy checked (the system resolver, asked
    again, would fail on this name), with the URL's name in the Host header."""
    asked: list[str] = []

    def resolve(host: str, _port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    policy = OutboundPolicy.from_setting("127.0.0.0/8", resolver=resolve)
    assert _get(policy, v4.url("/named", name="calendar.invalid")) == "ok"
    assert asked == ["calendar.invalid"]
    assert v4.hosts == [f"calendar.invalid:{v4.port}"]


def test_a_redirect_to_an_internal_address_is_refused(v4: Server, other: Server) -> None:
    # "localhost" is allowed by name; a redirect to 127.0.0.1 is not
    policy = OutboundPolicy.from_setting("localhost")
    v4.redirect_to = other.url("/secret")
    with pytest.raises(OutboundRefused, match=re.escape("127.0.0.1, a loopback")):
        _get(policy, v4.url("/feed.ics", name="localhost"))
    assert v4.paths == ["/feed.ics"] and other.paths == []
    # a redirect to an allowed host is followed
    v4.redirect_to = other.url("/moved", name="localhost")
    assert _get(policy, v4.url("/feed.ics", name="localhost")) == "ok"
    assert other.paths == ["/moved"]


def test_without_following_a_redirect_is_only_an_answer(v4: Server, other: Server) -> None:
    v4.redirect_to = other.url("/secret")
    policy = OutboundPolicy.from_setting("localhost")
    with guarded_client(policy, timeout=5, follow_redirects=False) as client:
        assert client.post(v4.url("/hook", name="localhost"), content=b"{}").status_code == 302
    assert other.paths == []


def test_tls_checks_the_certificate_against_the_urls_name() -> None:
    """The connection is made to the checked number, but TLS still verifies
    the URL's host name: a certificate for another name is refused. A real
    TLS server on loopback, its certificate from a test CA (trustme)."""
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("hooks.invalid").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    policy = OutboundPolicy.from_setting("127.0.0.0/8", resolver=lambda _h, _p: ["127.0.0.1"])
    served = _serve("127.0.0.1", server_ctx)
    state = next(served)
    try:
        with guarded_client(policy, timeout=5, follow_redirects=False, verify=client_ctx) as c:
            assert c.get(f"https://hooks.invalid:{state.port}/tls").text == "ok"
            with pytest.raises(httpx.ConnectError, match="certificate"):
                c.get(f"https://other.invalid:{state.port}/tls")
        assert state.paths == ["/tls"]
    finally:
        next(served, None)
