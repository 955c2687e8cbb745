"""Rows written back to the store so that Grafana needs no logic.

``utilisation``: per space and UTC quarter hour, the exact opening, observed
and occupied seconds. ``efficiency``: per agency (and ``_site``) and month, the
efficiency report. A point's identity is (measurement, tags, time), so writing
the rows of a period again overwrites them: re-running a rollup is idempotent.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from api.metrics.intervals import (
    CLIPPED_COLUMNS,
    OCCUPIED,
    UNKNOWN,
    column_ns,
    ns_to_utc,
    require_columns,
    split_at,
    to_ns,
)
from core.calendar import month_bounds
from core.registry import Site
from storage.base import EFFICIENCY, UTILISATION, FieldValue, Point

BUCKET_S = 15 * 60
_BUCKET_NS = BUCKET_S * 1_000_000_000
ROLLUP_COLUMNS = ("space", "time", "opening_s", "observed_s", "occupied_s")
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
    "ROLLUP_COLUMNS",
    "efficiency_points",
    "utilisation_points",
    "utilisation_rollup",
]
