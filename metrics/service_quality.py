"""Entrance counts checked before any service-point figure is made of them.

A people counter can be wrong in ways a presence sensor cannot: it can count
more people than a door lets through, count more out than in, reset its
totals, or fall silent while people keep walking in. None of this may crash a
report or hide in a figure: ``checked_counts`` keeps the rows that can be
trusted and returns a flag for everything else, and the figures carry the
flags of the days they are made of (docs/metrics.md, "Service points").
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from core.registry import Site
from metrics.intervals import column_ns, ns_to_utc, opening_windows, require_columns, to_ns

#: columns of the rows ``checked_counts`` keeps
ROW_COLUMNS = ("entrance", "zone", "start", "end", "day", "in_count", "out_count", "reset")
FLAG_COLUMNS = ("entrance", "day", "flag", "value", "detail")

UNKNOWN_ENTRANCE = "unknown_entrance"
ABSURD_COUNT = "absurd_count"
COUNTER_RESET = "counter_reset"
OUT_EXCEEDS_IN = "out_exceeds_in"
GAP = "gap"
FLAGS = (UNKNOWN_ENTRANCE, ABSURD_COUNT, COUNTER_RESET, OUT_EXCEEDS_IN, GAP)

#: Uncovered opening time shorter than this is clock jitter between two
#: intervals, not a lost count.
GAP_MIN_S = 1.0
_NS = 1_000_000_000


def empty_flags() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "entrance": pd.Series([], dtype=object),
            "day": pd.Series([], dtype="datetime64[ns]"),
            "flag": pd.Series([], dtype=object),
            "value": pd.Series([], dtype=float),
            "detail": pd.Series([], dtype=object),
        }
    )


def local_day(site: Site, ns: np.ndarray) -> np.ndarray:
    """The local date (naive midnight) of each UTC instant."""
    wall = ns_to_utc(ns).tz_convert(site.tz).tz_localize(None).normalize()
    return np.asarray(wall, dtype="datetime64[ns]")


def _numbers(counts: pd.DataFrame, column: str) -> np.ndarray:
    if column not in counts.columns:
        return np.full(len(counts), np.nan)
    return pd.to_numeric(counts[column], errors="coerce").to_numpy(dtype=float)


Flag = tuple[object, object, str, float, str]


def _flag_rows(
    entrance: np.ndarray, day: np.ndarray, mask: np.ndarray, flag: str, what: str
) -> list[Flag]:
    """One flag per (entrance, day) with how many rows of it were ``mask``."""
    if not mask.any():
        return []
    frame = pd.DataFrame({"entrance": entrance[mask], "day": day[mask]})
    n = frame.groupby(["entrance", "day"], sort=True).size().reset_index(name="n")
    return [
        (e, d, flag, float(k), f"{k} count interval(s) {what}")
        for e, d, k in zip(n["entrance"], n["day"], n["n"], strict=True)
    ]


def checked_counts(
    *,
    counts: pd.DataFrame,
    site: Site,
    start: datetime | pd.Timestamp,
    end: datetime | pd.Timestamp,
    gaps_until: datetime | pd.Timestamp | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The trustworthy ``entrance_counts`` rows whose interval starts in
    [start, end), and the flags.

    ``counts`` is what ``Store.read("entrance_counts", ...)`` returns. A row
    covers the interval (time - interval_s, time]; its local ``day`` is that of
    the interval's start. Rows are left out, and flagged, when the entrance is
    not in the registry (``unknown_entrance``) or the counts are impossible:
    missing, negative, or more than ``site.service.max_per_minute`` people a
    minute, or no valid interval length (``absurd_count``). Kept rows whose
    counter reset its totals are flagged ``counter_reset``; an entrance-day
    with more out than in ``out_exceeds_in``; opening time of an open day not
    covered by any interval ``gap`` (value: seconds), up to ``gaps_until``
    (default ``end``; a live view passes the time from which an interval may
    still be on its way).

    Returns (rows with ``ROW_COLUMNS`` sorted by entrance and end, flags with
    ``FLAG_COLUMNS`` sorted by day, entrance, flag)."""
    cols = _window(_as_counts(counts), site, start, end)
    known = pd.notna(cols["zone"]).astype(bool)
    limit = site.service.max_per_minute * np.where(cols["ok_interval"], cols["interval"], 0) / 60
    n_in, n_out = cols["in"], cols["out"]
    sane = (
        cols["ok_interval"]
        & np.isfinite(n_in) & np.isfinite(n_out)
        & (n_in >= 0) & (n_out >= 0)
        & (n_in <= limit) & (n_out <= limit)
    )  # fmt: skip
    entrance, day, reset = cols["entrance"], cols["day"], cols["reset"]
    flags = _flag_rows(
        entrance, day, ~known, UNKNOWN_ENTRANCE, "from an entrance not in the registry"
    )
    per_min = f"{site.service.max_per_minute:g}"
    flags += _flag_rows(
        entrance, day, known & ~sane, ABSURD_COUNT,
        f"left out: negative, missing or over {per_min} people a minute",
    )  # fmt: skip
    keep = known & sane
    flags += _flag_rows(entrance, day, keep & reset, COUNTER_RESET, "after the counter reset")
    rows = pd.DataFrame(
        {
            "entrance": entrance[keep],
            "zone": cols["zone"][keep],
            "start": ns_to_utc(cols["t_start"][keep]),
            "end": ns_to_utc(cols["t_end"][keep]),
            "day": day[keep],
            "in_count": n_in[keep].astype(np.int64),
            "out_count": n_out[keep].astype(np.int64),
            "reset": reset[keep],
        }
    )
    rows = rows.sort_values(["entrance", "end"], kind="stable").reset_index(drop=True)
    flags += _out_exceeds_in(rows)
    flags += _gaps(rows, site, start, end if gaps_until is None else gaps_until)
    if not flags:
        return rows, empty_flags()
    out = pd.DataFrame(flags, columns=list(FLAG_COLUMNS))
    out["day"] = out["day"].astype("datetime64[ns]")
    out["value"] = out["value"].astype(float)
    return rows, out.sort_values(["day", "entrance", "flag"]).reset_index(drop=True)


