"""Presence logic of one sensor: debounce, hold time, change events and heartbeats.

Pure state machine: every method takes the current time (the sensor clock, UTC)
as an argument, so tests drive it with hand-picked times and no sleeping.

Rules (the same for every driver; each driver only picks the numbers):

* **Debounce.** A raw change (active <-> inactive) counts only once it has
  lasted ``debounce_s``; shorter blips are ignored.
* **Hold.** The space stays occupied until ``hold_s`` after the last activity
  (PIR: "occupied while there was motion in the last N minutes").
* **Change events** are emitted as soon as the state is known to have changed.
  Their event time is when the change happened (the start of the activity, or
  the end of the hold), never later than necessary and never before the
  previous event of the same sensor.
* **Heartbeats** repeat the current state ``heartbeat_s`` after the previous
  message of the sensor, so silence can be told from vacancy.
* **People counts**, when the sensor gives them, travel with the events; a new
  count while occupied is a change of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.messages import PresenceKind


@dataclass(frozen=True, slots=True)
class StateEvent:
    at: datetime
    occupied: bool
    people: int | None
    kind: PresenceKind


class PresenceTracker:
    def __init__(self, *, debounce_s: float, hold_s: float, heartbeat_s: float):
        if heartbeat_s <= 0:
            raise ValueError("heartbeat_s must be positive")
        self.debounce = timedelta(seconds=debounce_s)
        self.hold = timedelta(seconds=hold_s)
        self.heartbeat = timedelta(seconds=heartbeat_s)
        # last accepted (debounced) raw signal and when it began
        self._stable: bool | None = None
        self._stable_since: datetime | None = None
        # a raw change waiting for its debounce time
        self._pending: bool | None = None
        self._pending_since: datetime | None = None
        self._last_active_end: datetime | None = None
        self._people: int | None = None
        # published state
        self.occupied: bool | None = None
        self.people: int | None = None
        self._last_event_at: datetime | None = None
        self._last_sent_at: datetime | None = None

    # ---- input -----------------------------------------------------------
    def observe(
        self, at: datetime, active: bool | None, people: int | None = None
    ) -> list[StateEvent]:
        """Feed one raw reading; returns the events it (and the passing time) caused."""
        if people is not None:
            self._people = people
            if active is None:
                active = people > 0
        if active is None:
            return self.tick(at)
        if active == self._stable and self._pending is None:
            pass
        elif active == self._stable:
            # the blip ended before its debounce time: forget it
            self._pending = None
            self._pending_since = None
        elif active != self._pending:
            self._pending = active
            self._pending_since = at
        return self.tick(at)

    def tick(self, now: datetime) -> list[StateEvent]:
        """Let time pass: confirm debounced changes, end holds, send heartbeats."""
        events: list[StateEvent] = []
        if (
            self._pending is not None
            and self._pending_since is not None
            and now - self._pending_since >= self.debounce
        ):
            self._accept(self._pending, self._pending_since)
            self._pending = None
            self._pending_since = None
        self._settle(now, events)
        if (
            self.occupied is not None
            and self._last_sent_at is not None
            and now - self._last_sent_at >= self.heartbeat
        ):
            events.append(StateEvent(now, self.occupied, self.people, PresenceKind.HEARTBEAT))
            self._last_sent_at = now
        return events

    # ---- internals -------------------------------------------------------
    def _accept(self, active: bool, since: datetime) -> None:
        if self._stable is True and not active:
            self._last_active_end = since
        self._stable = active
        self._stable_since = since

    def _settle(self, now: datetime, events: list[StateEvent]) -> None:
        if self._stable is None:
            return
        if self._stable or (
            self._last_active_end is not None and now < self._last_active_end + self.hold
        ):
            want, at = True, self._stable_since
        elif self._last_active_end is not None:
            want, at = False, self._last_active_end + self.hold
        else:
            want, at = False, self._stable_since
        assert at is not None
        people = self._people if want else (0 if self._people is not None else None)
        if want != self.occupied or (want and people != self.people):
            if self._last_event_at is not None and at < self._last_event_at:
                at = self._last_event_at
            if want == self.occupied:
                # only the count changed: it changed now, not when the activity began
                at = max(now, self._last_event_at or now)
            self.occupied = want
            self.people = people
            self._last_event_at = at
            self._last_sent_at = max(at, self._last_sent_at) if self._last_sent_at else at
            events.append(StateEvent(at, want, people, PresenceKind.CHANGE))
