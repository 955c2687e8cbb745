"""Agency presence, use rate and right-sizing worked by hand: the worked example
of docs/metrics.md ("Agency presence and use rate"), with a booking and pool shares.

Site open Mon-Fri 08:00-16:00 (Europe/Helsinki), Monday 2 and Tuesday 3 March 2026.
Agency a (4 htv): zone za, desks a1..a4. Agency b (3 htv): zone zb, desk b1.
Shared zone zs: desks s1, s2, s3. Every desk 5 m2. One booking: b books s1
10:00-11:00 on Monday.

Mon: a1 09-12, a2 10-11, b1 09-15, s1 10-12, s2 10:30-11:30, s3 13-14.
Tue: a1 09-10, b1 09-11, s1 09:30-10:30, s2 09:30-10:30.
"""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction

import pandas as pd
import pytest

from charging.bookings import Booking
from metrics import clip_to_opening, state_intervals
from metrics.efficiency import efficiency_report
from metrics.presence import daily_presence, desks_needed, pool_shares, presence_pairs
from tests.metrics import worked_day
from tests.metrics.conftest import local, make_site, presence

USE = [
    ("02", "a1", "09:00", "12:00"),
    ("02", "a2", "10:00", "11:00"),
    ("02", "b1", "09:00", "15:00"),
    ("02", "s1", "10:00", "12:00"),
    ("02", "s2", "10:30", "11:30"),
    ("02", "s3", "13:00", "14:00"),
    ("03", "a1", "09:00", "10:00"),
    ("03", "b1", "09:00", "11:00"),
    ("03", "s1", "09:30", "10:30"),
    ("03", "s2", "09:30", "10:30"),
]


def _site():
    desks = [("a1", "za"), ("a2", "za"), ("a3", "za"), ("a4", "za"), ("b1", "zb")]
    desks += [("s1", "zs"), ("s2", "zs"), ("s3", "zs")]
    return make_site(
        spaces=[{"id": d, "zone": z} for d, z in desks],
        zones=[
            {"id": "za", "name": "A", "floor": "f1", "agency": "a"},
            {"id": "zb", "name": "B", "floor": "f1", "agency": "b"},
            {"id": "zs", "name": "Shared", "floor": "f1"},
        ],
        agencies=[
            {"id": "a", "name": "A", "headcount_htv": 4},
            {"id": "b", "name": "B", "headcount_htv": 3},
        ],
        opening=worked_day.OFFICE_HOURS,
        area_m2=200.0,
    )


def _booking() -> Booking:
    return Booking(
        id="b:1",
        site="testsite",
        space="s1",
        agency="b",
        start=local("2026-03-02 10:00").to_pydatetime(),
        end=local("2026-03-02 11:00").to_pydatetime(),
    )


def _clipped(site):
    rows = [(local("2026-03-02 07:00"), s.id, 0) for s in site.spaces]
    for day, desk, a, b in USE:
        rows += [(local(f"2026-03-{day} {a}"), desk, 1), (local(f"2026-03-{day} {b}"), desk, 0)]
    start, end = local("2026-03-02 00:00"), local("2026-03-04 00:00")
    iv = state_intervals(
        presence=presence(site, rows), status=None, site=site, start=start, end=end
    )
    return clip_to_opening(intervals=iv, site=site, start=start, end=end)


def _at(text: str) -> datetime:
    return local(text).to_pydatetime()


