"""Agency presence: how many of an agency's staff sit at desks at once (docs/metrics.md,
"Agency presence and use rate").

An agency's presence at a moment = its occupied dedicated desks + the occupied
shared desks attributed to it. Attribution is the charging rule
(``charging.attribution.attribute``: a dedicated zone, else a booking, else the
shared pool) and the pool is shared out as charging shares it: in proportion to
the agencies' attributed use (``charging.pricing.use_shares``), here their
attributed desk-seconds of the period.

The pool share is a figure of the *period* (a month's share differs from a
day's), but the daily peak must be exact for any share. So per local day and
agency the sweep keeps only the Pareto-maximal pairs (A, P): A = the agency's
occupied dedicated and booked desks, P = the occupied unbooked shared desks,
each with the first moment it occurs. For a share s the day's peak is then
max over the pairs of A + s x P: a dominated pair can never be the maximum.
These pairs are what the daily summaries store (``summaries.presence``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction

import numpy as np
import pandas as pd

from charging.attribution import BOOKING, DEDICATED, POOL, attribute, to_ns
from charging.bookings import Booking
from charging.pricing import use_shares
from core.registry import Site, SpaceType
from metrics.intervals import UNKNOWN

#: one row per Pareto-maximal (a, p) pair of an agency and local day
PAIR_COLUMNS = ("agency", "day", "a", "p", "at", "use_ns")
#: one row per agency and open day
DAILY_COLUMNS = ("agency", "day", "peak", "peak_at")
#: the right-sizing margin when none is configured (10 %)
DEFAULT_MARGIN = 0.10
_NAT = np.iinfo(np.int64).min


def empty_pairs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "agency": pd.Series([], dtype=object),
            "day": pd.Series([], dtype="datetime64[ns]"),
            "a": pd.Series([], dtype=np.int64),
            "p": pd.Series([], dtype=np.int64),
            "at": pd.Series([], dtype="datetime64[ns, UTC]"),
            "use_ns": pd.Series([], dtype=np.int64),
        }
    )


def presence_pairs(
    *,
    intervals: pd.DataFrame,
    bookings: Sequence[Booking],
    site: Site,
) -> pd.DataFrame:
    """The Pareto-maximal (a, p) pairs of every agency on every open day.

    ``intervals``: clipped to opening hours (``clip_to_opening``), so no piece
    crosses a local day; its ``day`` column names the open days (as for
    ``metrics.peaks``: the days with intervals of a desk). ``bookings``: the
    site's validated bookings of the period. Columns (PAIR_COLUMNS): agency,
    day (naive local midnight), a, p, at (the first moment the pair holds,
    UTC; NaT for the (0, 0) row of a day on which the agency had no desk in
    use) and use_ns (the agency's attributed desk-nanoseconds that day, the
    same on each row of the day). Sorted by agency, day, a descending."""
    desks = {s.id for s in site.spaces if s.type is SpaceType.DESK}
    # a day on which no desk was observed at all (sensors or agents down) is no
    # measurement of presence: it would pull the mean of daily peaks down
    observed = intervals["state"].to_numpy(dtype=object) != UNKNOWN
    on_desk = intervals["space"].astype(str).isin(desks).to_numpy() & observed
    open_days = np.unique(intervals["day"].to_numpy(dtype="datetime64[ns]")[on_desk])
    agencies = [a.id for a in site.agencies]
    pieces = _desk_pieces(intervals=intervals, bookings=bookings, site=site)
    parts = [empty_pairs()]
    for code, agency in enumerate(agencies):
        parts.append(_agency_pairs(pieces, code, agency, open_days, site))
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["agency", "day", "a"], ascending=[True, True, False]).reset_index(
        drop=True
    )[list(PAIR_COLUMNS)]


def _desk_pieces(
    *, intervals: pd.DataFrame, bookings: Sequence[Booking], site: Site
) -> pd.DataFrame:
    """The attributed desk pieces: s, e (ns), day (naive local midnight), who
    (agency index for dedicated and booked pieces, -1 for the pool)."""
    desks = {s.id for s in site.spaces if s.type is SpaceType.DESK}
    iv = intervals[intervals["space"].astype(str).isin(desks)]
    pieces = attribute(
        intervals=iv[["space", "start", "end", "state"]], bookings=bookings, site=site
    )
    code = {a.id: i for i, a in enumerate(site.agencies)}
    who = np.array(
        [
            code[a] if b in (DEDICATED, BOOKING) else -1
            for a, b in zip(pieces["agency"], pieces["basis"], strict=True)
        ],
        dtype=np.int64,
    )
    assert set(pieces["basis"]) <= {DEDICATED, BOOKING, POOL}
    s = to_ns(pieces["start"]) if len(pieces) else np.empty(0, np.int64)
    local = pd.DatetimeIndex(pd.to_datetime(s, utc=True)).tz_convert(site.tz).tz_localize(None)
    return pd.DataFrame(
        {
            "s": s,
            "e": to_ns(pieces["end"]) if len(pieces) else np.empty(0, np.int64),
            "day": np.asarray(local.normalize(), dtype="datetime64[ns]"),
            "who": who,
        }
    )


def _agency_pairs(
    pieces: pd.DataFrame, code: int, agency: str, open_days: np.ndarray, site: Site
) -> pd.DataFrame:
    mine = pieces[(pieces["who"] == code) | (pieces["who"] == -1)]
    is_a = (mine["who"] == code).to_numpy()
    s, e = mine["s"].to_numpy(), mine["e"].to_numpy()
    t = np.concatenate([s, e])
    da = np.concatenate([is_a.astype(np.int64), -is_a.astype(np.int64)])
    dp = np.concatenate([(~is_a).astype(np.int64), -(~is_a).astype(np.int64)])
    order = np.argsort(t, kind="stable")
    t, da, dp = t[order], np.cumsum(da[order]), np.cumsum(dp[order])
    # the state after every event of an instant: the last row of each instant
    last = np.r_[t[1:] != t[:-1], True] if len(t) else np.zeros(0, bool)
    t, a, p = t[last], da[last], dp[last]
    local = pd.DatetimeIndex(pd.to_datetime(t, utc=True)).tz_convert(site.tz).tz_localize(None)
    states = pd.DataFrame(
        {"day": np.asarray(local.normalize(), dtype="datetime64[ns]"), "a": a, "p": p, "t": t}
    )
    states = states[(states["a"] > 0) | (states["p"] > 0)]
    use = (e[is_a] - s[is_a]).astype(np.int64)
    use_of = pd.Series(use).groupby(mine["day"].to_numpy()[is_a]).sum()
    # (a desc, p desc, t asc): the first row per (day, a) has its largest p, earliest
    states = states.sort_values(["day", "a", "p", "t"], ascending=[True, False, False, True])
    states = states.drop_duplicates(["day", "a"], keep="first")
    best = states.groupby("day")["p"].cummax()
    before = best.groupby(states["day"]).shift(fill_value=-1)
    pareto = states[(states["p"] > before).to_numpy()]
    wanted = pd.DatetimeIndex(open_days)
    pareto = pareto[pareto["day"].isin(wanted)]
    idle = wanted.difference(pd.DatetimeIndex(pareto["day"].unique()))
    days = np.concatenate(
        [pareto["day"].to_numpy(dtype="datetime64[ns]"), np.asarray(idle, "datetime64[ns]")]
    )
    uses = use_of.reindex(pd.DatetimeIndex(days), fill_value=0).to_numpy(dtype=np.int64)
    return pd.DataFrame(
        {
            "agency": pd.Series(np.full(len(days), agency, dtype=object), dtype=object),
            "day": days,
            "a": np.r_[pareto["a"].to_numpy(np.int64), np.zeros(len(idle), np.int64)],
            "p": np.r_[pareto["p"].to_numpy(np.int64), np.zeros(len(idle), np.int64)],
            "at": pd.to_datetime(
                np.r_[pareto["t"].to_numpy(np.int64), np.full(len(idle), _NAT)], utc=True
            ).as_unit("ns"),
            "use_ns": uses,
        }
    )


def pool_shares(*, pairs: pd.DataFrame, site: Site) -> dict[str, Fraction]:
    """Each agency's share of the shared pool over the period of ``pairs``: by
    its attributed desk-seconds, as charging shares its pool (falling back to
    headcount when nothing was attributed, ``charging.pricing.use_shares``)."""
    ids = [a.id for a in site.agencies]
    names, code, first = _agency_days(pairs)
    totals = np.zeros(len(names), np.int64)  # exact: int64, not a float bincount
    np.add.at(totals, code[first], pairs["use_ns"].to_numpy(dtype=np.int64)[first])
    of = dict(zip(names.tolist(), totals.tolist(), strict=True))
    attributed = {a: Fraction(int(of.get(a, 0))) for a in ids}
    htv = {a.id: Fraction(str(a.headcount_htv)) for a in site.agencies}
    return use_shares(ids=ids, attributed=attributed, htv=htv)[0]


def _agency_days(pairs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the agencies sorted, each pair's agency code, the first pair of each
    agency and day in the given order: ``drop_duplicates(["agency", "day"])``)."""
    names, code = np.unique(pairs["agency"].to_numpy(dtype=str), return_inverse=True)
    code = code.ravel()
    day = pairs["day"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    order = np.lexsort((day, code))  # stable: the first of a group is first in the frame
    c, d = code[order], day[order]
    new = np.ones(len(order), bool)
    new[1:] = (c[1:] != c[:-1]) | (d[1:] != d[:-1])
    return names, code, order[new]


def daily_peaks_of(*, pairs: pd.DataFrame, shares: Mapping[str, Fraction]) -> dict[str, np.ndarray]:
    """Per agency, the ``peak`` column of ``daily_presence`` (its days in
    order) without the moments: max over each day's pairs of a + share x p,
    the same floats."""
    if pairs.empty:
        return {}
    names, code, _ = _agency_days(pairs)
    share = np.array([float(shares[n]) if n in shares else np.nan for n in names.tolist()])
    peak = pairs["a"].to_numpy(float) + share[code] * pairs["p"].to_numpy(float)
    day = pairs["day"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    order = np.lexsort((day, code))
    c, d, v = code[order], day[order], peak[order]
    new = np.ones(len(order), bool)
    new[1:] = (c[1:] != c[:-1]) | (d[1:] != d[:-1])
    starts = np.flatnonzero(new)
    top = np.fmax.reduceat(v, starts)  # NaN only when every pair's is (as the sort)
    of = c[starts]
    return {str(n): top[of == i] for i, n in enumerate(names.tolist()) if (of == i).any()}


def daily_presence(*, pairs: pd.DataFrame, shares: Mapping[str, Fraction]) -> pd.DataFrame:
    """Per agency and day: peak = max over the day's pairs of a + share x p,
    and peak_at, the first moment of the pair that gives it (NaT for 0)."""
    if pairs.empty:
        return pd.DataFrame(
            {
                "agency": pd.Series([], dtype=object),
                "day": pd.Series([], dtype="datetime64[ns]"),
                "peak": pd.Series([], dtype=float),
                "peak_at": pd.Series([], dtype="datetime64[ns, UTC]"),
            }
        )
    share = pairs["agency"].map({a: float(s) for a, s in shares.items()}).to_numpy(dtype=float)
    frame = pairs.assign(peak=pairs["a"].to_numpy(float) + share * pairs["p"].to_numpy(float))
    frame = frame.sort_values(["agency", "day", "peak", "at"], ascending=[True, True, False, True])
    top = frame.drop_duplicates(["agency", "day"], keep="first")
    out = top.rename(columns={"at": "peak_at"})[list(DAILY_COLUMNS)]
    return out.reset_index(drop=True)


def desks_needed(p90_peak: float, margin: float) -> int:
    """ceil(ceil(p90 of the daily peaks) x (1 + margin)): whole desks, with the
    margin on top (the rounding guards against 3.0000000001 from float
    interpolation demanding a fourth)."""
    if math.isnan(p90_peak):
        return 0
    keep = math.ceil(round(p90_peak, 9))
    return math.ceil(round(keep * (1.0 + margin), 9))


__all__ = [
    "DAILY_COLUMNS",
    "DEFAULT_MARGIN",
    "PAIR_COLUMNS",
    "daily_peaks_of",
    "daily_presence",
    "desks_needed",
    "empty_pairs",
    "pool_shares",
    "presence_pairs",
]
