"""Reading the store into the inputs of the metric functions (the raw path).

The one place where presence and agent status are fetched for a period, so
that reports, rollups and charges all start from the same intervals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from core.registry import Site
from metrics.intervals import PRESENCE_FIELDS, clip_to_opening, state_intervals
from storage import AGENT_STATUS, PRESENCE, Store


@dataclass(frozen=True, slots=True)
class RawInputs:
    """What the state intervals of [start, end) are computed from: the presence
    and agent-status points of the window with each space's and agent's last
    point before ``start`` (``status`` is None when there is none)."""

    presence: pd.DataFrame
    status: pd.DataFrame | None


def read_inputs(*, store: Store, site: Site, start: datetime, end: datetime) -> RawInputs:
    """The raw points the state intervals of [start, end) need."""
    where = {"site": site.id}
    presence = pd.concat(
        [
            store.last(PRESENCE, by="space", before=start, where=where),
            # only what the state intervals use: the strings (sensor, agent, kind)
            # of millions of points would be most of the read
            store.read(PRESENCE, start=start, end=end, where=where, fields=PRESENCE_FIELDS),
        ],
        ignore_index=True,
    )
    status = pd.concat(
        [
            store.last(AGENT_STATUS, by="agent", before=start, where=where),
            store.read(AGENT_STATUS, start=start, end=end, where=where),
        ],
        ignore_index=True,
    )
    if "online" not in status.columns:
        status = status.iloc[:0]
    if presence.empty:
        # No data at all: every space is unknown all month (coverage 0).
        presence = pd.DataFrame(
            {
                "time": pd.Series([], dtype="datetime64[ns, UTC]"),
                "space": pd.Series([], dtype=object),
                "occupied": pd.Series([], dtype=float),
            }
        )
    return RawInputs(presence, status if len(status) else None)


def read_intervals(
    *,
    store: Store,
    site: Site,
    start: datetime,
    end: datetime,
    silence_factor: float = 2.5,
    merge_gap_s: float = 0,
) -> pd.DataFrame:
    """State intervals of every space of ``site`` over [start, end) from the store."""
    raw = read_inputs(store=store, site=site, start=start, end=end)
    return state_intervals(
        presence=raw.presence,
        status=raw.status,
        site=site,
        start=start,
        end=end,
        silence_factor=silence_factor,
        merge_gap_s=merge_gap_s,
    )


def read_opening_intervals(
    *,
    store: Store,
    site: Site,
    start: datetime,
    end: datetime,
    silence_factor: float = 2.5,
    merge_gap_s: float = 0,
) -> pd.DataFrame:
    """``read_intervals`` clipped to opening hours (holidays and closures out)."""
    intervals = read_intervals(
        store=store,
        site=site,
        start=start,
        end=end,
        silence_factor=silence_factor,
        merge_gap_s=merge_gap_s,
    )
    return clip_to_opening(intervals=intervals, site=site, start=start, end=end)
