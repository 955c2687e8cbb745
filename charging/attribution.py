"""Who used the occupied time: attribution of occupied intervals to agencies, and no-shows.

Pure functions over DataFrames. Interval input (what
``metrics.intervals.state_intervals`` returns): one row per state spell of a
space, columns ``space``, ``start``, ``end`` (``datetime64[ns, UTC]``, [start, end))
and ``state`` (``'occupied'``, ``'free'`` or ``'unknown'``); other columns are
ignored. Spells of one space must not overlap.

Rules (DESIGN.md, "Usage-based charging"):

1. a space in a zone dedicated to an agency: its occupied time is that agency's
   (``basis='dedicated'``), bookings there are not consulted;
2. else occupied time inside a booking of the space is the booking's agency's
   (``basis='booking'``), split exactly at the booking's edges;
3. the rest is the shared pool (``basis='pool'``, ``agency`` is None), shared out
   later by ``charging.charges`` in proportion to attributed use.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from charging.bookings import Booking
from core.calendar import opening_intervals
from core.registry import Site

ATTRIBUTED_COLUMNS = ["space", "space_type", "start", "end", "agency", "basis", "booking_id"]
NO_SHOW_COLUMNS = [
    "booking_id",
    "space",
    "agency",
    "start",
    "end",
    "window_end",
    "occupied_s",
    "observed_s",
    "status",
]

DEDICATED = "dedicated"
BOOKING = "booking"
POOL = "pool"

SHOWN = "shown"
NO_SHOW = "no_show"
#: no presence seen, but the sensor was not observing the whole window
UNVERIFIED = "unverified"


def to_ns(series: pd.Series) -> np.ndarray:
    """Nanoseconds since the epoch of a datetime column (any unit, any zone)."""
    return pd.to_datetime(series, utc=True).dt.as_unit("ns").astype("int64").to_numpy()


def from_ns(values: Sequence[int] | np.ndarray) -> pd.Series:
    return pd.Series(np.asarray(values, dtype="int64")).astype("datetime64[ns, UTC]")


def _check_intervals(intervals: pd.DataFrame, site: Site) -> pd.DataFrame:
    missing = {"space", "start", "end", "state"} - set(intervals.columns)
    if missing:
        raise ValueError(f"intervals lack column(s) {', '.join(sorted(missing))}")
    df = pd.DataFrame(
        {
            "space": intervals["space"].astype(str).to_numpy(),
            "s": to_ns(intervals["start"]) if len(intervals) else np.empty(0, "int64"),
            "e": to_ns(intervals["end"]) if len(intervals) else np.empty(0, "int64"),
            "state": intervals["state"].astype(str).to_numpy(),
        }
    )
    unknown = sorted(set(df["space"]) - {s.id for s in site.spaces})
    if unknown:
        raise ValueError(f"intervals name spaces not in site {site.id!r}: {', '.join(unknown)}")
    bad_state = sorted(set(df["state"]) - {"occupied", "free", "unknown"})
    if bad_state:
        raise ValueError(f"unknown interval state(s): {', '.join(bad_state)}")
    if (df["e"] < df["s"]).any():
        raise ValueError("an interval ends before it starts")
    df = df[df["e"] > df["s"]].sort_values(["space", "s", "e"], kind="stable")
    prev_end = df.groupby("space", sort=False)["e"].shift()
    if (df["s"] < prev_end).any():
        row = df[df["s"] < prev_end].iloc[0]
        raise ValueError(f"intervals of space {row['space']!r} overlap (would count time twice)")
    return df.reset_index(drop=True)


def clip_to_opening_hours(
    *, intervals: pd.DataFrame, site: Site, start: datetime, end: datetime
) -> pd.DataFrame:
    """The intervals cut to the site's opening hours within [start, end)
    (holidays and closure days excluded): ``metrics``' clipping, so charges
    and utilisation count exactly the same opening time."""
    from metrics.intervals import clip_to_opening

    df = _check_intervals(intervals, site)
    frame = pd.DataFrame(
        {
            "space": df["space"].to_numpy(),
            "start": from_ns(df["s"].to_numpy()),
            "end": from_ns(df["e"].to_numpy()),
            "state": df["state"].to_numpy(),
            "count": np.full(len(df), np.nan),
        }
    )
    clipped = clip_to_opening(intervals=frame, site=site, start=start, end=end)
    return clipped[["space", "start", "end", "state"]].reset_index(drop=True)


def opening_ns(*, site: Site, start: datetime, end: datetime) -> int:
    """Opening time of one space over [start, end), in nanoseconds."""
    return sum(
        int(pd.Timestamp(b).value) - int(pd.Timestamp(a).value)
        for a, b in opening_intervals(site, start, end)
    )


def attribute(*, intervals: pd.DataFrame, bookings: Sequence[Booking], site: Site) -> pd.DataFrame:
    """Occupied time by agency: one row per attributed piece.

    Input: ``intervals`` as described in the module docstring (clip them to the
    charged period and opening hours first, see ``clip_to_opening_hours``);
    ``bookings`` of this site, already validated (no overlaps per space).

    Output columns: ``space``, ``space_type``, ``start``, ``end`` (UTC), ``agency``
    (None for the pool), ``basis`` (``dedicated``/``booking``/``pool``) and
    ``booking_id`` (None unless basis is ``booking``), sorted by space and start.
    The pieces of a space add up exactly to its occupied time.
    """
    df = _check_intervals(intervals, site)
    occ = df[df["state"] == "occupied"]
    by_space: dict[str, list[Booking]] = defaultdict(list)
    for b in bookings:
        by_space[b.space].append(b)
    spaces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    agencies: list[str | None] = []
    bases: list[str] = []
    booking_ids: list[str | None] = []

    def emit(space: str, s: int, e: int, agency: str | None, basis: str, bid: str | None) -> None:
        spaces.append(space)
        starts.append(s)
        ends.append(e)
        agencies.append(agency)
        bases.append(basis)
        booking_ids.append(bid)

    for space_id, group in occ.groupby("space", sort=True):
        space = site.space(str(space_id))
        owner = site.zone(space.zone).agency
        s_arr, e_arr = group["s"].to_numpy(), group["e"].to_numpy()
        if owner is not None:
            for s, e in zip(s_arr.tolist(), e_arr.tolist(), strict=True):
                emit(space.id, s, e, owner, DEDICATED, None)
            continue
        books = sorted(by_space.get(space.id, []), key=lambda b: b.start)
        b_s = [int(pd.Timestamp(b.start).value) for b in books]
        b_e = [int(pd.Timestamp(b.end).value) for b in books]
        for s, e in zip(s_arr.tolist(), e_arr.tolist(), strict=True):
            cursor = s
            # bookings of a space do not overlap, so their ends are sorted too
            i = bisect.bisect_right(b_e, s)
            while cursor < e and i < len(books):
                if b_s[i] >= e:
                    break
                if b_s[i] > cursor:
                    emit(space.id, cursor, b_s[i], None, POOL, None)
                    cursor = b_s[i]
                piece_end = min(e, b_e[i])
                if piece_end > cursor:
                    emit(space.id, cursor, piece_end, books[i].agency, BOOKING, books[i].id)
                    cursor = piece_end
                i += 1
            if cursor < e:
                emit(space.id, cursor, e, None, POOL, None)

    types = {s.id: s.type.value for s in site.spaces}
    out = pd.DataFrame(
        {
            "space": pd.Series(spaces, dtype=object),
            "space_type": pd.Series([types[s] for s in spaces], dtype=object),
            "start": from_ns(starts),
            "end": from_ns(ends),
            "agency": pd.Series(agencies, dtype=object),
            "basis": pd.Series(bases, dtype=object),
            "booking_id": pd.Series(booking_ids, dtype=object),
        }
    )
    return out.sort_values(["space", "start"], kind="stable").reset_index(drop=True)


def find_no_shows(
    *,
    intervals: pd.DataFrame,
    bookings: Sequence[Booking],
    site: Site,
    window_minutes: int = 15,
) -> pd.DataFrame:
    """Each booking's status from presence in its first ``window_minutes``.

    ``intervals`` are the raw state spells (not clipped to opening hours: a
    booking may start before opening). The window is [start, start + N min),
    shortened to the booking's end. Status: ``shown`` (the space was occupied at
    some moment of the window), ``no_show`` (not occupied, and observed — free —
    the whole window) or ``unverified`` (not occupied, but the sensor was silent
    or offline for part of the window: no one can say).
    """
    df = _check_intervals(intervals, site)
    window_ns = window_minutes * 60 * 1_000_000_000
    per_space = {str(k): g for k, g in df.groupby("space", sort=False)}
    rows = []
    for b in sorted(bookings, key=lambda b: (b.start, b.space, b.id)):
        s = int(pd.Timestamp(b.start).value)
        w_end = min(s + window_ns, int(pd.Timestamp(b.end).value))
        occupied = observed = 0
        g = per_space.get(b.space)
        if g is not None:
            gs, ge = g["s"].to_numpy(), g["e"].to_numpy()
            hit = (gs < w_end) & (ge > s)
            if hit.any():
                overlap = np.minimum(ge[hit], w_end) - np.maximum(gs[hit], s)
                states = g["state"].to_numpy()[hit]
                occupied = int(overlap[states == "occupied"].sum())
                observed = int(overlap[states != "unknown"].sum())
        if occupied > 0:
            status = SHOWN
        elif observed >= w_end - s:
            status = NO_SHOW
        else:
            status = UNVERIFIED
        rows.append(
            (
                b.id,
                b.space,
                b.agency,
                s,
                int(pd.Timestamp(b.end).value),
                w_end,
                occupied / 1e9,
                observed / 1e9,
                status,
            )
        )
    out = pd.DataFrame.from_records(rows, columns=NO_SHOW_COLUMNS)
    for name in ("booking_id", "space", "agency", "status"):
        out[name] = out[name].astype(object)
    for name in ("start", "end", "window_end"):
        out[name] = from_ns(out[name].to_numpy(dtype="int64"))
    for name in ("occupied_s", "observed_s"):
        out[name] = out[name].astype("float64")
    return out
