"""The vectorised peak sweep against a brute force count, on random intervals.

The sweep sorts each group's events once and reads a running sum; the brute
force below counts, at every moment an interval starts, how many of the
group's intervals cover it (a peak is always reached at some start), and takes
the first moment of the highest count. Both see the same clipped intervals.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.intervals import OCCUPIED, UNKNOWN
from metrics.peaks import peaks_of, prepare_peaks
from tests.metrics.conftest import make_site

SPACES = [
    {"id": "d1", "zone": "za"},
    {"id": "d2", "zone": "za"},
    {"id": "r1", "zone": "za", "type": "meeting_room"},
    {"id": "d3", "zone": "zb"},
    {"id": "d4", "zone": "zb"},
]
ZONES = [{"id": "za", "name": "A", "floor": "f1"}, {"id": "zb", "name": "B", "floor": "f1"}]
SITE = make_site(spaces=SPACES, zones=ZONES)
DAY0 = pd.Timestamp("2026-03-02")

spell = st.tuples(
    st.sampled_from([s["id"] for s in SPACES] + ["ghost"]),  # ghost: not in the site
    st.integers(0, 2),  # day
    # on a 10-minute grid, so that one interval often ends as another starts
    st.integers(0, 6).map(lambda k: 10 * k),  # start minute
    st.integers(1, 3).map(lambda k: 10 * k),  # length in minutes
    st.sampled_from([OCCUPIED, OCCUPIED, UNKNOWN, "free"]),
)


def _clipped(spells: list[tuple[str, int, int, int, str]]) -> pd.DataFrame:
    rows = []
    for space, day, a, n, state in spells:
        start = (DAY0 + pd.Timedelta(days=day)).tz_localize("UTC") + pd.Timedelta(minutes=a)
        rows.append((space, start, start + pd.Timedelta(minutes=n), state, np.nan,
                     DAY0 + pd.Timedelta(days=day)))  # fmt: skip
    frame = pd.DataFrame(rows, columns=["space", "start", "end", "state", "count", "day"])
    for c in ("start", "end"):
        frame[c] = pd.to_datetime(frame[c], utc=True).dt.as_unit("ns")
    frame["day"] = frame["day"].astype("datetime64[ns]")
    return frame


def _brute(frame: pd.DataFrame, *, by: str, types: set[str] | None, subset: set[str] | None):
    group = {s["id"]: {"zone": s["zone"], "site": SITE.id, "space": s["id"]}[by] for s in SPACES}
    kind = {s["id"]: s.get("type", "desk") for s in SPACES}
    ok = {
        s for s in group if (types is None or kind[s] in types) and (subset is None or s in subset)
    }
    spans: dict[tuple[str, pd.Timestamp], list[tuple[int, int]]] = defaultdict(list)
    cells = set()
    for r in frame.itertuples():
        if r.space not in ok:
            continue
        cells.add((group[r.space], r.day))
        if r.state == OCCUPIED:
            spans[(group[r.space], r.day)].append((r.start.value, r.end.value))
    groups = sorted({g for g, _ in cells})
    days = sorted({d for _, d in cells})
    out = {}
    for g in groups:
        for d in days:
            best, when = 0, None
            for t in sorted(a for a, _ in spans[(g, d)]):
                n = sum(a <= t < b for a, b in spans[(g, d)])
                if n > best:
                    best, when = n, t
            out[(g, d)] = (best, when)
    return out


@settings(max_examples=150, deadline=None)
@given(
    spells=st.lists(spell, max_size=25),
    by=st.sampled_from(["zone", "site", "space"]),
    types=st.sampled_from([None, {"desk"}, {"meeting_room"}]),
    subset=st.sampled_from([None, {"d1", "d3", "r1"}]),
)
def test_sweep_equals_brute_force(spells, by, types, subset) -> None:
    frame = _clipped(spells)
    got = peaks_of(prepare_peaks(intervals=frame, site=SITE), site=SITE, by=by,
                   space_types=types, spaces=subset)  # fmt: skip
    want = _brute(frame, by=by, types=types, subset=subset)
    assert len(got) == len(want)
    for r in got.itertuples():
        key = (getattr(r, by), r.day)
        best, when = want[key]
        assert r.peak == best, key
        assert (pd.isna(r.peak_at) and when is None) or r.peak_at.value == when, key
