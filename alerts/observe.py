"""Readings for the evaluation, from what the API process knows: the live
board of a site (silence, agents, stuck spaces), the sensors' last battery
levels, zone coverage sampled on every tick, and the summariser's lag.

All pure: a ``SiteView`` is a snapshot taken by the engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from alerts.evaluate import Reading
from alerts.rules import Kind, Rule
from api.live import SpaceLive
from core.registry import Site


@dataclass(frozen=True)
class SiteView:
    site: Site
    spaces: Sequence[SpaceLive]
    agents: Mapping[str, bool]  # agent -> online
    agent_since: Mapping[str, datetime]  # when each agent's last status came
    batteries: Mapping[str, float] = field(default_factory=dict)  # sensor -> %
    coverage: Mapping[str, float] = field(default_factory=dict)  # zone -> % over the window
    summariser_lag_s: float | None = None  # None: no summariser in this process


def _space_context(s: SpaceLive) -> dict[str, str]:
    ctx = {"space": s.space, "zone": s.zone, "floor": s.floor}
    if s.agent:
        ctx["agent"] = s.agent
    if s.sensor:
        ctx["sensor"] = s.sensor
    return ctx


def _wanted(rule: Rule, floor: str | None, zone: str | None) -> bool:
    return (rule.floor is None or rule.floor == floor) and (rule.zone is None or rule.zone == zone)


def readings(rule: Rule, view: SiteView, *, now: datetime) -> list[Reading]:
    """What ``rule`` measures on the site of ``view`` at ``now``."""
    site = view.site
    if rule.site is not None and rule.site != site.id:
        return []
    if rule.kind is Kind.SUMMARISER_LAG:
        if view.summariser_lag_s is None or rule.floor or rule.zone:
            return []
        return [Reading(rule.id, site.id, site.id, view.summariser_lag_s)]
    if rule.kind is Kind.AGENT_OFFLINE:
        return _agents(rule, view, now)
    if rule.kind is Kind.ZONE_COVERAGE:
        return [
            Reading(
                rule.id,
                site.id,
                z.id,
                view.coverage[z.id],
                z.agency,
                {"zone": z.id, "floor": z.floor},
            )
            for z in site.zones
            if z.id in view.coverage and _wanted(rule, z.floor, z.id)
        ]
    out = []
    for s in view.spaces:
        if not _wanted(rule, s.floor, s.zone):
            continue
        value = _space_value(rule.kind, s, view, now)
        if value is not None:
            agency = site.zone(s.zone).agency
            out.append(Reading(rule.id, site.id, s.space, value, agency, _space_context(s)))
    return out


def _space_value(kind: Kind, s: SpaceLive, view: SiteView, now: datetime) -> float | None:
    if kind is Kind.SENSOR_SILENT:
        # a space that never reported has no silence to measure (not installed yet)
        return None if s.last_seen is None else max(0.0, (now - s.last_seen).total_seconds())
    if kind is Kind.BATTERY_LOW:
        return view.batteries.get(s.sensor) if s.sensor else None
    if kind is Kind.STUCK_OCCUPIED:
        if s.state == "occupied" and s.since is not None:
            return max(0.0, (now - s.since).total_seconds() / 3600)
        # unknown says nothing about being stuck; free ends it
        return 0.0 if s.state == "free" else None
    return None


def _agents(rule: Rule, view: SiteView, now: datetime) -> list[Reading]:
    floors: dict[str, set[str]] = {}
    zones: dict[str, set[str]] = {}
    for s in view.site.spaces:
        if s.sensor is not None:
            zone = view.site.zone(s.zone)
            floors.setdefault(s.sensor.agent, set()).add(zone.floor)
            zones.setdefault(s.sensor.agent, set()).add(zone.id)
    out = []
    for agent, online in sorted(view.agents.items()):
        if rule.floor is not None and rule.floor not in floors.get(agent, set()):
            continue
        if rule.zone is not None and rule.zone not in zones.get(agent, set()):
            continue
        since = view.agent_since.get(agent)
        if since is not None and since.tzinfo is None:  # a store's naive UTC time
            since = since.replace(tzinfo=UTC)
        value = 0.0 if online or since is None else max(0.0, (now - since).total_seconds())
        out.append(Reading(rule.id, view.site.id, agent, value, None, {"agent": agent}))
    return out


# ---- zone coverage ---------------------------------------------------------

Sample = tuple[datetime, float]  # (when, % of the zone's spaces with a known state)


def known_pct(spaces: Sequence[SpaceLive]) -> dict[str, float]:
    """Per zone, the share of its spaces whose state is known (not unknown), in %."""
    total: dict[str, int] = {}
    known: dict[str, int] = {}
    for s in spaces:
        total[s.zone] = total.get(s.zone, 0) + 1
        if s.state != "unknown":
            known[s.zone] = known.get(s.zone, 0) + 1
    return {z: 100.0 * known.get(z, 0) / n for z, n in total.items()}


def trim(samples: list[Sample], *, now: datetime, window: timedelta) -> list[Sample]:
    """Drop samples that no longer reach into the window (keeps the last one
    before its start: it holds until the next sample)."""
    start = now - window
    keep_from = 0
    for i, (t, _) in enumerate(samples):
        if t <= start:
            keep_from = i
    return samples[keep_from:]


def coverage_pct(samples: Sequence[Sample], *, now: datetime, window: timedelta) -> float | None:
    """Time-weighted mean of the samples over ``[now - window, now]``: each
    sample holds until the next. Before the process has a whole window, the
    mean over the time it has. None without samples."""
    start = now - window
    weighted = 0.0
    span = 0.0
    for i, (t, pct) in enumerate(samples):
        end = samples[i + 1][0] if i + 1 < len(samples) else now
        a, b = max(t, start), min(end, now)
        if b > a:
            seconds = (b - a).total_seconds()
            weighted += pct * seconds
            span += seconds
    if span == 0:
        return samples[-1][1] if samples else None
    return weighted / span
