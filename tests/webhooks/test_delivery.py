"""Deliveries to a real local receiver: signatures (checked by the receiver
with its own HMAC), retries with backoff, order per subscription, dead letters
and their replay, the rate limit, and secret rotation."""

from __future__ import annotations

import itertools
import time

from tests.webhooks.conftest import HookApi
from tests.webhooks.receiver import Receiver
from webhooks.events import SENSOR_ALERT, SPACE_STATE

TOLERANCE_S = 0.6  # a timestamp header is the whole second of the attempt


def test_signed_as_the_standard_says(hooks: HookApi, receiver: Receiver) -> None:
    sub = hooks.subscribe(url=receiver.url, event_types=[SENSOR_ALERT])
    assert sub["secret"].startswith("whsec_")
    before = time.time()
    event = hooks.publish(SENSOR_ALERT, 1, sensor="s-a1")
    receiver.wait_for(lambda r: len(r.ok_hits()) == 1)
    hit = receiver.ok_hits()[0]
    assert hit.signed_by(sub["secret"])
    assert not hit.signed_by("whsec_" + "A" * 43 + "=")  # another key does not verify
    assert before - 1 <= int(hit.timestamp) <= time.time() + TOLERANCE_S
    assert hit.msg_id.startswith("msg_") and "." not in hit.msg_id
    body = hit.payload
    assert body["type"] == SENSOR_ALERT and body["id"] == event.id
    assert body["timestamp"] == "2026-03-02T09:00:01Z"
    assert body["data"] == {"n": 1, "sensor": "s-a1"}
    # the body is what was signed, byte for byte: minified JSON
    assert b": " not in hit.body and b", " not in hit.body


def test_retries_back_off_exponentially(hooks: HookApi, receiver: Receiver) -> None:
    receiver.answer = lambda n, _b: 500 if n < 2 else 200  # two failures, then accepted
    sub = hooks.subscribe(url=receiver.url, event_types=[SENSOR_ALERT])
    hooks.publish(SENSOR_ALERT, 1)
    receiver.wait_for(lambda r: len(r.ok_hits()) == 1)
    hits = receiver.hits
    assert [h.status for h in hits] == [500, 500, 200]
    assert len({h.msg_id for h in hits}) == 1  # the same webhook-id on every attempt
    assert all(h.signed_by(sub["secret"]) for h in hits)
    # base 0.1 s, doubling, less up to 20 % jitter: >= 0.08 s, then >= 0.16 s
    gaps = [b.at - a.at for a, b in itertools.pairwise(hits)]
    assert gaps[0] >= 0.08 and gaps[1] >= 0.16, gaps
    assert gaps[1] < 1.0  # and not the cap
    delivered = hooks.deliveries("delivered", until=bool)
    assert [d["attempts"] for d in delivered] == [3]


def test_order_kept_per_subscription(hooks: HookApi, receiver: Receiver) -> None:
    receiver.answer = lambda n, _b: 503 if n == 0 else 200  # the first one fails once
    hooks.subscribe(url=receiver.url, event_types=[SPACE_STATE])
    events = [hooks.publish(SPACE_STATE, i) for i in range(6)]
    receiver.wait_for(lambda r: len(r.ok_hits()) == 6)
    assert [h.payload["id"] for h in receiver.ok_hits()] == [e.id for e in events]
    assert receiver.hits[0].payload["id"] == events[0].id  # the failed one, retried first


def test_dead_letter_then_replay(hooks: HookApi, receiver: Receiver) -> None:
    receiver.answer = lambda _n, body: 500 if body["data"].get("poison") else 200
    sub = hooks.subscribe(url=receiver.url, event_types=[SENSOR_ALERT])
    bad = hooks.publish(SENSOR_ALERT, 1, poison=True)
    good = hooks.publish(SENSOR_ALERT, 2)
    # max_attempts 3: the bad one dies after three tries and no longer holds up the next
    receiver.wait_for(lambda r: len(r.ok_hits()) == 1)
    assert [h.payload["id"] for h in receiver.hits] == [bad.id] * 3 + [good.id]
    dead = hooks.call("GET", "/v1/webhooks/dead-letters").json()
    assert [(d["event_id"], d["attempts"], d["subscription"]) for d in dead] == [
        (bad.id, 3, sub["id"])
    ]
    assert dead[0]["last_error"] == "HTTP 500"
    receiver.answer = lambda _n, _b: 200  # the receiver is fixed
    r = hooks.call("POST", f"/v1/webhooks/dead-letters/{dead[0]['id']}/replay")
    assert r.status_code == 200, r.text
    receiver.wait_for(lambda r: len(r.ok_hits()) == 2)
    replayed = receiver.ok_hits()[1]
    assert replayed.payload["id"] == bad.id
    assert replayed.msg_id == receiver.hits[0].msg_id  # same webhook-id: receivers dedupe
    assert hooks.call("GET", "/v1/webhooks/dead-letters").json() == []
    again = hooks.call("POST", f"/v1/webhooks/dead-letters/{dead[0]['id']}/replay")
    assert again.status_code == 404  # delivered now: nothing to replay


