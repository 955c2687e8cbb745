"""The worked day of docs/metrics.md ("The worked example"), shared by the tests.

Monday 2 March 2026, Europe/Helsinki (UTC+2), open 08:00-16:00 (28,800 s).
Zone za is dedicated to agency a and holds desks d1 and d2 (agent-1); zone zs
is shared and holds desk d3 (agent-2). Every message says its sensor's
heartbeat interval is 3,600 s, so a sensor is unknown 2.5 h = 9,000 s after its
last message.
"""

from __future__ import annotations

import pandas as pd

from core.registry import Site
from tests.metrics.conftest import local, make_site, presence, status

OFFICE_HOURS = {d: ["08:00-16:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
DAY_START = local("2026-03-02 00:00")
DAY_END = local("2026-03-03 00:00")


def site() -> Site:
    return make_site(
        spaces=[
            {"id": "d1", "zone": "za", "agent": "agent-1"},
            {"id": "d2", "zone": "za", "agent": "agent-1"},
            {"id": "d3", "zone": "zs", "agent": "agent-2"},
        ],
        zones=[
            {"id": "za", "name": "A", "floor": "f1", "agency": "a"},
            {"id": "zs", "name": "Shared", "floor": "f1"},
        ],
        opening=OFFICE_HOURS,
        heartbeat_s=300,
    )


def presence_frame(s: Site) -> pd.DataFrame:
    m = "2026-03-02 "
    return presence(
        s,
        [
            # d1: a normal day, with a 3-minute free gap at 12:10.
            (local(m + "07:30"), "d1", 0),
            (local(m + "09:00"), "d1", 1),
            (local(m + "11:00"), "d1", 0),
            (local(m + "12:00"), "d1", 1),
            (local(m + "12:10"), "d1", 0),
            (local(m + "12:13"), "d1", 1),
            (local(m + "14:00"), "d1", 1),  # heartbeat
            (local(m + "15:00"), "d1", 0),
            (local(m + "17:00"), "d1", 0),  # heartbeat
            # d2: occupied at 08:00, then the sensor falls silent until 13:30.
            (local(m + "08:00"), "d2", 1),
            (local(m + "13:30"), "d2", 0),
            (local(m + "15:30"), "d2", 0),  # heartbeat
            # d3: its agent is offline 11:00-11:30.
            (local(m + "07:45"), "d3", 0),
            (local(m + "10:00"), "d3", 1),
            (local(m + "12:20"), "d3", 0),
            (local(m + "14:20"), "d3", 0),  # heartbeat
        ],
        hb=3600,
    )


def status_frame(s: Site) -> pd.DataFrame:
    return status(
        s,
        [
            (local("2026-03-02 06:00"), "agent-1", 1),
            (local("2026-03-02 06:00"), "agent-2", 1),
            (local("2026-03-02 11:00"), "agent-2", 0),
            (local("2026-03-02 11:30"), "agent-2", 1),
        ],
    )
