"""The daily summaries of a run of local days, computed from raw points (pure).

Per site, space and local day: the hour cells and day cells of
``metrics.cells``; per group level, space-type filter and view, the exact
daily peaks of ``metrics.peaks``; per day the fingerprint of the state
carried into the next day. The figures of a day depend only on the points of
that day and on each space's and agent's last point before it
(``metrics.intervals``), so a run of days computed in one window gives the
same rows as each day computed alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from core.calendar import local_day_bounds
from core.registry import Site
from metrics.cells import day_cells, hour_cells
from metrics.energy import energy_hours
from metrics.intervals import clip_to_opening, codes_of, column_ns, space_codes, state_intervals
from metrics.peaks import PeakInput, peak_columns, prepare_peaks
from metrics.presence import empty_pairs, presence_pairs
from metrics.utilisation import SHARED
from summaries.counts import count_rows
from summaries.raw import RawInputs

if TYPE_CHECKING:
    from charging.bookings import Booking

#: every view: what a key that sees all spaces sees
ALL = "*"
#: group levels whose peaks are stored for every space-type filter
FILTERED_LEVELS = ("zone", "floor", "site", "agency")
#: group levels whose groups may mix an agency's visible spaces with foreign ones:
#: stored again per agency view, over the spaces that agency may see
VIEW_LEVELS = ("floor", "site", "space_type")


@dataclass(frozen=True, slots=True)
class DaySummaries:
    """The summaries of a run of days. ``hours``: hour cells; ``days``: day
    cells; ``peaks``: columns level, types, view, group, day, spaces, peak,
    peak_at; ``carry``: local day -> fingerprint of the state carried out of it."""

    hours: pd.DataFrame
    days: pd.DataFrame
    peaks: pd.DataFrame
    carry: dict[date, str]
    #: the clipped intervals they were computed from (for the Grafana rollups)
    clipped: pd.DataFrame
    #: agency presence pairs (``metrics.presence.presence_pairs``)
    presence: pd.DataFrame = field(default_factory=empty_pairs)
    #: energy hours per zone (``metrics.energy.energy_hours``; ``summaries.energy``)
    energy: pd.DataFrame | None = None
    #: the entrance counts' rows (``summaries.counts.count_rows``; None: none read)
    counts: pd.DataFrame | None = None


def view_spaces(site: Site, agency: str) -> frozenset[str]:
    """The spaces an agency's figures may draw on: its own dedicated spaces and
    the spaces of shared zones, never another agency's dedicated spaces."""
    zones = {z.id for z in site.zones if z.agency in (None, agency)}
    return frozenset(s.id for s in site.spaces if s.zone in zones)


def peak_combinations(site: Site) -> list[tuple[str, str, str]]:
    """(level, types, view) of every stored peak table of a site."""
    types = sorted({s.type.value for s in site.spaces})
    combos = [("space", ALL, ALL), ("space_type", ALL, ALL)]
    combos += [(level, t, ALL) for level in FILTERED_LEVELS for t in (ALL, *types)]
    for agency in (a.id for a in site.agencies):
        combos += [("space_type", ALL, agency)]
        combos += [(level, t, agency) for level in ("floor", "site") for t in (ALL, *types)]
    return combos


def summarise(
    *,
    raw: RawInputs,
    site: Site,
    first: date,
    last: date,
    silence_factor: float,
    merge_gap_s: float,
    bookings: Sequence[Booking] = (),
    counts: pd.DataFrame | None = None,
) -> DaySummaries:
    """Summaries of the local days ``first``..``last`` (inclusive) from the raw
    points of that window (``summaries.raw.read_inputs``) and the site's
    bookings of the window (for the agency presence); ``counts``: the raw
    entrance counts of the window (``summaries.counts.read_raw_counts``)."""
    start = local_day_bounds(site, first)[0]
    end = local_day_bounds(site, last)[1]
    intervals = state_intervals(
        presence=raw.presence,
        status=raw.status,
        site=site,
        start=start,
        end=end,
        silence_factor=silence_factor,
        merge_gap_s=merge_gap_s,
    )
    clipped = clip_to_opening(intervals=intervals, site=site, start=start, end=end)
    hours = hour_cells(intervals=clipped, site=site)
    days = day_cells(cells=hours, site=site)
    prep = prepare_peaks(intervals=clipped, site=site)
    peaks = peak_tables(prep, site, peak_combinations(site))
    boundaries = [local_day_bounds(site, first + timedelta(days=i))[1] for i in _days(first, last)]
    prints = carry_fingerprints(
        raw=raw, site=site, boundaries=[pd.Timestamp(b) for b in boundaries]
    )
    carry = {first + timedelta(days=i): prints[i] for i in _days(first, last)}
    presence = presence_pairs(intervals=clipped, bookings=bookings, site=site)
    energy = energy_hours(intervals=intervals, site=site, start=start, end=end)
    return DaySummaries(
        hours=hours,
        days=days,
        peaks=peaks,
        carry=carry,
        clipped=clipped,
        presence=presence,
        energy=energy,
        counts=None if counts is None else count_rows(counts, site=site),
    )


def _days(first: date, last: date) -> Iterable[int]:
    return range((last - first).days + 1)


PEAK_TABLE_COLUMNS = ("level", "types", "view", "group", "day", "spaces", "peak", "peak_at")


