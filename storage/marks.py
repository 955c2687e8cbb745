"""Dirty marks: every write of raw points marks the (site, local day) it touches,
so that the summariser recomputes that day (docs/storage.md, "Daily summaries").

A mark is one point per site and local day in ``summary_marks`` whose field
``token`` is a fresh random number at every write. The summariser reads a
day's token before it reads the day's raw points and records it in the day's
commit; the day is dirty while the token differs. No clocks are compared, so
ingest replicas on several machines may mark the same day at once: whichever
token lands last, it differs from the one the summariser saw.

A mark is written only after the raw points are durable, and a failed mark
fails the write, so the caller retries both (the ingest's spool does): a
summariser that saw the mark has seen the points.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from core.calendar import wall_time_utc
from core.timeutil import to_ns
from storage.base import RAW_MEASUREMENTS, Point, Store, TagFilter

if TYPE_CHECKING:
    from storage.columns import FieldColumn, TagColumn

MARKS = "summary_marks"
#: the raw measurements whose points summaries are computed from
MARKED = frozenset(RAW_MEASUREMENTS)


def mark_points(days: Mapping[str, set[int]]) -> list[Point]:
    """One mark per (site, local midnight in UTC ns), each with a fresh token."""
    return [
        Point(MARKS, {"site": site}, {"token": secrets.randbits(62)}, day_ns)
        for site, starts in sorted(days.items())
        for day_ns in sorted(starts)
    ]


def touched_days(site_tz: Mapping[str, tzinfo], site: str, times_ns: Any) -> set[int]:
    """UTC ns of the local midnights of the days that ``times_ns`` fall on."""
    tz = site_tz.get(site)
    if tz is None:
        return set()
    local = pd.DatetimeIndex(pd.to_datetime(pd.Series(times_ns, dtype="int64"), utc=True))
    # the dates, then their midnights as core.calendar has them: an aware
    # normalize() raises where a zone skips or repeats midnight (Havana, Santiago)
    days = local.tz_convert(tz).tz_localize(None).normalize().unique()
    return {to_ns(wall_time_utc(tz, d.to_pydatetime())) for d in days}


class MarkingStore(Store):
    """A store that marks the days of the raw points written through it.

    ``site_tz`` names each site's time zone (the registry's); points of other
    sites are written but not marked."""

    def __init__(self, inner: Store, site_tz: Mapping[str, tzinfo]) -> None:
        self.inner = inner
        self.site_tz = dict(site_tz)

    def ping(self) -> None:
        self.inner.ping()

    def write(self, points: Sequence[Point]) -> None:
        self.inner.write(points)
        by_site: dict[str, list[int]] = {}
        for p in points:
            if p.measurement in MARKED and "site" in p.tags:
                by_site.setdefault(p.tags["site"], []).append(p.time_ns)
        self._mark({s: touched_days(self.site_tz, s, t) for s, t in by_site.items()})

    def write_columns(
        self,
        measurement: str,
        *,
        time_ns: Sequence[int] | np.ndarray,
        tags: Mapping[str, TagColumn],
        fields: Mapping[str, FieldColumn],
    ) -> None:
        self.inner.write_columns(measurement, time_ns=time_ns, tags=tags, fields=fields)
        if measurement not in MARKED or "site" not in tags:
            return
        site_col = tags["site"]
        if isinstance(site_col, str):
            self._mark({site_col: touched_days(self.site_tz, site_col, time_ns)})
            return
        sites = pd.Series(np.asarray(site_col, dtype=object))
        times = pd.Series(time_ns, dtype="int64")
        self._mark(
            {
                str(site): touched_days(self.site_tz, str(site), times[(sites == site).to_numpy()])
                for site in sites.dropna().unique()
            }
        )

    def _mark(self, days: Mapping[str, set[int]]) -> None:
        points = mark_points({s: d for s, d in days.items() if d})
        if points:
            self.inner.write(points)

    def read(
        self,
        measurement: str,
        *,
        start: datetime,
        end: datetime,
        where: TagFilter | None = None,
        fields: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        return self.inner.read(measurement, start=start, end=end, where=where, fields=fields)

    def last(
        self,
        measurement: str,
        *,
        by: str,
        before: datetime | None = None,
        where: TagFilter | None = None,
    ) -> pd.DataFrame:
        return self.inner.last(measurement, by=by, before=before, where=where)

    def count(self, measurement: str, *, where: TagFilter | None = None) -> int:
        return self.inner.count(measurement, where=where)

    @property
    def expires_raw(self) -> bool:
        return self.inner.expires_raw

    def delete_points(
        self,
        measurement: str,
        *,
        start: datetime,
        end: datetime,
        where: TagFilter | None = None,
        batch_rows: int = 20_000,
    ) -> int:
        # a deletion is no new data: nothing to mark
        return self.inner.delete_points(
            measurement, start=start, end=end, where=where, batch_rows=batch_rows
        )

    def close(self) -> None:
        self.inner.close()
