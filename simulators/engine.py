"""The simulation run: days planned one at a time, emissions cut into windows.

Both modes drive the same ``Engine``: the backfill asks for one window per
day, the live mode for a few seconds at a time. Sequence numbers are carried
from window to window and every random draw belongs to a day or to a row, so
the output does not depend on how the run is cut.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from simulators.layout import MS, Layout
from simulators.people import Series, recurring_series
from simulators.sensors import (
    DayPlan,
    Emissions,
    FaultInstance,
    SeqCounter,
    emissions,
    explicit_faults,
    plan_day,
)


class Engine:
    def __init__(self, layout: Layout, start_ms: int):
        self.layout = layout
        self.start_ms = start_ms
        self.series: list[Series] = recurring_series(layout)
        self.explicit: list[FaultInstance] = explicit_faults(layout)
        self.seq = SeqCounter.start(len(layout.agent_ids))
        self._plan: DayPlan | None = None
        self.cursor = start_ms
        self.booted = False

    def plan_at(self, t_ms: int) -> DayPlan:
        """The plan of the local day holding ``t_ms`` (kept while the run stays in it)."""
        p = self._plan
        if p is not None and p.lo <= t_ms < p.hi:
            return p
        day = datetime.fromtimestamp(t_ms / MS, self.layout.site.tz).date()
        p = plan_day(self.layout, day, self.explicit, self.series)
        if not p.lo <= t_ms < p.hi:  # a DST edge: the next or previous date holds it
            day = day + timedelta(days=1 if t_ms >= p.hi else -1)
            p = plan_day(self.layout, day, self.explicit, self.series)
        self._plan = p
        return p

    def advance(self, until_ms: int) -> Iterator[tuple[DayPlan, Emissions]]:
        """Emissions from the cursor up to ``until_ms``, one batch per day touched."""
        for plan, batch, _, _ in self.windows(until_ms):
            yield plan, batch

    def windows(self, until_ms: int) -> Iterator[tuple[DayPlan, Emissions, int, int]]:
        """As ``advance``, with each batch's window [t0, t1) (for the door
        counter's reports, simulators.visits)."""
        while self.cursor < until_ms:
            plan = self.plan_at(self.cursor)
            t0, t1 = self.cursor, min(until_ms, plan.hi)
            boot = None if self.booted else self.start_ms
            batch = emissions(self.layout, plan, t0, t1, self.seq, boot_at=boot)
            self.booted = True
            self.cursor = t1
            yield plan, batch, t0, t1

    def days(self, end_ms: int) -> Iterator[DayPlan]:
        """Plans from the start up to ``end_ms`` without emissions (truth only)."""
        t = self.start_ms
        while t < end_ms:
            plan = self.plan_at(t)
            yield plan
            t = plan.hi
