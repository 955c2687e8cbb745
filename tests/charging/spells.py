"""Build state-interval DataFrames for tests: listed spells, gaps filled with 'free'."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd

HEL = ZoneInfo("Europe/Helsinki")


def local(day: str, hhmm: str) -> datetime:
    """A Helsinki wall-clock time, e.g. local("2026-11-02", "08:00")."""
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=HEL)


def spells(
    *,
    spaces: Iterable[str],
    start: datetime,
    end: datetime,
    marked: Iterable[tuple[str, datetime, datetime, str]],
) -> pd.DataFrame:
    """Intervals covering [start, end) for every space: the ``marked`` spells
    (space, start, end, state) and 'free' in between."""
    by_space: dict[str, list[tuple[datetime, datetime, str]]] = {s: [] for s in spaces}
    for space, s, e, state in marked:
        by_space[space].append((s, e, state))
    rows = []
    for space, items in by_space.items():
        cursor = start
        for s, e, state in sorted(items):
            assert s >= cursor, f"marked spells of {space} overlap"
            if s > cursor:
                rows.append((space, cursor, s, "free"))
            rows.append((space, s, e, state))
            cursor = e
        if cursor < end:
            rows.append((space, cursor, end, "free"))
    df = pd.DataFrame(rows, columns=["space", "start", "end", "state"])
    df["start"] = pd.to_datetime(df["start"], utc=True).dt.as_unit("ns")
    df["end"] = pd.to_datetime(df["end"], utc=True).dt.as_unit("ns")
    return df
