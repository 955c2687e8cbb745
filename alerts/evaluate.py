"""The alert evaluation: a pure function from (rules, readings, state, now) to
(new state, transitions). No clock, no I/O: the engine (``alerts.engine``)
reads the live hub, calls ``evaluate`` on each tick and acts on what changed.

Per rule and subject (a space, an agent, a zone, a site) the state is a
``Track``. Not firing: a breach starts a pending period; the alert fires once
the breach has held ``for_s`` (minimum duration), and a reading that is no
longer a breach ends the pending period. Firing: the alert stays firing until
the value is back past the rule's clear level (hysteresis) for
``clear_for_s``; a value between the clear level and the threshold keeps it
firing, so a value wobbling around the threshold fires once, not on every tick.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from alerts.rules import Rule

Key = tuple[str, str, str]  # rule id, site, subject
Change = Literal["fired", "resolved"]


@dataclass(frozen=True, slots=True)
class Reading:
    """One measured value of one subject for one rule, in the rule's unit."""

    rule: str
    site: str
    subject: str
    value: float
    agency: str | None = None  # set when the subject belongs to one agency's zone
    context: Mapping[str, str] = field(default_factory=dict)  # floor, zone, agent, space

    @property
    def key(self) -> Key:
        return (self.rule, self.site, self.subject)


@dataclass(frozen=True, slots=True)
class Track:
    firing: bool
    # start of the current pending breach (not firing) or pending recovery (firing)
    since: datetime | None
    value: float


@dataclass(frozen=True, slots=True)
class Transition:
    change: Change
    rule: str
    site: str
    subject: str
    at: datetime
    value: float
    agency: str | None = None
    context: Mapping[str, str] = field(default_factory=dict)


def step(rule: Rule, track: Track | None, value: float, now: datetime) -> tuple[Track | None, bool]:
    """The next track of one subject, and whether it changed firing state."""
    if track is None or not track.firing:
        if not rule.breached(value):
            return None, False
        start = track.since if track is not None and track.since is not None else now
        if (now - start).total_seconds() >= rule.for_s:
            return Track(True, None, value), True
        return Track(False, start, value), False
    if not rule.recovered(value):
        return Track(True, None, value), False
    start = track.since if track.since is not None else now
    if (now - start).total_seconds() >= rule.clear_for_s:
        return None, True
    return Track(True, start, value), False


def evaluate(
    *,
    rules: Mapping[str, Rule],
    readings: Iterable[Reading],
    state: Mapping[Key, Track],
    now: datetime,
) -> tuple[dict[Key, Track], list[Transition]]:
    """One tick. A subject without a reading this tick keeps its track (no
    news is not recovery); a firing alert whose rule is gone or disabled
    resolves."""
    new: dict[Key, Track] = {}
    out: list[Transition] = []
    seen: set[Key] = set()
    for r in readings:
        rule = rules.get(r.rule)
        if rule is None or not rule.enabled:
            continue
        seen.add(r.key)
        track, changed = step(rule, state.get(r.key), r.value, now)
        if track is not None:
            new[r.key] = track
        if changed:
            change: Change = "fired" if track is not None else "resolved"
            out.append(
                Transition(change, r.rule, r.site, r.subject, now, r.value, r.agency, r.context)
            )
    for key, track in state.items():
        if key in seen:
            continue
        rule = rules.get(key[0])
        if rule is not None and rule.enabled:
            new[key] = track
        elif track.firing:
            out.append(Transition("resolved", key[0], key[1], key[2], now, track.value))
    return new, out
