"""Subscriptions and agency keys: an agency manages its own subscriptions only
and receives only what the disclosure rule lets it see (webhooks/access.py)."""

from __future__ import annotations

import time

from core.registry import Registry, load_site
from tests.webhooks.conftest import SMALL_SITE, HookApi
from tests.webhooks.receiver import Receiver
from webhooks.access import may_receive
from webhooks.events import (
    BOOKING_NO_SHOW,
    CHARGES_APPROVED,
    EVENT_TYPES,
    SENSOR_ALERT,
    SPACE_STATE,
    SUMMARIES_DAY_CLOSED,
    ZONE_THRESHOLD,
    Event,
)

SUBS = "/v1/webhooks/subscriptions"


def test_agency_manages_its_own_subscriptions_only(hooks: HookApi, receiver: Receiver) -> None:
    mine = hooks.subscribe("agency:aa", url=receiver.url, event_types=[BOOKING_NO_SHOW])
    assert mine["agency"] == "aa"
    theirs = hooks.subscribe("agency:bb", url=receiver.url, event_types=[BOOKING_NO_SHOW])
    facility = hooks.subscribe(url=receiver.url, event_types=[SENSOR_ALERT])
    ids = lambda role: [s["id"] for s in hooks.call("GET", SUBS, role).json()]  # noqa: E731
    assert ids("agency:aa") == [mine["id"]]
    assert ids("facility") == [mine["id"], theirs["id"], facility["id"]]
    for method in ("GET", "PATCH", "DELETE"):
        kw = {"json": {"active": False}} if method == "PATCH" else {}
        r = hooks.call(method, f"{SUBS}/{theirs['id']}", "agency:aa", **kw)
        assert r.status_code == 404, (method, r.text)  # not even its existence
    rot = hooks.call("POST", f"{SUBS}/{theirs['id']}/rotate-secret", "agency:aa")
    assert rot.status_code == 404
    listed = hooks.call(
        "GET", "/v1/webhooks/deliveries", "agency:aa", params={"subscription": theirs["id"]}
    )
    assert listed.status_code == 404
    r = hooks.call("PATCH", f"{SUBS}/{mine['id']}", "agency:aa", json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    assert hooks.call("DELETE", f"{SUBS}/{mine['id']}", "agency:aa").status_code == 204
    assert ids("agency:aa") == []


def test_bad_requests_are_clear_4xx(hooks: HookApi, receiver: Receiver) -> None:
    def post(role: str = "facility", **body: object) -> tuple[int, str]:
        r = hooks.call("POST", SUBS, role, json={"url": receiver.url, **body})
        return r.status_code, r.text

    assert post("finance", event_types=[SPACE_STATE])[0] == 403
    code, text = post(event_types=["space.exploded"])
    assert code == 422 and "space.exploded" in text
    assert post(event_types=[])[0] == 422
    assert post(event_types=[SPACE_STATE], url="ftp://x/")[0] == 422
    code, text = post(event_types=[SPACE_STATE], site="nowhere")
    assert code == 422 and "nowhere" in text
    code, text = post(event_types=[SPACE_STATE], site="pieni", zone="zq")
    assert code == 422 and "zq" in text
    assert post(event_types=[SPACE_STATE], zone="za")[0] == 422  # a zone needs its site
    code, text = post(event_types=[SPACE_STATE], secret="hunter2")
    assert code == 422 and "whsec_" in text
    code, text = post("agency:aa", event_types=[SPACE_STATE], site="pieni", zone="zb")
    assert code == 403 and "own agency" in text
    assert post("agency:aa", event_types=[SPACE_STATE], site="pieni", zone="zs")[0] == 201
    assert post(event_types=[SPACE_STATE], rate_per_s=0)[0] == 422
    assert post(event_types=[SPACE_STATE], url="http://x/" + "a" * 2000)[0] == 422
    assert hooks.call("POST", "/v1/webhooks/dead-letters/99/replay").status_code == 404
    assert hooks.call("GET", SUBS).status_code == 200
    assert hooks.client.get(SUBS).status_code == 401


def test_agency_receives_what_it_may_see(hooks: HookApi, receiver: Receiver) -> None:
    everything = Receiver().start()
    try:
        hooks.subscribe("agency:aa", url=receiver.url, event_types=list(EVENT_TYPES))
        hooks.subscribe(url=everything.url, event_types=list(EVENT_TYPES))
        sent = {
            "own space": hooks.publish(SPACE_STATE, 1, agency="aa", space="a1", zone="za"),
            "b's space": hooks.publish(SPACE_STATE, 2, agency="bb", space="b1", zone="zb"),
            "shared space": hooks.publish(SPACE_STATE, 3, space="s1", zone="zs"),
            # zs has 4 spaces, fewer than min_group_spaces (5): its count is not shown
            "small shared zone": hooks.publish(ZONE_THRESHOLD, 4, zone="zs"),
            "own zone": hooks.publish(ZONE_THRESHOLD, 5, agency="aa", zone="za"),
            "own no-show": hooks.publish(BOOKING_NO_SHOW, 6, agency="aa", space="r1"),
            "b's no-show": hooks.publish(BOOKING_NO_SHOW, 7, agency="bb", space="r1"),
            "site alert": hooks.publish(SENSOR_ALERT, 8, agent="ag"),
            "site charges": hooks.publish(CHARGES_APPROVED, 9, month="2026-02"),
            "own charges": hooks.publish(CHARGES_APPROVED, 10, agency="aa", month="2026-02"),
            "day closed": hooks.publish(SUMMARIES_DAY_CLOSED, 11, day="2026-03-01"),
        }
        everything.wait_for(lambda r: len(r.ok_hits()) == len(sent))
        time.sleep(0.2)
    finally:
        everything.stop()
    expected = ["own space", "own zone", "own no-show", "own charges", "day closed"]
    assert [h.payload["id"] for h in receiver.ok_hits()] == [sent[k].id for k in expected]


def test_shared_zone_threshold_follows_the_group_size_rule() -> None:
    registry = Registry({"pieni": load_site(SMALL_SITE)})
    event = Event(ZONE_THRESHOLD, "pieni", occurred_at=_t(), data={"zone": "zs"})
    # zs has 4 spaces: shown to an agency when the smallest group is 4, not 5
    assert may_receive(event, agency="aa", registry=registry, min_group=4)
    assert not may_receive(event, agency="aa", registry=registry, min_group=5)
    assert may_receive(event, agency=None, registry=registry, min_group=5)
    foreign = Event(ZONE_THRESHOLD, "pieni", occurred_at=_t(), data={"zone": "zb"})
    assert not may_receive(foreign, agency="aa", registry=registry, min_group=1)


def _t():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime(2026, 3, 2, 9, tzinfo=UTC)
