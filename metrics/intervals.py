"""State intervals of every space, and their cut to opening hours.

Everything here works on int64 nanoseconds since the epoch (UTC) in numpy
arrays: one sort of the events, then array arithmetic. A presence stream of a
month for a thousand desks is millions of heartbeats, so no Python loop may run
per event; the only loop is per local day of the calendar (a few hundred).

Definitions (DESIGN.md, "Metrics"; worked examples in docs/metrics.md):

* a space's state holds from one presence message until the next;
* it is *unknown* from the moment its sensor has been silent for longer than
  ``silence_factor`` x its heartbeat interval (the message's ``hb`` field, else
  the site's ``heartbeat_s``) until the next message;
* it is *unknown* while its agent is offline: from an ``agent_status`` point with
  ``online = 0`` until the agent's next ``online = 1`` or the space's next
  presence message, whichever comes first (a message that the agent's outbox
  delivers late still counts: the data is there);
* before its first message, and when it has no data at all, it is unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from core.calendar import local_day_bounds, opening_intervals_on
from core.registry import Site

OCCUPIED = "occupied"
FREE = "free"
UNKNOWN = "unknown"
#: State codes used inside the module; the public frames carry the names.
_FREE, _OCC, _UNK = 0, 1, 2
_STATE_NAMES = np.array([FREE, OCCUPIED, UNKNOWN], dtype=object)
_STATE_CODES = {FREE: _FREE, OCCUPIED: _OCC, UNKNOWN: _UNK}

#: the presence fields ``state_intervals`` reads (besides the time and the tags)
PRESENCE_FIELDS = (OCCUPIED, "count", "hb")
INTERVAL_COLUMNS = ("space", "start", "end", "state", "count")
CLIPPED_COLUMNS = (*INTERVAL_COLUMNS, "day")
_NS = 1_000_000_000
_NO_COUNT = -1.0  # stands for NaN when comparing counts (NaN != NaN)


# ---- conversions -------------------------------------------------------------
def to_ns(value: datetime | pd.Timestamp, *, name: str) -> int:
    """A timezone-aware instant as int nanoseconds (UTC); naive ones are refused."""
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value!r}")
    return int(ts.tz_convert("UTC").as_unit("ns").value)


def column_ns(frame: pd.DataFrame, column: str, *, what: str) -> np.ndarray:
    """A datetime column as int64 nanoseconds; naive or non-datetime columns are refused."""
    col = frame[column]
    if not isinstance(col.dtype, pd.DatetimeTZDtype):
        raise ValueError(
            f"{what}: column {column!r} must be timezone-aware datetimes (UTC), got {col.dtype}"
        )
    return np.asarray(pd.DatetimeIndex(col).tz_convert("UTC").as_unit("ns").asi8, dtype=np.int64)


def ns_to_utc(values: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(np.asarray(values, dtype=np.int64), unit="ns", utc=True))


def require_columns(frame: pd.DataFrame, columns: Sequence[str], *, what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {', '.join(map(repr, missing))}")


def space_ids(site: Site) -> list[str]:
    return [s.id for s in site.spaces]


def codes_of(values: pd.Series, known: Sequence[str]) -> np.ndarray:
    """Index of each value in ``known``; -1 for values not in it."""
    index = pd.Index(list(known), dtype=object)
    if isinstance(values.dtype, pd.CategoricalDtype):
        # Look the few categories up, not the millions of rows.
        per_category = np.append(index.get_indexer(values.cat.categories.astype(object)), -1)
        return np.asarray(per_category[values.cat.codes.to_numpy()], dtype=np.int64)
    # Factorising first hashes the millions of rows natively (arrow strings in
    # C++), then looks up only the few distinct ids; a missing value is -1.
    codes, uniques = pd.factorize(values)
    per_unique = np.append(index.get_indexer(pd.Index(np.asarray(uniques, dtype=object))), -1)
    return np.asarray(per_unique[codes], dtype=np.int64)


def space_codes(site: Site, spaces: pd.Series) -> np.ndarray:
    """Index of each row's space in ``site.spaces``; -1 for spaces not in the site."""
    return codes_of(spaces, space_ids(site))


