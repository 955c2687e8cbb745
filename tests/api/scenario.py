"""A hand-worked day at the small site (tests/api/data/small.yaml).

Monday 2 November 2026, open 08:00-16:00 local (EET, UTC+2): 8 h = 28,800 s.
Every sensor sends a heartbeat on the hour from 07:00 to 16:00 (interval
3,600 s, so silence counts as unknown after 2.5 h), plus these changes:

    a1 occupied 09:00-11:00      2 h  -> utilisation 2/8     = 0.25
    a2 occupied 07:30-16:30      8 h  (inside opening hours) -> 1.0
    b1 occupied 10:00-12:30    2.5 h  -> 2.5/8   = 0.3125
    s1 occupied 12:00-13:00      1 h  -> 1/8     = 0.125
    r1 occupied 13:00-15:00, 3 people (capacity 6) -> 0.25, intensity 0.5
    a5 falls silent after its 12:00 heartbeat: unknown from 14:30 (12:00 +
       2.5 h) to 16:00 -> 1.5 h unknown, observed 6.5 h, coverage 6.5/8
    everything else free all day.

Zone za (a1..a5): occupied 2 + 8 = 10 h; observed 5 x 8 - 1.5 = 38.5 h.
Peak concurrent, whole site: 10:00-11:00 a1, a2, b1 -> 3 (also 12:00-12:30
a2, b1, s1 -> 3); the sum of per-space peaks would be 5.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from core.messages import Presence
from core.registry import Site
from storage import Point
from storage.points import presence_point

HEL = ZoneInfo("Europe/Helsinki")
DAY = datetime(2026, 11, 2, tzinfo=HEL)


def local(h: float) -> datetime:
    return (DAY + timedelta(hours=h)).astimezone(UTC)


SPELLS = {
    "a1": [(9, 11, None)],
    "a2": [(7.5, 16.5, None)],
    "b1": [(10, 12.5, None)],
    "s1": [(12, 13, None)],
    "r1": [(13, 15, 3)],
}
SILENT_AFTER = {"a5": 12}


def _state(space: str, h: float) -> tuple[bool, int | None]:
    for a, b, count in SPELLS.get(space, []):
        if a <= h < b:
            return True, count
    return False, (0 if space == "r1" else None)


def points(site: Site) -> list[Point]:
    out: list[Point] = []
    seq = 0

    def add(space: str, h: float, kind: str) -> None:
        nonlocal seq
        seq += 1
        occupied, count = _state(space, h)
        msg = Presence(
            space_id=space,
            agent_id="ag",
            sensor_id=f"s-{space}",
            occupied=occupied,
            people_count=count,
            event_time=local(h),
            seq=seq,
            kind=kind,  # type: ignore[arg-type]
            heartbeat_interval_s=3600,
        )
        out.append(presence_point(site, msg))

    for space in (s.id for s in site.spaces):
        last = SILENT_AFTER.get(space, 16)
        for h in range(7, 17):
            if h <= last:
                add(space, h, "heartbeat")
        for a, b, _ in SPELLS.get(space, []):
            add(space, a, "change")
            add(space, b, "change")
    return out
