"""The receiver process of ``ingest.mqtt`` and the acknowledgements sent to it."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from multiprocessing.connection import Connection

from core.messages import RawMessage
from ingest.config import IngestSettings
from ingest.pipeline import Delivery
from ingest.subscriber import MqttSubscriber
from tests.conftest import EXAMPLE_SITES


def _delivery(mid: int, epoch: int, qos: int = 1) -> Delivery:
    return Delivery(RawMessage("t", b"{}", qos, False, mid, datetime.now(UTC)), epoch)


def test_a_batch_is_acknowledged_in_arrival_order_in_one_message_per_connection() -> None:
    # The receiver's end of the socket is read here directly (no receiver
    # process): what matters is the exact sequence of commands it is sent.
    acked: list[int] = []
    sub = MqttSubscriber(
        IngestSettings(registry=EXAMPLE_SITES), lambda chunk: None, on_acked=acked.append
    )
    ours, theirs = socket.socketpair()
    sub._conn = Connection(ours.detach())
    receiver = Connection(theirs.detach())
    sub._set_state(True, 7)
    batch = [
        _delivery(5, 6),  # from the previous connection: must not be acked now
        _delivery(6, 6),
        _delivery(9, 7),
        _delivery(3, 7),  # packet ids are not ordered; arrival order is what counts
        _delivery(0, 7, qos=0),  # QoS 0 needs no PUBACK
        _delivery(4, 7),
    ]
    sub.ack(batch)
    # The payload bytes of the whole batch (6 x 2) are released with it.
    assert receiver.recv() == ("ack", 7, [9, 3, 4], 12)
    assert not receiver.poll(0.2)  # one message for the whole batch
    assert sub.stale_acks == 2
    assert acked == [1]  # the QoS 0 message at once; the rest when the receiver reports
    sub._set_state(False, 8)
    sub.ack([_delivery(10, 7)])  # disconnected meanwhile: the broker resends it
    assert receiver.recv() == ("release", 2)  # no PUBACK, but the bytes are free again
    assert not receiver.poll(0.2)
    assert sub.stale_acks == 3