def _as_counts(counts: pd.DataFrame) -> pd.DataFrame:
    if counts.empty and not {"time", "entrance"} <= set(counts.columns):
        # what a store answers for a measurement it has never seen
        return pd.DataFrame(
            {
                "time": pd.Series([], dtype="datetime64[ns, UTC]"),
                "entrance": pd.Series([], dtype=object),
            }
        )
    require_columns(counts, ("time", "entrance"), what="entrance counts")
    return counts


def _window(
    counts: pd.DataFrame, site: Site, start: datetime | pd.Timestamp, end: datetime | pd.Timestamp
) -> dict[str, np.ndarray]:
    """The columns of the rows whose interval starts in [start, end), as arrays:
    entrance, zone (None: not in the registry), t_start, t_end, day, in, out,
    interval, ok_interval, reset."""
    t0, t1 = to_ns(start, name="start"), to_ns(end, name="end")
    t_end = column_ns(counts, "time", what="entrance counts")
    # codes of the distinct entrances, not a Python string per row: a year of
    # minute counts is half a million rows
    e_code, e_names = pd.factorize(counts["entrance"].astype(str))
    names = np.asarray(e_names, dtype=object)
    zone_of = {e.id: e.zone for e in site.entrances}
    zones = np.array([zone_of.get(str(e)) for e in names], dtype=object)
    interval = _numbers(counts, "interval_s")
    ok_interval = np.isfinite(interval) & (interval > 0)
    t_start = t_end - np.round(np.where(ok_interval, interval, 0) * _NS).astype(np.int64)
    inside = (t_start >= t0) & (t_start < t1)  # counts belong where their interval starts
    e_code = e_code[inside]
    return {
        "entrance": names[e_code] if len(e_code) else np.array([], dtype=object),
        "zone": zones[e_code] if len(e_code) else np.array([], dtype=object),
        "t_start": t_start[inside],
        "t_end": t_end[inside],
        "day": local_day(site, t_start[inside]),
        "in": _numbers(counts, "in_count")[inside],
        "out": _numbers(counts, "out_count")[inside],
        "interval": interval[inside],
        "ok_interval": ok_interval[inside],
        "reset": (np.nan_to_num(_numbers(counts, "reset")) > 0)[inside],
    }


