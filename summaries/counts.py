"""The entrance counts in the daily summaries (docs/storage.md, "Daily
summaries"; the service reports are ``api.service``).

Every service figure depends on the order and the exact instants of the
count intervals: the in-building count is a clamped running sum over the
interval ends of a zone's entrances, and a candidate opening hour may start
at any minute. So a day's summary keeps each interval, with only what
``metrics.service_quality.checked_counts`` reads (in, out, interval length,
reset), and folds a run of consecutive empty intervals (0 in, 0 out, no
reset, each starting where the one before ended, all of one length) into one
row with its length ``n``: a counter that sends zeros all night is one row a
night, not hundreds.

The rows are the counts as stored, not yet checked: a report checks the
rows of summarised days and the raw rows of the other days with the same
function, so the figures and flags are the same whichever path a day took,
and a change of the registry (an entrance moved to another zone, a new
``max_per_minute``) needs no new summary.

``summary_counts``: tags site, entrance, zone (as the raw point has them);
time = the end of the interval (of a run: of its first interval), so a day
is the local day its raw points mark dirty (``storage.marks``); fields
in_count, out_count, interval_s (missing or NaN values are stored as -1, as
impossible as NaN to the check), reset (0/1), n and the day's ``gen``. The
day's commit counts them (field ``counts``); a commit written before this
measurement existed has -1 and the day's counts are read raw.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

import numpy as np
import pandas as pd

from core.registry import Site
from metrics.intervals import column_ns
from storage import ENTRANCE_COUNTS, Store

COUNTS = "summary_counts"
#: what a summary row keeps of a raw count (and what a report reads of one)
COUNT_FIELDS = ("in_count", "out_count", "interval_s", "reset")
#: a value the check rejects as it rejects a missing one
MISSING = -1.0
_NS = 1_000_000_000


def read_raw_counts(store: Store, site: Site, start: datetime, end: datetime) -> pd.DataFrame:
    """The raw ``entrance_counts`` of the site with time in [start, end), only
    the columns a report uses (time, entrance, zone, ``COUNT_FIELDS``)."""
    frame = store.read(
        ENTRANCE_COUNTS, start=start, end=end, where={"site": site.id}, fields=COUNT_FIELDS
    )
    return frame if len(frame) else empty_counts()


def empty_counts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "time": pd.Series([], dtype="datetime64[ns, UTC]"),
            "entrance": pd.Series([], dtype=object),
            "zone": pd.Series([], dtype=object),
            **{c: pd.Series([], dtype=float) for c in COUNT_FIELDS},
        }
    )


def _values(raw: pd.DataFrame, column: str) -> np.ndarray:
    if column not in raw.columns:
        return np.full(len(raw), MISSING)
    v = pd.to_numeric(raw[column], errors="coerce").to_numpy(dtype=float)
    return np.where(np.isfinite(v), v, MISSING)


def count_rows(raw: pd.DataFrame, *, site: Site) -> pd.DataFrame:
    """The summary rows of raw counts (pure): columns entrance, zone, time_ns,
    ``COUNT_FIELDS``, n, sorted by entrance, zone and time. A run never
    crosses a local midnight: each day's rows hold that day's intervals only,
    whichever days are read from summaries."""
    if raw.empty:
        return pd.DataFrame(
            {
                "entrance": pd.Series([], dtype=object),
                "zone": pd.Series([], dtype=object),
                "time_ns": pd.Series([], dtype=np.int64),
                **{c: pd.Series([], dtype=float) for c in COUNT_FIELDS},
                "n": pd.Series([], dtype=np.int64),
            }
        )
    entrance = raw["entrance"].astype(str).to_numpy(dtype=object)
    zone = (
        raw["zone"].fillna("").astype(str).to_numpy(dtype=object)
        if "zone" in raw.columns
        else np.full(len(raw), "", dtype=object)
    )
    t = column_ns(raw, "time", what="entrance counts")
    vals = {c: _values(raw, c) for c in COUNT_FIELDS}
    vals["reset"] = (vals["reset"] > 0).astype(float)
    series, _ = pd.factorize(pd.Series(entrance) + "\x00" + pd.Series(zone))
    order = np.lexsort((t, series))
    entrance, zone, t, series = entrance[order], zone[order], t[order], series[order]
    vals = {c: v[order] for c, v in vals.items()}
    step = np.round(np.where(vals["interval_s"] > 0, vals["interval_s"], 0) * _NS).astype(np.int64)
    empty = (vals["in_count"] == 0) & (vals["out_count"] == 0) & (vals["reset"] == 0) & (step > 0)
    # a row continues the run before it when both are empty, of one series and
    # one length, and it starts where the one before ended
    cont = np.zeros(len(t), dtype=bool)
    cont[1:] = (
        empty[1:] & empty[:-1]
        & (series[1:] == series[:-1])
        & (vals["interval_s"][1:] == vals["interval_s"][:-1])
        & (t[1:] - t[:-1] == step[1:])
    )  # fmt: skip
    day = pd.DatetimeIndex(pd.to_datetime(t, utc=True)).tz_convert(site.tz).normalize()
    d = np.asarray(day.tz_localize(None), dtype="datetime64[ns]")
    cont[1:] &= d[1:] == d[:-1]
    heads = np.flatnonzero(~cont)
    n = np.diff(np.append(heads, len(t)))
    return pd.DataFrame(
        {
            "entrance": entrance[heads],
            "zone": zone[heads],
            "time_ns": t[heads],
            **{c: v[heads] for c, v in vals.items()},
            "n": n.astype(np.int64),
        }
    )


def write_counts(store: Store, site: Site, rows: pd.DataFrame, *, gen: int) -> None:
    if not len(rows):
        return
    store.write_columns(
        COUNTS,
        time_ns=rows["time_ns"].to_numpy(dtype=np.int64),
        tags={
            "site": site.id,
            "entrance": pd.Categorical(rows["entrance"]),
            "zone": pd.Categorical(rows["zone"]),
        },
        fields={
            **{c: rows[c].to_numpy(dtype=float) for c in COUNT_FIELDS},
            "n": rows["n"].to_numpy(dtype=np.int64),
            "gen": gen,
        },
    )


def counts_of_rows(rows: pd.DataFrame | None) -> pd.DataFrame:
    """Stored rows (``summaries.schema.read_rows``) back as the raw counts they
    were made of (``read_raw_counts``' columns): every run unfolded."""
    if rows is None or not len(rows):
        return empty_counts()
    n = rows["n"].to_numpy(dtype=np.int64)
    first = column_ns(rows, "time", what="summary counts")
    interval = rows["interval_s"].to_numpy(dtype=float)
    step = np.round(np.where(interval > 0, interval, 0) * _NS).astype(np.int64)
    idx = np.repeat(np.arange(len(rows)), n)
    # k: each unfolded interval's place in its run
    k = np.arange(len(idx)) - np.repeat(np.cumsum(n) - n, n)
    t = first[idx] + k * step[idx]
    # taken from the stored rows' strings (as the store typed them), not a
    # string made per interval: a year is half a million
    entrance = rows["entrance"].astype(str).reset_index(drop=True)
    zone = rows["zone"].astype(str).reset_index(drop=True)
    zone = zone.where(zone != "", None)
    return pd.DataFrame(
        {
            "time": pd.DatetimeIndex(t.astype("datetime64[ns]")).tz_localize("UTC"),
            "entrance": entrance.take(idx).reset_index(drop=True),
            "zone": zone.take(idx).reset_index(drop=True),
            **{c: rows[c].to_numpy(dtype=float)[idx] for c in COUNT_FIELDS},
        }
    )


def per_day(site: Site, rows: pd.DataFrame) -> dict[date, int]:
    """Summary rows per local day (of each row's time), for the commit."""
    if rows.empty:
        return {}
    local = pd.to_datetime(rows["time_ns"].to_numpy(dtype=np.int64), utc=True).tz_convert(site.tz)
    counts = pd.Series(local.date).value_counts()
    return {cast(date, k): int(v) for k, v in counts.items()}


__all__ = [
    "COUNTS",
    "COUNT_FIELDS",
    "count_rows",
    "counts_of_rows",
    "empty_counts",
    "per_day",
    "read_raw_counts",
    "write_counts",
]
