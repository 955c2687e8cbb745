"""What one simulated local day holds: the true occupancy spells of each
space (``Spells``), the bookings made (``Booking``, weekly ``Series``) and the
people behind them (``DayPeople``). Made by ``simulators.people.simulate_day``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

import numpy as np

MIN_SPELL_MS = 30_000
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True, slots=True)
class Booking:
    booking_id: str
    space_id: str
    agency_id: str
    start_ms: int
    end_ms: int
    title: str
    attendees: int
    no_show: bool
    series_id: str | None = None


@dataclass(frozen=True, slots=True)
class Series:
    """A weekly recurring meeting (one RRULE in the iCalendar export)."""

    series_id: str
    space_id: str
    agency_id: str
    weekday: int
    start: time
    minutes: int
    title: str
    attendees: int


@dataclass
class Spells:
    """True occupancy spells of one day: parallel arrays, sorted by (space, start)."""

    space: np.ndarray  # int32 index into layout spaces
    start: np.ndarray  # int64 UTC ms
    end: np.ndarray  # int64 UTC ms
    count: np.ndarray  # int32 people present, -1 when not counted

    @classmethod
    def empty(cls) -> Spells:
        return cls(
            np.zeros(0, np.int32),
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros(0, np.int32),
        )

    def __len__(self) -> int:
        return len(self.space)


@dataclass
class DayPeople:
    day: date
    spells: Spells
    bookings: list[Booking] = field(default_factory=list)
    present: dict[str, int] = field(default_factory=dict)  # agency -> persons in
    overflow: int = 0  # persons who found no free desk
    visitors: int = 0
    #: the customers' visits: (in at the door ms, out at the door ms, people)
    visits: list[tuple[int, int, int]] = field(default_factory=list)
    #: desk space index -> agencies of the persons who sat there (in arrival order)
    desk_users: dict[int, list[str]] = field(default_factory=dict)
    #: every person's time at a desk: (desk space index, start ms, end ms, agency)
    sittings: list[tuple[int, int, int, str]] = field(default_factory=list)


def normalise(space: list[int], start: list[int], end: list[int], count: list[int]) -> Spells:
    """Sort by (space, start) and merge overlapping spells of a space, so that each
    space's spells are disjoint (contiguous ones with different counts stay apart)."""
    if not space:
        return Spells.empty()
    sp = np.asarray(space, np.int32)
    st = np.asarray(start, np.int64)
    en = np.asarray(end, np.int64)
    ct = np.asarray(count, np.int32)
    order = np.lexsort((st, sp))
    sp, st, en, ct = sp[order], st[order], en[order], ct[order]
    keep = en - st >= MIN_SPELL_MS
    sp, st, en, ct = sp[keep], st[keep], en[keep], ct[keep]
    out_sp: list[int] = []
    out_st: list[int] = []
    out_en: list[int] = []
    out_ct: list[int] = []
    for s, a, b, c in zip(sp.tolist(), st.tolist(), en.tolist(), ct.tolist(), strict=True):
        if out_sp and out_sp[-1] == s and a < out_en[-1]:
            # overlap inside one space (e.g. a walk-in meeting a late leaver): one spell
            out_en[-1] = max(out_en[-1], b)
            if c >= 0:
                out_ct[-1] = max(out_ct[-1], c)
            continue
        if out_sp and out_sp[-1] == s and a == out_en[-1] and c == out_ct[-1]:
            out_en[-1] = b
            continue
        out_sp.append(s)
        out_st.append(a)
        out_en.append(b)
        out_ct.append(c)
    return Spells(
        np.asarray(out_sp, np.int32),
        np.asarray(out_st, np.int64),
        np.asarray(out_en, np.int64),
        np.asarray(out_ct, np.int32),
    )
