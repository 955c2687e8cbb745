"""Rows written back to the store so that Grafana needs no logic.

``utilisation``: per space and UTC quarter hour, the exact opening, observed
and occupied seconds. ``heatmap``: the same seconds per zone, space type and
local hour, tagged with the local weekday and hour, because InfluxQL cannot
group by weekday. ``peaks``: the exact daily peak concurrent occupancy of the
site and of each floor, because peaks do not add up over spaces. ``efficiency``:
per agency (and ``_site``) and month, the efficiency report. A point's identity
is (measurement, tags, time), so writing the rows of a period again overwrites
them: re-running a rollup is idempotent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.calendar import local_day_bounds, month_bounds
from core.registry import Site
from metrics.intervals import (
    CLIPPED_COLUMNS,
    OCCUPIED,
    UNKNOWN,
    column_ns,
    ns_to_utc,
    require_columns,
    space_codes,
    split_at,
    to_ns,
)
from storage.base import EFFICIENCY, EFFICIENCY_FIELDS, UTILISATION, FieldValue, Point

# Derived measurements of this module (documented in storage/base.py).
HEATMAP = "heatmap"
PEAKS = "peaks"

BUCKET_S = 15 * 60
_BUCKET_NS = BUCKET_S * 1_000_000_000
_MINUTE_NS = 60 * 1_000_000_000
#: ``weekday`` tag values: ISO number first, so Grafana sorts them Monday first.
WEEKDAYS = ("1 Mon", "2 Tue", "3 Wed", "4 Thu", "5 Fri", "6 Sat", "7 Sun")
HEATMAP_COLUMNS = (
    "zone",
    "space_type",
    "time",
    "weekday",
    "hour",
    "opening_s",
    "observed_s",
    "occupied_s",
)
#: the groupings whose exact daily peaks are written (``peaks`` measurement)
PEAK_LEVELS = ("site", "floor")
#: the ``floor`` tag of the whole site's row in ``peaks``
SITE_ROW = "_site"
ROLLUP_COLUMNS = ("space", "time", "opening_s", "observed_s", "occupied_s")


def utilisation_rollup(*, intervals: pd.DataFrame) -> pd.DataFrame:
    """Per space and 15-minute bucket (``time`` = bucket start, UTC, aligned to
    the quarter hours of UTC, which are the local quarter hours of every time
    zone in use): opening_s, observed_s, occupied_s (float seconds).

    ``intervals``: output of ``clip_to_opening``; only buckets with opening time
    get a row. Roll up whole buckets: a period that starts or ends inside a
    bucket gives a partial row that a later run over the whole bucket replaces.
    """
    require_columns(intervals, CLIPPED_COLUMNS, what="clipped intervals (clip_to_opening)")
    if intervals.empty:
        return pd.DataFrame(
            {
                "space": pd.Series(dtype=object),
                "time": pd.Series(dtype="datetime64[ns, UTC]"),
                **{c: pd.Series(dtype=float) for c in ROLLUP_COLUMNS[2:]},
            }
        )
    s = column_ns(intervals, "start", what="intervals")
    e = column_ns(intervals, "end", what="intervals")
    lo = int(s.min()) - int(s.min()) % _BUCKET_NS
    edges = np.arange(lo, int(e.max()) + _BUCKET_NS, _BUCKET_NS, dtype=np.int64)
    src, ps, pe = split_at(s, e, edges)
    state = intervals["state"].to_numpy(dtype=object)[src]
    ns = pe - ps
    frame = pd.DataFrame(
        {
            "space": intervals["space"].to_numpy(dtype=object)[src],
            "time": ps - ps % _BUCKET_NS,
            "opening_ns": ns,
            "unknown_ns": np.where(state == UNKNOWN, ns, 0),
            "occupied_ns": np.where(state == OCCUPIED, ns, 0),
        }
    )
    # Sum integer nanoseconds, then convert once: the seconds are exact.
    g = frame.groupby(["space", "time"], sort=True)[["opening_ns", "unknown_ns", "occupied_ns"]]
    out = g.sum().reset_index()
    return pd.DataFrame(
        {
            "space": out["space"].to_numpy(dtype=object),
            "time": ns_to_utc(out["time"].to_numpy()),
            "opening_s": out["opening_ns"].to_numpy() / 1e9,
            "observed_s": (out["opening_ns"] - out["unknown_ns"]).to_numpy() / 1e9,
            "occupied_s": out["occupied_ns"].to_numpy() / 1e9,
        }
    )


def utilisation_points(*, rollup: pd.DataFrame, site: Site) -> list[Point]:
    """Storage points of a rollup (measurement ``utilisation``, tags from
    ``site.space_tags``). Rows of spaces not in the site raise ``KeyError``."""
    require_columns(rollup, ROLLUP_COLUMNS, what="utilisation rollup")
    times = column_ns(rollup, "time", what="utilisation rollup")
    tags = {sp.id: site.space_tags(sp.id) for sp in site.spaces}
    unknown = sorted(set(rollup["space"].astype(object)) - set(tags))
    if unknown:
        raise KeyError(f"spaces not in site {site.id!r}: {', '.join(map(str, unknown[:5]))}")
    opening = rollup["opening_s"].to_numpy(dtype=float)
    observed = rollup["observed_s"].to_numpy(dtype=float)
    occupied = rollup["occupied_s"].to_numpy(dtype=float)
    spaces = rollup["space"].to_numpy(dtype=object)
    return [
        Point(
            UTILISATION,
            tags[spaces[i]],
            {
                "occupied_s": float(occupied[i]),
                "opening_s": float(opening[i]),
                "observed_s": float(observed[i]),
            },
            int(times[i]),
        )
        for i in range(len(rollup))
    ]


def heatmap_rollup(*, rollup: pd.DataFrame, site: Site) -> pd.DataFrame:
    """The 15-minute rollup summed per zone, space type and local hour.

    Columns ``HEATMAP_COLUMNS``: ``time`` is the start of the local hour (UTC),
    ``weekday`` one of ``WEEKDAYS`` and ``hour`` "00"-"23" (local wall clock).
    A UTC quarter hour lies inside one local hour in every time zone in use,
    so the sums are exact; on the autumn DST day the repeated local hour gives
    two rows with the same ``hour`` tag, which both count in it, as in
    ``utilisation.heatmap``. Summing the rows of a weekday and hour over a
    period gives that cell of ``utilisation.heatmap`` for the same spaces."""
    require_columns(rollup, ROLLUP_COLUMNS, what="utilisation rollup")
    zone_of = {sp.id: sp.zone for sp in site.spaces}
    type_of = {sp.id: sp.type.value for sp in site.spaces}
    unknown = sorted(set(rollup["space"].astype(object)) - set(zone_of))
    if unknown:
        raise KeyError(f"spaces not in site {site.id!r}: {', '.join(map(str, unknown[:5]))}")
    t = column_ns(rollup, "time", what="utilisation rollup")
    wall = ns_to_utc(t).tz_convert(site.tz)
    # The local hour starts the quarter's local minutes earlier (DST-safe:
    # no arithmetic on wall-clock times).
    hour_start = t - np.asarray(wall.minute, dtype=np.int64) * _MINUTE_NS
    frame = pd.DataFrame(
        {
            "zone": rollup["space"].map(zone_of).to_numpy(dtype=object),
            "space_type": rollup["space"].map(type_of).to_numpy(dtype=object),
            "time": hour_start,
            "weekday": np.asarray([WEEKDAYS[d] for d in wall.day_of_week], dtype=object),
            "hour": np.asarray([f"{h:02d}" for h in wall.hour], dtype=object),
            "opening_s": rollup["opening_s"].to_numpy(dtype=float),
            "observed_s": rollup["observed_s"].to_numpy(dtype=float),
            "occupied_s": rollup["occupied_s"].to_numpy(dtype=float),
        }
    )
    keys = ["zone", "space_type", "time", "weekday", "hour"]
    out = frame.groupby(keys, sort=True)[["opening_s", "observed_s", "occupied_s"]].sum()
    out = out.reset_index()
    out["time"] = ns_to_utc(out["time"].to_numpy(dtype=np.int64))
    return out[list(HEATMAP_COLUMNS)]


def heatmap_points(*, rows: pd.DataFrame, site: Site) -> list[Point]:
    """Storage points of ``heatmap_rollup`` rows (measurement ``heatmap``, tags
    site floor zone space_type weekday hour)."""
    require_columns(rows, HEATMAP_COLUMNS, what="heatmap rollup")
    times = column_ns(rows, "time", what="heatmap rollup")
    floor_of = {z.id: z.floor for z in site.zones}
    points = []
    for i, row in enumerate(rows.to_dict("records")):
        tags = {
            "site": site.id,
            "floor": floor_of[row["zone"]],
            "zone": str(row["zone"]),
            "space_type": str(row["space_type"]),
            "weekday": str(row["weekday"]),
            "hour": str(row["hour"]),
        }
        fields: dict[str, FieldValue] = {
            "occupied_s": float(row["occupied_s"]),
            "opening_s": float(row["opening_s"]),
            "observed_s": float(row["observed_s"]),
        }
        points.append(Point(HEATMAP, tags, fields, int(times[i])))
    return points


def peak_points(*, daily: pd.DataFrame, site: Site, by: str) -> list[Point]:
    """Storage points of ``peaks.daily_peaks`` rows grouped by ``by`` ("site"
    or "floor"): measurement ``peaks``, tags site and floor (the floor id, or
    ``SITE_ROW`` for the whole site, as the efficiency rows do for agencies);
    time = local day start in UTC; fields peak and spaces (floats)."""
    if by not in PEAK_LEVELS:
        raise ValueError(f"by must be one of {', '.join(PEAK_LEVELS)}; got {by!r}")
    require_columns(daily, (by, "day", "spaces", "peak"), what="daily peaks")
    points = []
    for row in daily.to_dict("records"):
        day = pd.Timestamp(row["day"]).date()
        when = to_ns(local_day_bounds(site, day)[0], name="day start")
        floor = str(row[by]) if by == "floor" else SITE_ROW
        points.append(
            Point(
                PEAKS,
                {"site": site.id, "floor": floor},
                {"peak": float(row["peak"]), "spaces": float(row["spaces"])},
                when,
            )
        )
    return points


def efficiency_points(*, report: pd.DataFrame, site: Site, year: int, month: int) -> list[Point]:
    """Storage points of a monthly efficiency report (measurement ``efficiency``,
    tags site, agency, month "YYYY-MM"; time = local month start in UTC).
    NaN figures (e.g. the use rate of an agency without desks) are left out,
    as InfluxDB stores no NaN."""
    require_columns(report, ("agency", *EFFICIENCY_FIELDS), what="efficiency report")
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1-12, got {month}")
    when = to_ns(month_bounds(site, year, month)[0], name="month start")
    label = f"{year:04d}-{month:02d}"
    points = []
    for row in report.to_dict("records"):
        fields: dict[str, FieldValue] = {}
        for name in EFFICIENCY_FIELDS:
            value = float(row[name])
            if not math.isnan(value):
                fields[name] = value
        points.append(
            Point(
                EFFICIENCY,
                {"site": site.id, "agency": str(row["agency"]), "month": label},
                fields,
                when,
            )
        )
    return points


__all__ = [
    "BUCKET_S",
    "EFFICIENCY_FIELDS",
    "HEATMAP",
    "HEATMAP_COLUMNS",
    "PEAKS",
    "PEAK_LEVELS",
    "ROLLUP_COLUMNS",
    "SITE_ROW",
    "WEEKDAYS",
    "ColumnBatch",
    "day_rollup_batches",
    "day_rollup_points",
    "efficiency_points",
    "heatmap_points",
    "heatmap_rollup",
    "peak_points",
    "utilisation_points",
    "utilisation_rollup",
]


@dataclass(frozen=True, slots=True)
class ColumnBatch:
    """Points of one measurement as columns (``Store.write_columns``)."""

    measurement: str
    time_ns: np.ndarray
    tags: dict[str, Any]
    fields: dict[str, Any]

    def points(self) -> list[Point]:
        from storage.columns import column_points

        return column_points(
            self.measurement, time_ns=self.time_ns, tags=self.tags, fields=self.fields
        )


def _space_tag_columns(spaces: pd.Series, site: Site) -> dict[str, Any]:
    """Each storage tag of the spaces' points as a Categorical (a space whose
    tags lack a key gets no such tag: a missing category)."""
    keys = sorted({k for sp in site.spaces for k in site.space_tags(sp.id)})
    code = space_codes(site, spaces)  # the callers have checked every space is known
    out: dict[str, Any] = {}
    for key in keys:
        values = [site.space_tags(sp.id).get(key) for sp in site.spaces]
        cats = sorted({v for v in values if v is not None})
        per_space = np.array([-1 if v is None else cats.index(v) for v in values], dtype=np.int64)
        out[key] = pd.Categorical.from_codes(per_space[code], categories=pd.Index(cats))
    return out


def utilisation_columns(*, rollup: pd.DataFrame, site: Site) -> ColumnBatch:
    """``utilisation_points`` of a rollup, as columns."""
    require_columns(rollup, ROLLUP_COLUMNS, what="utilisation rollup")
    unknown = sorted(set(rollup["space"].astype(object)) - {sp.id for sp in site.spaces})
    if unknown:
        raise KeyError(f"spaces not in site {site.id!r}: {', '.join(map(str, unknown[:5]))}")
    return ColumnBatch(
        UTILISATION,
        column_ns(rollup, "time", what="utilisation rollup"),
        _space_tag_columns(rollup["space"], site),
        {c: rollup[c].to_numpy(dtype=float) for c in ("occupied_s", "opening_s", "observed_s")},
    )


def heatmap_columns(*, rows: pd.DataFrame, site: Site) -> ColumnBatch:
    """``heatmap_points`` of ``heatmap_rollup`` rows, as columns."""
    require_columns(rows, HEATMAP_COLUMNS, what="heatmap rollup")
    floor_of = {z.id: z.floor for z in site.zones}
    tags: dict[str, Any] = {
        "site": site.id,
        "floor": pd.Categorical(rows["zone"].astype(object).map(floor_of)),
    }
    for key in ("zone", "space_type", "weekday", "hour"):
        tags[key] = pd.Categorical(rows[key].astype(str))
    return ColumnBatch(
        HEATMAP,
        column_ns(rows, "time", what="heatmap rollup"),
        tags,
        {c: rows[c].to_numpy(dtype=float) for c in ("occupied_s", "opening_s", "observed_s")},
    )


def day_rollup_batches(*, intervals: pd.DataFrame, site: Site) -> list[ColumnBatch]:
    """The Grafana rows of whole days of clipped intervals, as columns:
    utilisation, heatmap and the daily peaks of the site and its floors
    (``PEAK_LEVELS``)."""
    from metrics.peaks import daily_peaks

    rows = utilisation_rollup(intervals=intervals)
    batches = [
        utilisation_columns(rollup=rows, site=site),
        heatmap_columns(rows=heatmap_rollup(rollup=rows, site=site), site=site),
    ]
    peaks: list[Point] = []
    for level in PEAK_LEVELS:
        daily = daily_peaks(intervals=intervals, site=site, by=level)  # type: ignore[arg-type]
        peaks += peak_points(daily=daily, site=site, by=level)
    if peaks:
        batches.append(
            ColumnBatch(
                PEAKS,
                np.asarray([p.time_ns for p in peaks], dtype=np.int64),
                {
                    "site": site.id,
                    "floor": pd.Categorical([p.tags["floor"] for p in peaks]),
                },
                {k: np.asarray([p.fields[k] for p in peaks], float) for k in ("peak", "spaces")},
            )
        )
    return [b for b in batches if len(b.time_ns)]


def day_rollup_points(*, intervals: pd.DataFrame, site: Site) -> list[Point]:
    """``day_rollup_batches`` as points."""
    return [p for b in day_rollup_batches(intervals=intervals, site=site) for p in b.points()]