def test_pareto_pairs_by_hand() -> None:
    site = _site()
    pairs = presence_pairs(intervals=_clipped(site), bookings=[_booking()], site=site)
    got = {
        (r.agency, r.day.day, r.a, r.p, r.at.to_pydatetime(), r.use_ns // 10**9)
        for r in pairs.itertuples()
    }
    # a, Monday: (1,0)@9, (2,0)@10, (2,1)@10:30, (1,2)@11 (a2 ends, s1's booking
    # ends and s1 joins the pool), (1,1)@11:30, (0,1)@13: Pareto-maximal are
    # (2,1) and (1,2). Its attributed desk time: a1 3 h + a2 1 h = 14,400 s.
    # b, Monday: b1 and s1 (booked) make (2,0)@10, then (2,1)@10:30, (1,2)@11,
    # ... (1,1)@13: (2,1) and (1,2) again; b1 6 h + s1 booked 1 h = 25,200 s.
    # Tuesday: a (1,2)@9:30 (a1 1 h); b (1,2)@9:30 (b1 2 h).
    assert got == {
        ("a", 2, 2, 1, _at("2026-03-02 10:30"), 14_400),
        ("a", 2, 1, 2, _at("2026-03-02 11:00"), 14_400),
        ("b", 2, 2, 1, _at("2026-03-02 10:30"), 25_200),
        ("b", 2, 1, 2, _at("2026-03-02 11:00"), 25_200),
        ("a", 3, 1, 2, _at("2026-03-03 09:30"), 3_600),
        ("b", 3, 1, 2, _at("2026-03-03 09:30"), 7_200),
    }


def test_pool_shares_and_daily_peaks_by_hand() -> None:
    site = _site()
    pairs = presence_pairs(intervals=_clipped(site), bookings=[_booking()], site=site)
    shares = pool_shares(pairs=pairs, site=site)
    # attributed desk time: a 5 h, b 9 h (a booking counts as b's, as in charging)
    assert shares == {"a": Fraction(5, 14), "b": Fraction(9, 14)}
    daily = daily_presence(pairs=pairs, shares=shares).set_index(["agency", "day"])
    mon, tue = pd.Timestamp("2026-03-02"), pd.Timestamp("2026-03-03")
    # a Mon: max(2 + 5/14, 1 + 10/14) = 33/14 at 10:30; Tue: 1 + 10/14 = 24/14.
    # b Mon: max(2 + 9/14, 1 + 18/14) = 37/14 at 10:30; Tue: 1 + 18/14 = 32/14.
    assert daily.at[("a", mon), "peak"] == pytest.approx(33 / 14, abs=1e-12)
    assert daily.at[("a", tue), "peak"] == pytest.approx(24 / 14, abs=1e-12)
    assert daily.at[("b", mon), "peak"] == pytest.approx(37 / 14, abs=1e-12)
    assert daily.at[("b", tue), "peak"] == pytest.approx(32 / 14, abs=1e-12)
    assert daily.at[("a", mon), "peak_at"] == local("2026-03-02 10:30")
    # with the whole pool (a share of 1) both of a's Monday pairs give 3: the
    # earlier moment, 10:30, is the peak's
    alone = daily_presence(pairs=pairs, shares={"a": Fraction(1), "b": Fraction(0)})
    alone = alone.set_index(["agency", "day"])
    assert alone.at[("a", mon), "peak"] == 3.0
    assert alone.at[("a", mon), "peak_at"] == local("2026-03-02 10:30")
    assert alone.at[("b", mon), "peak"] == 2.0


def test_use_rate_and_right_sizing_by_hand() -> None:
    site = _site()
    r = efficiency_report(intervals=_clipped(site), site=site, bookings=[_booking()])
    r = r.set_index("agency")
    # a (4 htv): daily peaks 33/14 and 24/14. Mean 57/28 = 2.0357; use rate 57/112.
    assert r.at["a", "peak_presence_mean"] == pytest.approx(57 / 28, abs=1e-12)
    assert r.at["a", "use_rate_mean"] == pytest.approx(57 / 112, abs=1e-12)
    assert r.at["a", "use_rate"] == r.at["a", "use_rate_mean"]
    # p90 of [24/14, 33/14]: 24/14 + 0.9 x 9/14 = 32.1/14; max 33/14.
    assert r.at["a", "peak_presence_p90"] == pytest.approx(32.1 / 14, abs=1e-12)
    assert r.at["a", "use_rate_p90"] == pytest.approx(32.1 / 56, abs=1e-12)
    assert r.at["a", "use_rate_max"] == pytest.approx(33 / 56, abs=1e-12)
    # b (3 htv): 37/14 and 32/14: mean 69/28 -> 69/84; p90 32/14 + 0.9 x 5/14.
    assert r.at["b", "use_rate_mean"] == pytest.approx(69 / 84, abs=1e-12)
    assert r.at["b", "peak_presence_p90"] == pytest.approx(36.5 / 14, abs=1e-12)
    assert r.at["b", "peak_desks"] == pytest.approx(37 / 14, abs=1e-12)
    # Desks held: a 4 dedicated + 5/14 of the 3 shared = 4 + 15/14 = 5.0714;
    # b 1 + 27/14 = 2.9286 (together the site's 8 desks).
    assert r.at["a", "desks_held"] == pytest.approx(4 + 15 / 14, abs=1e-12)
    assert r.at["b", "desks_held"] == pytest.approx(1 + 27 / 14, abs=1e-12)
    # Needed with the 10 % margin: a ceil(2.293) = 3, x 1.1 = 3.3 -> 4; b 3 -> 4.
    # Releasable: a floor(5.0714 - 4) = 1 desk (5 m2); b none.
    assert list(r["desks_needed"]) == [4, 4, 6]
    assert r.at["a", "releasable_desks"] == 1
    assert r.at["a", "releasable_m2"] == pytest.approx(5.0, abs=1e-9)
    assert r.at["b", "releasable_desks"] == 0
    # Site (7 htv): all desks in use at once, Mon 5 (10:30-11:00: a1 a2 b1 s1 s2),
    # Tue 4 (09:30-10:00). Mean 4.5 -> 9/14; p90 4.9 -> 0.7; max 5/7. Needed
    # ceil(4.9) = 5, x 1.1 = 5.5 -> 6 of 8 desks: 2 releasable.
    assert r.at["_site", "use_rate_mean"] == pytest.approx(9 / 14, abs=1e-12)
    assert r.at["_site", "use_rate_p90"] == pytest.approx(0.7, abs=1e-12)
    assert r.at["_site", "use_rate_max"] == pytest.approx(5 / 7, abs=1e-12)
    assert r.at["_site", "releasable_desks"] == 2
    assert list(r["open_days"]) == [2, 2, 2]


def test_presence_adds_up_to_the_desks_in_use() -> None:
    """At any moment the agencies' presence sums to the site's desks in use
    (the shares sum to 1): Monday 10:30 a 2 + 5/14, b 2 + 9/14, site 5."""
    site = _site()
    r = efficiency_report(intervals=_clipped(site), site=site, bookings=[_booking()])
    r = r.set_index("agency")
    assert r.at["a", "peak_desks"] + r.at["b", "peak_desks"] == pytest.approx(5.0, abs=1e-12)


def test_without_the_booking_the_pool_takes_s1() -> None:
    site = _site()
    pairs = presence_pairs(intervals=_clipped(site), bookings=[], site=site)
    # b's attributed time is 8 h without the booking: shares 5/13 and 8/13
    assert pool_shares(pairs=pairs, site=site) == {"a": Fraction(5, 13), "b": Fraction(8, 13)}
    b_mon = pairs[(pairs["agency"] == "b") & (pairs["day"] == pd.Timestamp("2026-03-02"))]
    # b1 alone is b's; s1 is pool from 10:00: (1,2)@10:30 is the only maximal pair
    assert [(r.a, r.p) for r in b_mon.itertuples()] == [(1, 2)]


def test_margin_and_rounding() -> None:
    assert desks_needed(2.0, 0.10) == 3  # 2 x 1.1 = 2.2 -> 3
    assert desks_needed(10.0, 0.10) == 11  # 11.000000000000002 is 11 desks
    assert desks_needed(3.0000000001, 0.0) == 3
    assert desks_needed(float("nan"), 0.1) == 0
    site = _site()
    with pytest.raises(ValueError, match="margin"):
        efficiency_report(intervals=_clipped(site), site=site, margin=-0.1)
    r = efficiency_report(intervals=_clipped(site), site=site, bookings=[_booking()], margin=0)
    # a needs ceil(2.293) = 3 without a margin: floor(5.0714 - 3) = 2 releasable
    assert r.set_index("agency").at["a", "releasable_desks"] == 2


def test_daily_peaks_of_a_hand_worked_case() -> None:
    """``daily_peaks_of``: the peaks of ``daily_presence``, per agency in day order.
    A, share 1/2: day 1 max(3 + 0, 1 + 4/2) = 3, day 2 (no desk in use) 0;
    B, share 1/4: day 1 2 + 2/4 = 2.5 (rows given out of order)."""
    from fractions import Fraction

    import numpy as np
    import pandas as pd

    from metrics.presence import daily_peaks_of, daily_presence

    d1, d2 = np.datetime64("2025-03-04", "ns"), np.datetime64("2025-03-05", "ns")
    pairs = pd.DataFrame(
        {
            "agency": ["B", "A", "A", "A"],
            "day": np.array([d1, d2, d1, d1], dtype="datetime64[ns]"),
            "a": [2, 0, 1, 3],
            "p": [2, 0, 4, 0],
            "at": pd.to_datetime(
                ["2025-03-04T08:00Z", None, "2025-03-04T09:00Z", "2025-03-04T10:00Z"], utc=True
            ),
            "use_ns": [5, 0, 7, 7],
        }
    )
    shares = {"A": Fraction(1, 2), "B": Fraction(1, 4)}
    got = daily_peaks_of(pairs=pairs, shares=shares)
    assert {k: v.tolist() for k, v in got.items()} == {"A": [3.0, 0.0], "B": [2.5]}
    daily = daily_presence(pairs=pairs, shares=shares)
    assert {a: g["peak"].tolist() for a, g in daily.groupby("agency")} == {
        k: v.tolist() for k, v in got.items()
    }
    assert daily_peaks_of(pairs=pairs.iloc[:0], shares=shares) == {}