def test_rate_limit_per_subscription(hooks: HookApi, receiver: Receiver) -> None:
    limited = hooks.subscribe(
        url=receiver.url + "?limited", event_types=[SPACE_STATE], rate_per_s=5
    )
    assert limited["rate_per_s"] == 5
    fast = Receiver().start()
    try:
        hooks.subscribe(url=fast.url, event_types=[SPACE_STATE], rate_per_s=1000)
        for i in range(12):
            hooks.publish(SPACE_STATE, i)
        fast.wait_for(lambda r: len(r.ok_hits()) == 12)
        receiver.wait_for(lambda r: len(r.ok_hits()) == 12)
        fast_done = fast.ok_hits()[-1].at
    finally:
        fast.stop()
    hits = receiver.ok_hits()
    # a bucket of 5 refilled at 5/s: 5 at once, then 7 more at 0.2 s each
    assert hits[-1].at - hits[0].at >= 1.4 - 0.1
    # in any one second at most 5 + 5 arrive
    for h in hits:
        assert sum(1 for x in hits if h.at <= x.at < h.at + 1.0) <= 10
    # the other subscription is not held to that rate: done well before
    assert fast_done < hits[-1].at - 0.5


def test_rotated_secret_signs_beside_the_old(hooks: HookApi, receiver: Receiver) -> None:
    sub = hooks.subscribe(url=receiver.url, event_types=[SENSOR_ALERT])
    r = hooks.call("POST", f"/v1/webhooks/subscriptions/{sub['id']}/rotate-secret")
    assert r.status_code == 200, r.text
    new = r.json()["secret"]
    assert new != sub["secret"] and len(r.json()["secrets"]) == 2
    hooks.publish(SENSOR_ALERT, 1)
    receiver.wait_for(lambda r: len(r.ok_hits()) == 1)
    hit = receiver.ok_hits()[0]
    assert len(hit.signatures) == 2  # space-separated, one per secret in force
    assert hit.signed_by(new) and hit.signed_by(sub["secret"])
    listed = hooks.call("GET", f"/v1/webhooks/subscriptions/{sub['id']}").json()
    assert "secret" not in listed  # shown only when made
    assert listed["secrets"][0]["expires_at"] is None  # the new one
    assert listed["secrets"][1]["expires_at"] is not None  # the old one, until the grace ends


def test_rotation_without_grace_drops_the_old(make, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    for hooks in make(secret_grace_h=0):
        sub = hooks.subscribe(url=receiver.url, event_types=[SENSOR_ALERT])
        new = hooks.call("POST", f"/v1/webhooks/subscriptions/{sub['id']}/rotate-secret")
        hooks.publish(SENSOR_ALERT, 1)
        receiver.wait_for(lambda r: len(r.ok_hits()) == 1)
        hit = receiver.ok_hits()[0]
        assert len(hit.signatures) == 1
        assert hit.signed_by(new.json()["secret"]) and not hit.signed_by(sub["secret"])


def test_disabled_webhooks_record_nothing(make, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    from webhooks.events import NullSink

    for hooks in make(enabled=False):
        assert isinstance(hooks.ctx.events, NullSink)
        hooks.subscribe(url=receiver.url, event_types=[SENSOR_ALERT])
        hooks.publish(SENSOR_ALERT, 1)
        time.sleep(0.2)
        assert hooks.deliveries("pending", until=lambda _f: True) == []
    assert receiver.hits == []
