"""The events other systems can subscribe to, and the sink they are handed to.

Emitters (the live state, the alert engine, the charge life cycle, the
summariser) know only ``Event`` and ``EventSink``; how an event reaches a
subscriber (the webhook outbox) is the sink's business, so an emitter never
waits on delivery.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

SPACE_STATE = "space.state"
ZONE_THRESHOLD = "zone.threshold"
SENSOR_ALERT = "sensor.alert"
SENSOR_RESOLVED = "sensor.resolved"
BOOKING_NO_SHOW = "booking.no_show"
CHARGES_APPROVED = "charges.approved"
SUMMARIES_DAY_CLOSED = "summaries.day_closed"

EVENT_TYPES = (
    SPACE_STATE,
    ZONE_THRESHOLD,
    SENSOR_ALERT,
    SENSOR_RESOLVED,
    BOOKING_NO_SHOW,
    CHARGES_APPROVED,
    SUMMARIES_DAY_CLOSED,
)


def _event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened. ``agency`` is set when the event concerns one
    agency's data only (its dedicated space, its booking, its statement): an
    agency's subscription receives only those and site-wide events it may see."""

    type: str
    site: str
    occurred_at: datetime  # timezone-aware
    data: Mapping[str, Any]
    agency: str | None = None
    id: str = field(default_factory=_event_id)


class EventSink(Protocol):
    def publish(self, event: Event) -> None:
        """Accept an event for delivery; must not block on the network."""


class NullSink:
    """Where events go when no integration is configured."""

    def publish(self, event: Event) -> None:
        return None
