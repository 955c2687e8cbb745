"""Webhook URLs and the outbound address policy (core/outbound.py): an internal
address is refused when a subscription is made or changed (422), and a
delivery to one is dead-lettered with the reason, at once, keeping its event
for a replay once the administrator allows the address."""

from __future__ import annotations

import pytest

from tests.webhooks.conftest import Maker
from tests.webhooks.receiver import Receiver
from webhooks.events import SPACE_STATE

SUBS = "/v1/webhooks/subscriptions"

REFUSED = [
    ("http://127.0.0.1:8086/api/v2/write", "127.0.0.1, a loopback address"),
    ("http://2130706433/", "127.0.0.1, a loopback address"),
    ("http://0177.0.0.1:3000/", "127.0.0.1, a loopback address"),
    ("http://[::1]:3000/", "::1, a loopback address"),
    ("http://[::ffff:127.0.0.1]/", "(that is 127.0.0.1), a loopback address"),
    ("http://[fe80::1]/", "fe80::1, a link-local address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254, a link-local address"),
    ("http://10.0.0.5/hook", "10.0.0.5, a private (RFC 1918) address"),
    ("http://100.64.1.1/hook", "100.64.1.1, a carrier-grade NAT (RFC 6598) address"),
    ("http://[fd00::1]/hook", "fd00::1, a private (unique local) address"),
    ("http://224.0.0.1/hook", "224.0.0.1, a multicast address"),
    ("http://0.0.0.0:8000/", "0.0.0.0, an unspecified address"),
    ("https://receiver.invalid/hook", "receiver.invalid does not resolve"),
]


def test_internal_urls_are_refused_when_given(make: Maker, receiver: Receiver) -> None:
    # only "localhost" is allowed, by name: 127.0.0.1 itself is not
    for hooks in make(allowed="localhost"):
        for role in ("agency:aa", "facility", "admin"):
            for url, said in REFUSED:
                r = hooks.call("POST", SUBS, role, json={"url": url, "event_types": [SPACE_STATE]})
                assert r.status_code == 422, (role, url, r.text)
                detail = r.json()["detail"]
                assert detail.startswith("url: ") and said in detail, (url, detail)
        assert hooks.call("GET", SUBS, "admin").json() == []
        named = f"http://localhost:{receiver.port}/hook"
        sub = hooks.subscribe("agency:aa", url=named, event_types=[SPACE_STATE])
        r = hooks.call("PATCH", f"{SUBS}/{sub['id']}", "agency:aa", json={"url": receiver.url})
        assert r.status_code == 422 and "127.0.0.1, a loopback address" in r.json()["detail"]
        assert "outbound_allowed_networks" in r.json()["detail"]
        assert hooks.call("GET", f"{SUBS}/{sub['id']}", "agency:aa").json()["url"] == named


def test_a_refused_delivery_is_dead_lettered_at_once_and_kept(
    make: Maker, receiver: Receiver
) -> None:
    # a subscription made while loopback was allowed ...
    for hooks in make():
        sub = hooks.subscribe("agency:aa", url=receiver.url, event_types=[SPACE_STATE])
    # ... is refused at connection time once it is not: each delivery goes to
    # the dead letters after one attempt (max_attempts is 3), with the reason
    for hooks in make(allowed=""):
        events = [hooks.publish(SPACE_STATE, i, agency="aa", space="r1") for i in range(2)]
        dead = hooks.deliveries("dead", until=lambda found: len(found) == 2)
        assert [d["event_id"] for d in dead] == [e.id for e in events]
        assert [d["attempts"] for d in dead] == [1, 1]
        for d in dead:
            assert d["last_error"].startswith(
                "refused by the outbound address policy: 127.0.0.1, a loopback address"
            ), d
            assert d["body"]["id"] == d["event_id"]  # the event is kept whole
        assert receiver.hits == []
        assert hooks.call("GET", f"{SUBS}/{sub['id']}").json()["active"] is True
    # allowed again: the replayed dead letters arrive, with their webhook-ids
    for hooks in make():
        for d in dead:
            replayed = hooks.call("POST", f"/v1/webhooks/dead-letters/{d['id']}/replay")
            assert replayed.status_code == 200
        receiver.wait_for(lambda r: len(r.ok_hits()) == 2)
        assert [h.msg_id for h in receiver.ok_hits()] == [d["webhook_id"] for d in dead]
        assert all(h.signed_by(sub["secret"]) for h in receiver.ok_hits())


@pytest.mark.parametrize("setting", ["127.0.0.1/8", "intranet_hooks"])
def test_a_bad_allow_list_stops_the_start(make: Maker, setting: str) -> None:
    with pytest.raises(ValueError, match="outbound_allowed_networks"):
        next(make(allowed=setting))
