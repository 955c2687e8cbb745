"""The persisted outbox: events published to the sink become one delivery row
per matching subscription in the records database, so a restart loses none.

``OutboxSink.publish`` only queues the event in memory (it never blocks an
emitter); the delivery worker writes the queue to the database before each
delivery round and once more when it stops.
"""

from __future__ import annotations

import json
import queue
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core.registry import Registry
from webhooks.access import may_receive
from webhooks.events import Event
from webhooks.tables import DEAD, DELIVERED, PENDING, Delivery, Subscription, SubscriptionSecret
from webhooks.tables import aware as _aware


class OutboxSink:
    """The app's ``EventSink`` when webhooks are enabled."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self.wake = threading.Event()  # the worker waits on it between rounds

    def publish(self, event: Event) -> None:
        self._queue.put(event)
        self.wake.set()

    def take_all(self) -> list[Event]:
        out: list[Event] = []
        while True:
            try:
                out.append(self._queue.get_nowait())
            except queue.Empty:
                return out


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def body_of(event: Event) -> str:
    """The JSON body (Standard Webhooks' recommended ``type``/``timestamp``/``data``,
    with the event's id, site and agency beside them), minified as it is signed."""
    return json.dumps(
        {
            "id": event.id,
            "type": event.type,
            "timestamp": _iso(event.occurred_at),
            "site": event.site,
            "agency": event.agency,
            "data": dict(event.data),
        },
        ensure_ascii=False,
        separators=(",", ":"),
        default=lambda v: _iso(v) if isinstance(v, datetime) else str(v),
    )


def matches(sub: Subscription, event: Event, *, registry: Registry, min_group: int) -> bool:
    types = set(json.loads(sub.event_types))
    if event.type not in types:
        return False
    if sub.site is not None and sub.site != event.site:
        return False
    if sub.zone is not None and event.data.get("zone") != sub.zone:
        return False
    return may_receive(event, agency=sub.agency, registry=registry, min_group=min_group)


def enqueue(
    session: Session, events: Sequence[Event], *, registry: Registry, min_group: int
) -> int:
    """One pending delivery per (event, matching active subscription); returns how many."""
    if not events:
        return 0
    subs = list(session.scalars(select(Subscription).where(Subscription.active.is_(True))))
    n = 0
    for event in events:
        body = None
        for sub in subs:
            if not matches(sub, event, registry=registry, min_group=min_group):
                continue
            body = body or body_of(event)
            session.add(
                Delivery(
                    subscription_id=sub.id,
                    msg_id=f"msg_{uuid.uuid4().hex}",
                    event_id=event.id,
                    event_type=event.type,
                    body=body,
                    status=PENDING,
                    next_attempt_at=datetime.now(UTC),
                )
            )
            n += 1
    session.commit()
    return n


def heads(session: Session) -> list[Delivery]:
    """The oldest pending delivery of each subscription: only it may be
    attempted, so a subscription's deliveries arrive in order."""
    first = (
        select(func.min(Delivery.id))
        .where(Delivery.status == PENDING)
        .group_by(Delivery.subscription_id)
    )
    return list(session.scalars(select(Delivery).where(Delivery.id.in_(first))))


def secrets_in_force(session: Session, sub_id: str, now: datetime) -> list[str]:
    """Newest first: the current secret, then rotated-out ones still in their grace."""
    rows = session.scalars(
        select(SubscriptionSecret)
        .where(SubscriptionSecret.subscription_id == sub_id)
        .order_by(SubscriptionSecret.id.desc())
    )
    return [r.secret for r in rows if r.expires_at is None or _aware(r.expires_at) > now]


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    error: str | None = None
    retry_after_s: float | None = None
    gone: bool = False  # 410: the receiver wants no more
    # the outbound address policy refused the URL's address: retrying the
    # same address would be refused again, so it is dead-lettered at once
    refused: bool = False


def record_outcome(
    session: Session,
    delivery: Delivery,
    outcome: Outcome,
    *,
    now: datetime,
    max_attempts: int,
    backoff: Callable[[int], float],
) -> None:
    delivery.attempts += 1
    delivery.last_attempt_at = now
    if outcome.ok:
        delivery.status = DELIVERED
        delivery.delivered_at = now
        delivery.last_error = None
    else:
        delivery.last_error = (outcome.error or "failed")[:500]
        if outcome.gone or outcome.refused or delivery.attempts >= max_attempts:
            delivery.status = DEAD
        else:
            wait = backoff(delivery.attempts)
            if outcome.retry_after_s is not None:
                wait = max(wait, outcome.retry_after_s)
            delivery.next_attempt_at = now + timedelta(seconds=wait)
    if outcome.gone:
        sub = session.get(Subscription, delivery.subscription_id)
        if sub is not None:
            sub.active = False
    session.commit()


def prune_delivered(session: Session, *, before: datetime) -> int:
    result: Any = session.execute(
        delete(Delivery).where(Delivery.status == DELIVERED, Delivery.delivered_at < before)
    )
    session.commit()
    return int(result.rowcount or 0)
