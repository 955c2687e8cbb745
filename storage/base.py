"""The store interface: what ingest, api and the simulator's backfill may ask of
the time-series database. Only ``storage`` talks to a database.

Points are identified by (measurement, tag set, time): writing a point with the
same identity again overwrites it, so redelivered messages and re-run rollups
are harmless. Both implementations (InfluxDB over its HTTP API, SQLite) must
pass the same contract tests (``tests/storage/test_contract.py``).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from storage.columns import FieldColumn, TagColumn

FieldValue = float | int | bool | str


@dataclass(frozen=True, slots=True)
class Point:
    measurement: str
    tags: Mapping[str, str]
    fields: Mapping[str, FieldValue]
    time_ns: int = field(default=0)


# Measurements (DESIGN.md, "Storage"). Tag keys are bounded: no per-event ids.
# presence: tags site floor zone space space_type;
#           fields occupied(0/1) count seq sensor agent kind hb (heartbeat interval s)
PRESENCE = "presence"
AGENT_STATUS = "agent_status"  # tags: site agent; fields: online (0/1)
# entrance_counts: one people-counter interval (time = end of the interval, UTC);
#   tags site entrance zone (the zone it serves); fields in_count out_count seq
#   (integers), interval_s hb (floats), sensor agent (strings), total_in total_out
#   (integers, only when the counter keeps running totals), reset (0/1: the
#   running totals went backwards, so the counter restarted; ingest.counts)
ENTRANCE_COUNTS = "entrance_counts"
SENSOR_HEALTH = (
    "sensor_health"  # tags: site agent sensor space; fields: battery_pct ok last_seen_ns
)
AGENT_HEALTH = (
    "agent_health"  # tags: site agent; fields: uptime_s outbox_depth outbox_dropped
    # outbox_unconfirmed outbox_dropped_unconfirmed version
)
# Derived measurements written back by the api so Grafana needs no logic.
# utilisation: per space per 15-minute bucket (time = bucket start, UTC);
#   tags site floor zone space space_type; fields occupied_s opening_s observed_s (floats)
UTILISATION = "utilisation"
# charges: per agency per month and line (time = local month start, in UTC);
#   tags site agency month ("2026-11") line (space type, or "base" for the headcount share);
#   fields amount_eur hours weighted_hours coverage (floats) estimated (0/1) tariff_version
CHARGES = "charges"
# heatmap (metrics.rollups.HEATMAP): the utilisation rows summed per zone, space type
#   and local hour (time = local hour start, UTC); tags site floor zone space_type
#   weekday ("1 Mon".."7 Sun") hour ("00".."23", local); fields occupied_s opening_s
#   observed_s (floats). InfluxQL cannot group by weekday; these tags let it.
# peaks (metrics.rollups.PEAKS): exact daily peak concurrent occupancy (time = local
#   day start, UTC); tags site floor (a floor id, or "_site" for the whole site);
#   fields peak spaces (floats). Peaks do not add up over spaces, so they are stored.
# efficiency: per agency (and agency "_site" for the whole site) per month;
#   tags site agency month; fields m2_per_htv target_m2_per_htv use_rate desk_sharing_ratio
#   peak_desks p90_peak_desks headcount_htv utilisation coverage (floats)
EFFICIENCY = "efficiency"
#: the float fields of ``efficiency`` (written by the api, read by the dashboards)
EFFICIENCY_FIELDS = (
    "m2_per_htv",
    "target_m2_per_htv",
    "use_rate",
    "desk_sharing_ratio",
    "peak_desks",
    "p90_peak_desks",
    "headcount_htv",
    "utilisation",
    "coverage",
)
DEAD_LETTERS = "dead_letters"  # tags: reason replica; fields: topic payload error
#: the raw measurements: what summaries are computed from, and what the store
#: setting ``raw_retention_days`` drops (docs/storage.md, "Raw retention")
RAW_MEASUREMENTS = (PRESENCE, AGENT_STATUS, ENTRANCE_COUNTS)
#: the InfluxDB 1.x retention policy the raw measurements live in under raw retention
RAW_RETENTION_POLICY = "occupancy_raw"


class StoreError(Exception):
    """The store refused a request (bad query, bad data). Retrying will not help."""


class StoreUnavailable(StoreError):
    """The store cannot be reached right now. Retrying later may help."""


class StoreMissing(StoreError):
    """A reader was pointed at a store that does not exist (readers never create one)."""


@dataclass(frozen=True, slots=True)
class RejectedPoint:
    """A point the store refused, and why (the store's own words). ``row`` is its
    row in the columns of a ``write_columns`` (None for ``write``)."""

    point: Point
    reason: str
    row: int | None = None


class PartialWriteError(StoreError):
    """Some points of a ``write`` were refused; every other point of it is durable.

    InfluxDB cannot refuse a request all-or-none: it stores the good points of a
    request and drops the bad ones (a field whose type changed, a reserved key,
    a point line protocol cannot carry). Both stores therefore report such a
    write precisely: ``rejected`` names each refused point with its reason, so
    the caller can dead-letter exactly those and count the rest as written.
    """

    def __init__(self, rejected: Sequence[RejectedPoint], written: int) -> None:
        self.rejected = list(rejected)
        self.written = written
        reasons = sorted({r.reason for r in self.rejected})
        shown = "; ".join(reasons[:3]) + ("; ..." if len(reasons) > 3 else "")
        super().__init__(f"{len(self.rejected)} point(s) rejected, {written} written: {shown}")


TagFilter = Mapping[str, str | Sequence[str]]


class Store(abc.ABC):
    """Time-series store. Times are UTC; DataFrames carry a ``time`` column of
    dtype ``datetime64[ns, UTC]``, one column per tag and per field, sorted by time.
    A field never written for a row is NaN/None."""

    @abc.abstractmethod
    def ping(self) -> None:
        """Raise ``StoreUnavailable`` unless the store answers."""

    @abc.abstractmethod
    def write(self, points: Sequence[Point]) -> None:
        """Write points durably (all or none). Raises ``StoreUnavailable`` or ``StoreError``."""

    def write_columns(
        self,
        measurement: str,
        *,
        time_ns: Sequence[int] | np.ndarray,
        tags: Mapping[str, TagColumn],
        fields: Mapping[str, FieldColumn],
    ) -> None:
        """Write many points of one measurement given as columns, one row per point
        (``storage.columns`` says how a row becomes a point). The effect is that of
        ``write(storage.columns.column_points(...))``: the same identity and field
        merge, the same rows refused (``PartialWriteError``, each ``RejectedPoint``
        with its ``row``). Columns of unequal length raise ``ValueError``.

        This default builds the points; the stores override it with a path that
        builds none, which is what a bulk load (the simulator's backfill) uses."""
        from storage.columns import column_points

        points = column_points(measurement, time_ns=time_ns, tags=tags, fields=fields)
        try:
            self.write(points)
        except PartialWriteError as exc:
            row_of = {id(p): i for i, p in enumerate(points)}
            rejected = [
                RejectedPoint(r.point, r.reason, row_of.get(id(r.point))) for r in exc.rejected
            ]
            raise PartialWriteError(rejected, exc.written) from None

    @abc.abstractmethod
    def read(
        self,
        measurement: str,
        *,
        start: datetime,
        end: datetime,
        where: TagFilter | None = None,
        fields: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Points with start <= time < end matching every tag filter (a value or any of a list)."""

    @abc.abstractmethod
    def last(
        self,
        measurement: str,
        *,
        by: str,
        before: datetime | None = None,
        where: TagFilter | None = None,
    ) -> pd.DataFrame:
        """For every distinct value of tag ``by``, the latest point with time < before
        (or the latest of all), as rows of the same shape as ``read``."""

    @abc.abstractmethod
    def count(self, measurement: str, *, where: TagFilter | None = None) -> int:
        """Number of distinct points (by identity) in a measurement."""

    @property
    def expires_raw(self) -> bool:
        """Whether the database itself expires raw points (an InfluxDB retention
        policy); then ``delete_points`` is not how raw retention is applied."""
        return False

    def delete_points(
        self,
        measurement: str,
        *,
        start: datetime,
        end: datetime,
        where: TagFilter | None = None,
        batch_rows: int = 20_000,
    ) -> int:
        """Delete the points of [start, end) matching ``where``, except each
        series' latest point in that span (the state carried into the next
        point, which the state intervals after ``end`` start from). Works in
        transactions of at most ``batch_rows`` points, so writers interleave;
        returns how many stored rows it removed (a SQLite column block may
        hold a point twice)."""
        raise StoreError(f"{type(self).__name__} cannot delete points")

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
