"""``metrics.efficiency_sites.efficiency_of_sites``: the efficiency rows of
many sites in one pass equal ``efficiency_of`` of each site alone, to the
last bit, and a few figures worked by hand.

Two sites of the same plan (agency a, 8 htv: desks d1, d2; agency b, 2 htv:
desk d3; shared zone: desks d4, d5). Site ``one`` has presence pairs on
three days (two pairs on Monday), use and a site row; site ``two`` has no
pair at all, no use row for b and a site row whose utilisation is NaN (no
observed time).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from metrics.efficiency import efficiency_of
from metrics.efficiency_sites import efficiency_of_sites, group_totals
from tests.metrics.conftest import make_site

NAN = float("nan")
HOUR_NS = 3_600 * 10**9


def _site(site_id: str):  # type: ignore[no-untyped-def]
    site = make_site(
        spaces=[
            {"id": "d1", "zone": "za"},
            {"id": "d2", "zone": "za"},
            {"id": "d3", "zone": "zb"},
            {"id": "d4", "zone": "zs"},
            {"id": "d5", "zone": "zs"},
        ],
        zones=[
            {"id": "za", "name": "A", "floor": "f1", "agency": "a"},
            {"id": "zb", "name": "B", "floor": "f1", "agency": "b"},
            {"id": "zs", "name": "Shared", "floor": "f1"},
        ],
        agencies=[
            {"id": "a", "name": "A", "headcount_htv": 8},
            {"id": "b", "name": "B", "headcount_htv": 2},
        ],
        area_m2=100.0,
    )
    return type(site).model_validate({**site.model_dump(mode="python"), "id": site_id})


ONE, TWO = _site("one"), _site("two")
MON, TUE, WED, THU = (np.datetime64(f"2026-03-0{d}", "ns") for d in (2, 3, 4, 5))


def _pairs(rows: list[tuple[str, np.datetime64, int, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "agency": pd.Series([r[0] for r in rows], dtype=object),
            "day": np.array([r[1] for r in rows], dtype="datetime64[ns]"),
            "a": np.array([r[2] for r in rows], dtype=np.int64),
            "p": np.array([r[3] for r in rows], dtype=np.int64),
            "at": pd.to_datetime(np.zeros(len(rows), np.int64), utc=True),
            "use_ns": np.array([r[4] for r in rows], dtype=np.int64),
        }
    )


# one: a uses 3 h of desk on Monday, 1 h Tuesday; b 1 h Monday; Wednesday nothing in use
PAIRS_ONE = _pairs(
    [
        ("a", MON, 2, 0, 3 * HOUR_NS),
        ("a", MON, 1, 2, 3 * HOUR_NS),  # a's two pairs: (2, 0) and (1, 2)
        ("a", TUE, 1, 0, HOUR_NS),
        ("a", WED, 0, 0, 0),
        ("b", MON, 1, 1, HOUR_NS),
        ("b", TUE, 0, 1, 0),
        ("b", WED, 0, 0, 0),
    ]
)
PAIRS_TWO = _pairs([])
USE = {
    "one": pd.DataFrame(
        {"agency": ["a", "b"], "occupied_s": [10800.0, 3600.0],
         "utilisation": [0.25, 0.125], "coverage": [1.0, 0.75]}
    ),
    "two": pd.DataFrame(
        {"agency": ["a"], "occupied_s": [0.0], "utilisation": [NAN], "coverage": [0.0]}
    ),
}  # fmt: skip
TOTAL = {
    "one": pd.DataFrame({"site": ["one"], "utilisation": [0.2], "coverage": [0.9]}),
    "two": pd.DataFrame({"site": ["two"], "utilisation": [NAN], "coverage": [0.0]}),
}
# Thursday's peak is on a day without presence pairs: the site row leaves it out
SITE_PEAKS = {
    "one": pd.DataFrame(
        {"site": ["one"] * 4, "day": np.array([MON, TUE, WED, THU]), "peak": [4, 1, 0, 5]}
    ),
    "two": pd.DataFrame({"site": ["two"], "day": np.array([MON]), "peak": [3]}),
}
PAIRS = {"one": PAIRS_ONE, "two": PAIRS_TWO}


def _together(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return pd.concat([f.assign(site=s) for s, f in frames.items()], ignore_index=True)


@pytest.mark.parametrize("shared", [None, {"a": 1.0, "b": 3.0}])
def test_one_pass_equals_each_site_alone(shared: dict[str, float] | None) -> None:
    got = efficiency_of_sites(
        use=_together(USE),
        total=_together(TOTAL),
        pairs=_together(PAIRS),
        site_desk_peaks=_together(SITE_PEAKS),
        sites=[ONE, TWO],
        shared_use_s={"one": shared},
        margin=0.1,
    )
    assert sorted(got) == ["one", "two"]
    for site in (ONE, TWO):
        alone = efficiency_of(
            use=USE[site.id],
            total=TOTAL[site.id],
            presence=PAIRS[site.id],
            site_desk_peaks=SITE_PEAKS[site.id],
            site=site,
            shared_use_s=shared if site.id == "one" else None,
            margin=0.1,
        )
        pd.testing.assert_frame_equal(got[site.id], alone, check_exact=True)


def test_figures_by_hand() -> None:
    got = efficiency_of_sites(
        use=_together(USE),
        total=_together(TOTAL),
        pairs=_together(PAIRS),
        site_desk_peaks=_together(SITE_PEAKS),
        sites=[ONE, TWO],
    )
    one = got["one"].set_index("agency")
    # pool: a attributed 3 h + 1 h, b 1 h (a day's pairs carry its use once)
    assert one.loc["a", "pool_share"] == float(Fraction(4, 5))
    # a's daily peaks: Mon max(2 + 0.8 x 0, 1 + 0.8 x 2) = 2.6, Tue 1, Wed 0
    assert one.loc["a", "peak_presence_max"] == pytest.approx(2.6)
    assert one.loc["a", "peak_presence_mean"] == pytest.approx(3.6 / 3)
    assert one.loc["a", "open_days"] == 3
    # b: Mon 1 + 0.2 x 1 = 1.2, Tue 0.2, Wed 0
    assert one.loc["b", "peak_presence_max"] == pytest.approx(1.2)
    # the site row: Monday to Wednesday's desk peaks (4, 1, 0), not Thursday's 5
    assert one.loc["_site", "peak_presence_max"] == 4.0
    assert one.loc["_site", "open_days"] == 3
    two = got["two"].set_index("agency")
    # no pairs: the pool by headcount (8 : 2), no day measured, nothing released
    assert two.loc["a", "pool_share"] == 0.8
    assert two.loc["a", "open_days"] == 0 and two.loc["_site", "open_days"] == 0
    assert two.loc["_site", "releasable_desks"] == 0
    # a NaN site utilisation is added up as pandas adds one row: 0.0
    assert two.loc["_site", "utilisation"] == 0.0
    assert np.isnan(two.loc["b", "utilisation"])


def test_group_totals_are_exact_int64_sums() -> None:
    big = 2**61  # float64 sums would round this
    rows = pd.DataFrame(
        {
            "site": ["x", "y", "x", "x"],
            "group": ["a", "a", "b", "a"],
            "opening_ns": [big, 1, 2, 3],
            "unknown_ns": [0, 0, 0, 1],
            "occupied_ns": [5, 6, 7, 8],
        }
    )
    got = group_totals(rows, by="agency")
    assert got.to_dict("records") == [
        {"site": "x", "agency": "a", "opening_ns": big + 3, "unknown_ns": 1, "occupied_ns": 13},
        {"site": "x", "agency": "b", "opening_ns": 2, "unknown_ns": 0, "occupied_ns": 7},
        {"site": "y", "agency": "a", "opening_ns": 1, "unknown_ns": 0, "occupied_ns": 6},
    ]
