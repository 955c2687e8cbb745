"""Nothing is lost across an API restart: deliveries pending while the
receiver is down are delivered by the next app on the same records database,
each exactly once."""

from __future__ import annotations

import time
from collections import Counter

from tests.webhooks.conftest import Maker
from tests.webhooks.receiver import Receiver
from webhooks.events import SPACE_STATE


def test_pending_deliveries_survive_a_restart(make: Maker) -> None:
    receiver = Receiver().start()
    port, url = receiver.port, receiver.url
    receiver.stop()  # the receiver is down: every attempt is refused
    published = []
    # many attempts and short waits, so nothing is dead-lettered while it is down
    settings = {"max_attempts": 50, "backoff_base_s": 0.05, "backoff_max_s": 0.2}
    for hooks in make(**settings):
        sub = hooks.subscribe(url=url, event_types=[SPACE_STATE])
        published += [hooks.publish(SPACE_STATE, i) for i in range(4)]
        # until all are in the outbox and the first has been tried and failed
        pending = hooks.deliveries(
            "pending", until=lambda found: len(found) == 4 and found[0]["attempts"] >= 1
        )
        assert pending[0]["last_error"].startswith("ConnectError"), pending
        # published just before the stop: still in memory, written out at shutdown
        published += [hooks.publish(SPACE_STATE, i) for i in range(4, 7)]
    receiver = Receiver(port=port).start()  # the receiver comes back, on the same address
    try:
        for hooks in make(**settings):
            receiver.wait_for(lambda r: len(r.ok_hits()) >= 7)
            assert hooks.deliveries("pending", until=lambda found: not found) == []
            time.sleep(0.3)  # anything sent twice would arrive by now
        hits = receiver.ok_hits()
        assert [h.payload["id"] for h in hits] == [e.id for e in published]  # in order
        assert set(Counter(h.msg_id for h in hits).values()) == {1}  # each id once
        assert all(h.signed_by(sub["secret"]) for h in hits)
        assert all(h.status == 200 for h in receiver.hits)  # none failed after the restart
    finally:
        receiver.stop()