# ---- array helpers -----------------------------------------------------------
def _order(code: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Permutation sorting by (code, t). Store frames arrive sorted by time, and a
    stable sort of small integers is a radix sort, so this is linear in practice."""
    small = np.int16 if len(code) == 0 or int(code.max()) < 2**15 else np.int32
    if len(t) > 1 and not bool(np.all(t[1:] >= t[:-1])):
        by_time = np.argsort(t, kind="stable")
        return by_time[np.argsort(code[by_time].astype(small), kind="stable")]
    return np.argsort(code.astype(small), kind="stable")


def _next_in_group(group: np.ndarray, values: np.ndarray, fill: np.ndarray | int) -> np.ndarray:
    """values shifted up by one within each run of equal ``group`` (sorted); ``fill`` at ends."""
    out = np.empty_like(values)
    if len(values) == 0:
        return out
    out[:-1] = values[1:]
    last = np.ones(len(values), dtype=bool)
    last[:-1] = group[1:] != group[:-1]
    out[last] = fill[last] if isinstance(fill, np.ndarray) else fill
    return out


def _coalesce(
    code: np.ndarray, s: np.ndarray, e: np.ndarray, st: np.ndarray, cnt: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Join neighbouring pieces of one space with the same state and count.
    Input sorted by (code, s), contiguous within each code."""
    if len(s) == 0:
        return code, s, e, st, cnt
    key = np.where(np.isnan(cnt), _NO_COUNT, cnt)
    new = np.ones(len(s), dtype=bool)
    new[1:] = (
        (code[1:] != code[:-1]) | (st[1:] != st[:-1]) | (key[1:] != key[:-1]) | (s[1:] != e[:-1])
    )
    first = np.flatnonzero(new)
    last = np.append(first[1:] - 1, len(s) - 1)
    return code[first], s[first], e[last], st[first], cnt[first]


def split_at(s: np.ndarray, e: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, ...]:
    """Cut every interval [s, e) at each edge strictly inside it.

    Returns (source row, piece start, piece end). ``edges`` must be sorted."""
    n_rows = len(s)
    if len(edges) == 0 or n_rows == 0:
        return np.arange(n_rows), s.copy(), e.copy()
    k0 = np.searchsorted(edges, s, side="right")
    k1 = np.searchsorted(edges, e, side="left")
    pieces = np.maximum(k1 - k0, 0) + 1
    src = np.repeat(np.arange(n_rows), pieces)
    first = np.repeat(np.cumsum(pieces) - pieces, pieces)
    j = np.arange(len(src)) - first
    k = k0[src] + j
    top = len(edges) - 1
    ps = np.where(j == 0, s[src], edges[np.clip(k - 1, 0, top)])
    pe = np.where(j == pieces[src] - 1, e[src], edges[np.clip(k, 0, top)])
    return src, ps, pe


# ---- offline spells ----------------------------------------------------------
def _offline_spells(
    *,
    status: pd.DataFrame | None,
    site: Site,
    ev_code: np.ndarray,
    ev_t: np.ndarray,
    start: int,
    end: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-space unknown spells (code, a, b) caused by the agent being offline."""
    empty = (np.empty(0, np.int64),) * 3
    if status is None or len(status) == 0:
        return empty
    require_columns(status, ("time", "agent", "online"), what="agent status")
    if "site" in status.columns:
        status = status[status["site"].astype(object) == site.id]
    agents = site.agents()
    a_code = codes_of(status["agent"], agents)
    online = pd.to_numeric(status["online"], errors="coerce").to_numpy(dtype=float)
    t = column_ns(status, "time", what="agent status")
    keep = (a_code >= 0) & ~np.isnan(online) & (t < end)
    a_code, online, t = a_code[keep], online[keep] > 0, t[keep]
    o = _order(a_code, t)
    a_code, online, t = a_code[o], online[o], t[o]
    # Only changes of state matter: an offline spell ends at the next "online".
    change = np.ones(len(t), dtype=bool)
    change[1:] = (a_code[1:] != a_code[:-1]) | (online[1:] != online[:-1])
    a_code, online, t = a_code[change], online[change], t[change]
    spell_end = _next_in_group(a_code, t, end)
    off = ~online
    if not off.any():
        return empty
    spells = pd.DataFrame({"agent": a_code[off], "a": t[off], "b": spell_end[off]})
    binding = pd.DataFrame(
        [
            (agents.index(sp.sensor.agent), i)
            for i, sp in enumerate(site.spaces)
            if sp.sensor is not None
        ],
        columns=["agent", "code"],
    )
    per_space = spells.merge(binding, on="agent")
    if per_space.empty:
        return empty
    # The space's next presence message (strictly after the offline point) ends it too.
    lookup = np.zeros(len(site.spaces), dtype=bool)
    lookup[per_space["code"].to_numpy()] = True
    wanted = lookup[ev_code]
    msgs = pd.DataFrame({"code": ev_code[wanted], "next_msg": ev_t[wanted]})
    msgs["t"] = msgs["next_msg"]
    msgs = msgs.sort_values("t", kind="stable")
    per_space = per_space.sort_values("a", kind="stable")
    joined = pd.merge_asof(
        per_space,
        msgs,
        left_on="a",
        right_on="t",
        by="code",
        direction="forward",
        allow_exact_matches=False,
    )
    nxt = joined["next_msg"].to_numpy(dtype=float)
    b = joined["b"].to_numpy(dtype=np.int64)
    b = np.where(np.isnan(nxt), b, np.minimum(b, np.nan_to_num(nxt, nan=0).astype(np.int64)))
    a = np.maximum(joined["a"].to_numpy(dtype=np.int64), start)
    b = np.minimum(b, end)
    ok = a < b
    return joined["code"].to_numpy(dtype=np.int64)[ok], a[ok], b[ok]


def _overlay_unknown(
    pieces: tuple[np.ndarray, ...], spells: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> tuple[np.ndarray, ...]:
    """Pieces with every moment inside a spell turned unknown (one sweep)."""
    code, s, e, st, cnt = pieces
    sc, sa, sb = spells
    n, m = len(s), len(sa)
    # Rows: piece starts (kind 1), spell starts (+1), spell ends (-1), swept in
    # (code, time) order; the state after the last row at an instant holds
    # until the next instant of the same space.
    all_code = np.concatenate([code, sc, sc])
    all_t = np.concatenate([s, sa, sb])
    delta = np.concatenate([np.zeros(n, np.int64), np.ones(m, np.int64), -np.ones(m, np.int64)])
    piece = np.concatenate([np.arange(n), np.full(2 * m, -1)])
    o = np.lexsort((all_t, all_code))
    all_code, all_t, delta, piece = all_code[o], all_t[o], delta[o], piece[o]
    active = np.cumsum(delta)  # spells are balanced within each space, so no reset needed
    # Forward-fill the piece in force; pieces cover each space completely from
    # its first row, and the lexsort puts a space's first piece start first.
    idx = np.where(piece >= 0, np.arange(len(piece)), 0)
    np.maximum.accumulate(idx, out=idx)
    in_force = piece[idx]
    last_at_instant = np.ones(len(all_t), dtype=bool)
    last_at_instant[:-1] = (all_code[1:] != all_code[:-1]) | (all_t[1:] != all_t[:-1])
    rows = np.flatnonzero(last_at_instant)
    r_code, r_t, r_piece, r_active = all_code[rows], all_t[rows], in_force[rows], active[rows]
    r_end = _next_in_group(r_code, r_t, e[r_piece])
    r_state = np.where(r_active > 0, _UNK, st[r_piece])
    r_cnt = np.where(r_active > 0, np.nan, cnt[r_piece])
    keep = r_t < r_end
    return _coalesce(r_code[keep], r_t[keep], r_end[keep], r_state[keep], r_cnt[keep])


def local_midnights(site: Site, lo: int, hi: int) -> np.ndarray:
    """UTC instants of the local midnights in [lo, hi], sorted."""
    first = pd.Timestamp(lo, unit="ns", tz="UTC").tz_convert(site.tz).date()
    last = pd.Timestamp(hi, unit="ns", tz="UTC").tz_convert(site.tz).date()
    # core.calendar's midnights: tz_localize raises where a zone skips or
    # repeats midnight (Havana, Santiago)
    days = [first + timedelta(days=i) for i in range((last - first).days + 2)]
    ns = np.array([to_ns(local_day_bounds(site, d)[0], name="midnight") for d in days])
    return ns[(ns >= lo) & (ns <= hi)]


def _merge_gaps(
    pieces: tuple[np.ndarray, ...], merge_gap_ns: int, midnights: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Free gaps shorter than the merge gap between two occupied pieces become
    occupied, unless the gap touches a local midnight: a day's figures then
    depend on that day's window alone, which the daily summaries rely on."""
    code, s, e, st, cnt = pieces
    if merge_gap_ns <= 0 or len(s) < 3:
        return pieces
    same_prev = np.zeros(len(s), dtype=bool)
    same_prev[1:] = code[1:] == code[:-1]
    same_next = np.zeros(len(s), dtype=bool)
    same_next[:-1] = code[1:] == code[:-1]
    prev_occ = np.zeros(len(s), dtype=bool)
    prev_occ[1:] = st[:-1] == _OCC
    next_occ = np.zeros(len(s), dtype=bool)
    next_occ[:-1] = st[1:] == _OCC
    fill = (st == _FREE) & (e - s < merge_gap_ns) & same_prev & same_next & prev_occ & next_occ
    if len(midnights):
        k = np.minimum(np.searchsorted(midnights, s, side="left"), len(midnights) - 1)
        fill &= ~((midnights[k] >= s) & (midnights[k] <= e))
    if not fill.any():
        return pieces
    st = np.where(fill, _OCC, st)
    # The people count of a bridged gap was not measured.
    cnt = np.where(fill, np.nan, cnt)
    return _coalesce(code, s, e, st, cnt)


def _frame(site: Site, pieces: tuple[np.ndarray, ...]) -> pd.DataFrame:
    code, s, e, st, cnt = pieces
    names = np.asarray(space_ids(site), dtype=object)
    return pd.DataFrame(
        {
            "space": names[code],
            "start": ns_to_utc(s),
            "end": ns_to_utc(e),
            "state": _STATE_NAMES[st],
            "count": cnt.astype(float),
        }
    )


# ---- public ------------------------------------------------------------------
def state_intervals(
    *,
    presence: pd.DataFrame,
    status: pd.DataFrame | None,
    site: Site,
    start: datetime | pd.Timestamp,
    end: datetime | pd.Timestamp,
    silence_factor: float = 2.5,
    merge_gap_s: float = 0,
) -> pd.DataFrame:
    """State intervals covering [start, end) for every space of ``site``.

    ``presence`` holds the ``presence`` points of the window together with each
    space's last point before ``start`` (``Store.last(by="space", before=start)``);
    ``status`` likewise the ``agent_status`` points (``Store.last(by="agent")``
    before ``start`` plus those of the window), or None. Rows of spaces or agents
    that are not in the site are ignored, as are points at or after ``end``.

    Returns columns space, start, end (datetime64[ns, UTC]), state ('occupied',
    'free' or 'unknown'), count (people count, NaN when not measured), sorted by
    space (in registry order) and start; per space the intervals are disjoint
    and cover [start, end) exactly. A free gap shorter than ``merge_gap_s``
    between two occupied intervals of a space is counted as occupied.
    """
    t0, t1 = to_ns(start, name="start"), to_ns(end, name="end")
    if t0 >= t1:
        raise ValueError(f"start ({start}) must be before end ({end})")
    if silence_factor <= 0:
        raise ValueError("silence_factor must be positive")
    if merge_gap_s < 0:
        raise ValueError("merge_gap_s must be zero or positive")
    require_columns(presence, ("time", "space", "occupied"), what="presence")

    code = space_codes(site, presence["space"])
    t = column_ns(presence, "time", what="presence")
    occupied = pd.to_numeric(presence["occupied"], errors="coerce").to_numpy(dtype=float)
    count = (
        pd.to_numeric(presence["count"], errors="coerce").to_numpy(dtype=float)
        if "count" in presence.columns
        else np.full(len(presence), np.nan)
    )
    hb = (
        pd.to_numeric(presence["hb"], errors="coerce").to_numpy(dtype=float)
        if "hb" in presence.columns
        else np.full(len(presence), np.nan)
    )
    keep = (code >= 0) & (t < t1)
    code, t, occupied, count, hb = code[keep], t[keep], occupied[keep], count[keep], hb[keep]
    o = _order(code, t)
    code, t, occupied, count, hb = code[o], t[o], occupied[o], count[o], hb[o]

    # A message without an occupied value says the sensor is alive but not what
    # it sees: its own interval is unknown.
    state = np.where(np.isnan(occupied), _UNK, np.where(occupied > 0, _OCC, _FREE))
    count = np.where(state == _OCC, count, np.nan)
    hb = np.where(np.isnan(hb) | (hb <= 0), site.heartbeat_s, hb)
    deadline = t + np.round(hb * silence_factor * _NS).astype(np.int64)
    nxt = _next_in_group(code, t, t1)
    silent = deadline < nxt
    known_end = np.minimum(nxt, deadline)

    # Runs of messages repeating one state with no silence between them become one
    # interval; this folds the heartbeats away before anything is sorted again.
    key = np.where(np.isnan(count), _NO_COUNT, count)
    run_start = np.ones(len(t), dtype=bool)
    run_start[1:] = (
        (code[1:] != code[:-1]) | (state[1:] != state[:-1]) | (key[1:] != key[:-1]) | silent[:-1]
    )
    first = np.flatnonzero(run_start)
    last = np.append(first[1:] - 1, len(t) - 1) if len(first) else first
    runs = (code[first], t[first], known_end[last], state[first], count[first])
    gaps = (
        code[silent],
        deadline[silent],
        nxt[silent],
        np.full(int(silent.sum()), _UNK),
        np.full(int(silent.sum()), np.nan),
    )
    # Unknown before a space's first message, and all along for spaces without any.
    n_spaces = len(site.spaces)
    first_t = np.full(n_spaces, t1, dtype=np.int64)
    if len(t):
        heads = np.ones(len(t), dtype=bool)
        heads[1:] = code[1:] != code[:-1]
        first_t[code[heads]] = t[heads]
    lead_code = np.arange(n_spaces)
    lead = (
        lead_code,
        np.full(n_spaces, t0, dtype=np.int64),
        first_t,
        np.full(n_spaces, _UNK),
        np.full(n_spaces, np.nan),
    )
    parts = [np.concatenate([a, b, c]) for a, b, c in zip(runs, gaps, lead, strict=True)]
    p_code, p_s, p_e, p_st, p_cnt = parts
    p_s, p_e = np.maximum(p_s, t0), np.minimum(p_e, t1)
    ok = p_s < p_e
    p_code, p_s, p_e, p_st, p_cnt = p_code[ok], p_s[ok], p_e[ok], p_st[ok], p_cnt[ok]
    o = np.lexsort((p_s, p_code))
    pieces = _coalesce(p_code[o], p_s[o], p_e[o], p_st[o].astype(np.int64), p_cnt[o])

    spells = _offline_spells(status=status, site=site, ev_code=code, ev_t=t, start=t0, end=t1)
    if len(spells[0]):
        pieces = _overlay_unknown(pieces, spells)
    if merge_gap_s > 0:
        pieces = _merge_gaps(pieces, round(merge_gap_s * _NS), local_midnights(site, t0, t1))
    return _frame(site, pieces)


def opening_windows(
    *, site: Site, start: datetime | pd.Timestamp, end: datetime | pd.Timestamp
) -> pd.DataFrame:
    """Opening intervals of the site within [start, end): columns start, end
    (UTC), day (the local date whose opening hours they are, as naive midnight).

    Public holidays, closure days and days without opening hours give none.
    One Python step per local day (a year is 366 steps)."""
    t0, t1 = to_ns(start, name="start"), to_ns(end, name="end")
    tz = site.tz
    first = pd.Timestamp(t0, unit="ns", tz="UTC").tz_convert(tz).date() - timedelta(days=1)
    last = pd.Timestamp(t1, unit="ns", tz="UTC").tz_convert(tz).date()
    rows: list[tuple[int, int, date]] = []
    day = first
    while day <= last:
        for a, b in opening_intervals_on(site, day):
            lo = max(to_ns(a, name="opening"), t0)
            hi = min(to_ns(b, name="opening"), t1)
            if lo < hi:
                rows.append((lo, hi, day))
        day += timedelta(days=1)
    rows.sort()
    return pd.DataFrame(
        {
            "start": ns_to_utc(np.array([r[0] for r in rows], dtype=np.int64)),
            "end": ns_to_utc(np.array([r[1] for r in rows], dtype=np.int64)),
            "day": np.array([np.datetime64(r[2], "D") for r in rows], dtype="datetime64[D]").astype(
                "datetime64[ns]"
            ),
        }
    )


def clip_to_opening(
    *,
    intervals: pd.DataFrame,
    site: Site,
    start: datetime | pd.Timestamp,
    end: datetime | pd.Timestamp,
) -> pd.DataFrame:
    """The parts of ``intervals`` inside the site's opening hours in [start, end).

    Intervals are cut at every opening and closing time, so each row lies within
    one opening interval of one local day; column ``day`` (naive midnight of the
    local date) says which. Public holidays and closure days drop out entirely.
    Because ``state_intervals`` covers every space completely, the durations of
    a space's rows add up to the opening time of the period.
    """
    require_columns(intervals, INTERVAL_COLUMNS, what="intervals")
    windows = opening_windows(site=site, start=start, end=end)
    w_s = column_ns(windows, "start", what="opening windows")
    w_e = column_ns(windows, "end", what="opening windows")
    s = column_ns(intervals, "start", what="intervals")
    e = column_ns(intervals, "end", what="intervals")
    if len(w_s) == 0:
        empty = intervals.iloc[:0][list(INTERVAL_COLUMNS)].copy()
        empty["day"] = np.array([], dtype="datetime64[ns]")
        return empty.reset_index(drop=True)
    edges = np.unique(np.concatenate([w_s, w_e]))
    src, ps, pe = split_at(s, e, edges)
    w = np.searchsorted(w_s, ps, side="right") - 1
    inside = (w >= 0) & (ps < w_e[np.maximum(w, 0)]) & (ps < pe)
    src, ps, pe, w = src[inside], ps[inside], pe[inside], w[inside]
    out = pd.DataFrame(
        {
            "space": intervals["space"].to_numpy(dtype=object)[src],
            "start": ns_to_utc(ps),
            "end": ns_to_utc(pe),
            "state": intervals["state"].to_numpy(dtype=object)[src],
            "count": intervals["count"].to_numpy(dtype=float)[src],
            "day": windows["day"].to_numpy()[w],
        }
    )
    return out.reset_index(drop=True)


def durations_s(intervals: pd.DataFrame) -> np.ndarray:
    """Length of each interval in seconds (float; exact to the nanosecond below 104 days)."""
    s = column_ns(intervals, "start", what="intervals")
    e = column_ns(intervals, "end", what="intervals")
    return (e - s) / _NS


__all__ = [
    "CLIPPED_COLUMNS",
    "FREE",
    "INTERVAL_COLUMNS",
    "OCCUPIED",
    "UNKNOWN",
    "clip_to_opening",
    "durations_s",
    "opening_windows",
    "split_at",
    "state_intervals",
]
