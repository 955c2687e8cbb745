"""The hand-worked service day of docs/metrics.md ("Service points"), Monday
2 November 2026 at the site of tests/api/data/palvelu.yaml (open 09-16,
Europe/Helsinki, UTC+2 that day).

Entrance ``ovi`` (zone ``asiakas``) reports hourly intervals; each row is
(local start hour, in, out) and ends an hour later:

    interval  in  out   running S  in building  (clamped: S - min(0, min S))
    08-09      0    1      -1          0        somebody left who came in before
    09-10      5    1       3          4
    10-11      8    4       7          8
    11-12     12    9      10         11        <- peak hour: 12 visits
    12-13      6   10       6          7
    13-14      9    8       7          8
    14-15      4    6       5          6
    15-16      3    7       1          2        <- ends at closing: drift 2
    ---- reset at closing 16:00 ----
    16-17      0    1      -1          0

Visits 47, exits 47 (no out > in flag). Drift at closing: 2; unmatched out
(what the clamp removed) before closing: 1. Candidate hours 10-14: inside
8 + 12 + 6 + 9 = 35 of 47. One open day of 47 visits: the busy day (p90 of
one value) is 47: class M by the site's thresholds (L 100, M 40, S 10); S by
the defaults (L 200, M 80, S 20).

Entrance ``takaovi`` (zone ``za``, dedicated to agency aa) has one interval
09-16 with 3 in and 3 out.

Counters p1, p2 (heartbeat 3600 s, silence after 9000 s):
p1 free 09:00, occupied 10:00, free 12:00, free 14:00 -> occupied 2 h;
p2 free 09:00, occupied 09:30, free 10:30, free 12:00, free 14:00 -> 1 h.
Both observed all 7 h: utilisation 3 h / 14 h = 3/14.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from core.messages import EntranceCounts, Presence
from core.registry import Site, load_site
from storage import Point
from storage.points import counts_point, presence_point

SITE_FILE = Path(__file__).parents[1] / "api" / "data" / "palvelu.yaml"
TZ = ZoneInfo("Europe/Helsinki")
DAY = "2026-11-02"

OVI = [(8, 0, 1), (9, 5, 1), (10, 8, 4), (11, 12, 9), (12, 6, 10), (13, 9, 8), (14, 4, 6),
       (15, 3, 7), (16, 0, 1)]  # fmt: skip
IN_BUILDING = [0, 4, 8, 11, 7, 8, 6, 2, 0]
VISITS = 47
PEAK_HOUR, PEAK_VISITS = 11, 12
DRIFT, UNMATCHED_OUT = 2, 1
INSIDE_10_14 = 35
COUNTER_UTILISATION = 3 / 14


def site() -> Site:
    return load_site(SITE_FILE)


def local(hour: float, day: str = DAY) -> datetime:
    base = datetime.fromisoformat(day).replace(tzinfo=TZ)
    return base + timedelta(hours=hour)


def count_msg(
    entrance: str, start_hour: float, n_in: int, n_out: int, *, hours: float = 1, seq: int = 0,
    day: str = DAY, sensor: str = "c-ovi",
) -> EntranceCounts:  # fmt: skip
    return EntranceCounts(
        entrance_id=entrance,
        agent_id="ag",
        sensor_id=sensor,
        in_count=n_in,
        out_count=n_out,
        interval_s=hours * 3600,
        event_time=local(start_hour + hours, day),
        seq=seq,
    )


def counts_points(s: Site) -> list[Point]:
    points = [counts_point(s, count_msg("ovi", h, i, o, seq=k)) for k, (h, i, o) in enumerate(OVI)]
    points.append(counts_point(s, count_msg("takaovi", 9, 3, 3, hours=7, sensor="c-taka")))
    return points


def presence_points(s: Site) -> list[Point]:
    events = [("p1", 9, False), ("p1", 10, True), ("p1", 12, False), ("p1", 14, False),
              ("p2", 9, False), ("p2", 9.5, True), ("p2", 10.5, False), ("p2", 12, False),
              ("p2", 14, False), ("a1", 9, False), ("a1", 14, False)]  # fmt: skip
    return [
        presence_point(
            s,
            Presence(
                space_id=sp,
                agent_id="ag",
                sensor_id=f"s-{sp}",
                occupied=occ,
                event_time=local(h),
                seq=k,
                kind="change",
            ),
        )
        for k, (sp, h, occ) in enumerate(events)
    ]