def _out_exceeds_in(rows: pd.DataFrame) -> list[Flag]:
    sums = rows.groupby(["entrance", "day"], sort=True)[["in_count", "out_count"]].sum()
    bad = sums[sums["out_count"] > sums["in_count"]].reset_index()
    return [
        (e, d, OUT_EXCEEDS_IN, float(o - i), f"{o} out but {i} in over the day")
        for e, d, i, o in zip(bad["entrance"], bad["day"], bad["in_count"], bad["out_count"],
                              strict=True)
    ]  # fmt: skip


def coverage(
    *, rows: pd.DataFrame, site: Site, start: datetime | pd.Timestamp, end: datetime | pd.Timestamp
) -> pd.DataFrame:
    """Per registered entrance and open day: opening_s and covered_s, the part
    of the opening time inside some count interval of the entrance."""
    windows = opening_windows(site=site, start=start, end=end)
    w_s = column_ns(windows, "start", what="opening windows")
    w_e = column_ns(windows, "end", what="opening windows")
    w_day = windows["day"].to_numpy(dtype="datetime64[ns]")
    out = []
    for ent in site.entrances:
        mine = rows[rows["entrance"] == ent.id]
        s = column_ns(mine, "start", what="counts") if len(mine) else np.array([], np.int64)
        e = column_ns(mine, "end", what="counts") if len(mine) else np.array([], np.int64)
        # the union of the intervals: sorted by start, a new run begins where
        # a start passes every end before it
        o = np.argsort(s, kind="stable")
        s, e = s[o], e[o]
        reach = np.maximum.accumulate(e) if len(e) else e
        new = np.ones(len(s), dtype=bool)
        new[1:] = s[1:] > reach[:-1]
        first = np.flatnonzero(new)
        u_s = s[first]
        u_e = reach[np.append(first[1:] - 1, len(s) - 1)] if len(first) else first
        for ws, we, wd in zip(w_s, w_e, w_day, strict=True):
            covered = np.clip(np.minimum(u_e, we) - np.maximum(u_s, ws), 0, None).sum()
            out.append((ent.id, wd, (we - ws) / _NS, float(covered) / _NS))
    frame = pd.DataFrame(out, columns=["entrance", "day", "opening_s", "covered_s"])
    frame["day"] = frame["day"].astype("datetime64[ns]")
    return frame.groupby(["entrance", "day"], sort=True, as_index=False)[
        ["opening_s", "covered_s"]
    ].sum()


def _gaps(
    rows: pd.DataFrame, site: Site, start: datetime | pd.Timestamp, end: datetime | pd.Timestamp
) -> list[Flag]:
    cov = coverage(rows=rows, site=site, start=start, end=end)
    missing = (cov["opening_s"] - cov["covered_s"]).to_numpy(dtype=float)
    bad = missing >= GAP_MIN_S
    return [
        (e, d, GAP, float(m), f"{m:.0f} s of opening time without counts (visits undercounted)")
        for e, d, m in zip(cov["entrance"][bad], cov["day"][bad], missing[bad], strict=True)
    ]


def day_flags(flags: pd.DataFrame) -> pd.DataFrame:
    """Per (entrance, day): the names of its flags, sorted and joined by ';'."""
    if flags.empty:
        return pd.DataFrame(
            {
                "entrance": pd.Series([], dtype=object),
                "day": pd.Series([], dtype="datetime64[ns]"),
                "flags": pd.Series([], dtype=object),
            }
        )
    g = flags.groupby(["entrance", "day"], sort=True)["flag"]
    return g.agg(lambda f: ";".join(sorted(set(f)))).rename("flags").reset_index()


def flag_records(flags: pd.DataFrame) -> list[dict[str, object]]:
    """Flags as JSON objects for a report's metadata."""
    days = pd.to_datetime(flags["day"]).dt.date
    return [
        {"entrance": e, "day": d.isoformat(), "flag": f, "value": float(v), "detail": t}
        for e, d, f, v, t in zip(flags["entrance"], days, flags["flag"], flags["value"],
                                 flags["detail"], strict=True)
    ]  # fmt: skip


__all__ = [
    "FLAGS",
    "FLAG_COLUMNS",
    "ROW_COLUMNS",
    "checked_counts",
    "coverage",
    "day_flags",
    "flag_records",
]