def peak_table(prep: PeakInput, site: Site, *, level: str, types: str, view: str) -> pd.DataFrame:
    """Daily peaks of one stored combination: group level, space-type filter
    (``ALL`` or a type) and view (``ALL`` or an agency, see ``view_spaces``);
    in a view, a group's size counts only the spaces the view may draw on."""
    return peak_tables(prep, site, [(level, types, view)])


def peak_tables(
    prep: PeakInput, site: Site, combinations: Sequence[tuple[str, str, str]]
) -> pd.DataFrame:
    """``peak_table`` of several combinations, one after the other, built as
    one frame (a hundred small frames joined cost more than their sweeps)."""
    parts: dict[str, list[Any]] = {c: [] for c in PEAK_TABLE_COLUMNS}
    for level, types, view in combinations:
        cols = peak_columns(
            prep,
            site=site,
            by=level,  # type: ignore[arg-type]
            space_types=None if types == ALL else {types},
            spaces=None if view == ALL else view_spaces(site, view),
        )
        n = len(cols["peak"])
        for c, v in (("level", level), ("types", types), ("view", view)):
            parts[c].append(np.full(n, v, dtype=object))
        for c in ("group", "day", "spaces", "peak"):
            parts[c].append(cols[c])
        parts["peak_at"].append(cols["peak_at"].asi8)
    joined = {c: np.concatenate(v) if v else np.empty(0) for c, v in parts.items()}
    return pd.DataFrame(
        {
            "level": joined["level"].astype(object),
            "types": joined["types"].astype(object),
            "view": joined["view"].astype(object),
            "group": joined["group"].astype(object),
            "day": joined["day"].astype("datetime64[ns]"),
            "spaces": joined["spaces"].astype(np.int64),
            "peak": joined["peak"].astype(np.int64),
            "peak_at": pd.to_datetime(joined["peak_at"].astype(np.int64), utc=True).as_unit("ns"),
        }
    )


def carry_fingerprints(*, raw: RawInputs, site: Site, boundaries: list[pd.Timestamp]) -> list[str]:
    """For each boundary b: a digest of every space's last presence point and
    every agent's last status point before b: the whole state a day carries
    into the next. When a recomputed day's digest is unchanged, later days are
    unaffected by whatever changed it."""
    presence = _Sorted(
        space_codes(site, raw.presence["space"]), raw.presence, ("occupied", "count", "hb")
    )
    if raw.status is not None:
        status = _Sorted(codes_of(raw.status["agent"], site.agents()), raw.status, ("online",))
    else:
        status = _Sorted(np.empty(0, np.int64), None, ("online",))
    bounds = np.asarray([int(b.value) for b in boundaries], dtype=np.int64)
    lasts = (presence.last_before(bounds), status.last_before(bounds))
    out = []
    for i in range(len(bounds)):
        h = hashlib.blake2b(digest_size=12)
        for part, last in zip((presence, status), lasts, strict=True):
            idx = last[i]
            h.update(part.code[idx].tobytes())
            h.update(part.t[idx].tobytes())
            h.update(np.nan_to_num(part.values[idx], nan=-1.0).tobytes())
            h.update(b"|")
        out.append(h.hexdigest())
    return out


class _Sorted:
    """Rows of one kind sorted by (code, time, row), for last-before look-ups."""

    def __init__(
        self, code: np.ndarray, frame: pd.DataFrame | None, columns: tuple[str, ...]
    ) -> None:
        if frame is None:
            self.code, self.t = code, np.empty(0, np.int64)
            self.values = np.empty((0, len(columns)))
        else:
            t = column_ns(frame, "time", what="points")
            keep = np.flatnonzero(code >= 0)
            tk, ck = t[keep], code[keep]
            if len(tk) < 2 or bool((tk[1:] >= tk[:-1]).all()):
                # already in time order (what stores return): a stable sort by code
                # (small integers: numpy's stable sort is then a radix sort)
                small = np.int16 if not len(ck) or int(ck.max()) < 2**15 else np.int64
                order = keep[np.argsort(ck.astype(small), kind="stable")]
            else:
                order = keep[np.lexsort((keep, tk, ck))]
            self.code, self.t = code[order], t[order]
            self.values = _value_matrix(frame, columns)[order]
        heads = (
            np.flatnonzero(np.r_[True, self.code[1:] != self.code[:-1]])
            if len(self.code)
            else self.code
        )
        self.bounds = np.r_[heads, len(self.code)].astype(np.int64)

    def last_before(self, bounds: np.ndarray) -> list[np.ndarray]:
        """For each bound b: the index of each code's last row with time < b
        (codes with none left out), codes in order."""
        if not len(self.code):
            return [np.empty(0, np.int64) for _ in bounds]
        heads, ends = self.bounds[:-1], self.bounds[1:]
        # per code, where each bound falls in that code's times (one call per code)
        k = np.stack(
            [
                lo + np.searchsorted(self.t[lo:hi], bounds, side="left") - 1
                for lo, hi in zip(heads, ends, strict=True)
            ]
        )  # codes x bounds
        return [k[:, j][k[:, j] >= heads] for j in range(len(bounds))]


def _value_matrix(frame: pd.DataFrame, columns: tuple[str, ...]) -> np.ndarray:
    cols = [
        pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float)
        if c in frame.columns
        else np.full(len(frame), np.nan)
        for c in columns
    ]
    return np.column_stack(cols) if cols else np.empty((len(frame), 0))


__all__ = [
    "ALL",
    "SHARED",
    "DaySummaries",
    "carry_fingerprints",
    "peak_combinations",
    "peak_table",
    "peak_tables",
    "summarise",
    "view_spaces",
]
