"""Use rate, space efficiency, desk-sharing ratio, right-sizing
(docs/metrics.md, "Efficiency"), worked by hand.

Site of 200 m2, open Mon-Fri 08:00-16:00, Monday 2 and Tuesday 3 March 2026.
Agency a (8 htv): zone za, desks d1, d2, d5 (5 m2 each). Agency b (2 htv):
zone zb, desk d3 (5 m2). Shared zone zs: desk d4 (5 m2), room r1 (20 m2).
Mon: d1 09:00-13:00, d2 11:00-13:00, d3 09:00-11:00. Tue: d1 09:00-11:00.
"""

from __future__ import annotations

import pytest

from metrics import clip_to_opening, efficiency_report, state_intervals
from tests.metrics import worked_day
from tests.metrics.conftest import local, make_site, presence


def _report(**kwargs: object):
    site = make_site(
        spaces=[
            {"id": "d1", "zone": "za"},
            {"id": "d2", "zone": "za"},
            {"id": "d5", "zone": "za"},
            {"id": "d3", "zone": "zb"},
            {"id": "d4", "zone": "zs"},
            {"id": "r1", "zone": "zs", "type": "meeting_room", "capacity": 6, "area_m2": 20.0},
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
        opening=worked_day.OFFICE_HOURS,
        area_m2=200.0,
    )
    rows = [(local("2026-03-02 07:00"), s.id, 0) for s in site.spaces]  # hb 1 day: all observed
    for day, desk, a, b in [
        ("02", "d1", "09:00", "13:00"),
        ("02", "d2", "11:00", "13:00"),
        ("02", "d3", "09:00", "11:00"),
        ("03", "d1", "09:00", "11:00"),
    ]:
        rows += [(local(f"2026-03-{day} {a}"), desk, 1), (local(f"2026-03-{day} {b}"), desk, 0)]
    start, end = local("2026-03-02 00:00"), local("2026-03-04 00:00")
    iv = state_intervals(
        presence=presence(site, rows), status=None, site=site, start=start, end=end
    )
    clipped = clip_to_opening(intervals=iv, site=site, start=start, end=end)
    return efficiency_report(intervals=clipped, site=site, **kwargs).set_index("agency")  # type: ignore[arg-type]


def test_efficiency_by_hand() -> None:
    r = _report()
    assert list(r.index) == ["a", "b", "_site"]
    # Area: dedicated a = 3 x 5 = 15, b = 5; the rest 200 - 20 = 180 m2 is split
    # by occupied time in dedicated spaces: a = 14,400 + 7,200 + 7,200 = 28,800 s,
    # b = 7,200 s: shares 0.8 and 0.2. a = 15 + 144 = 159, b = 5 + 36 = 41.
    assert r.at["a", "area_m2"] == 159.0
    assert r.at["b", "area_m2"] == 41.0
    assert r.at["_site", "area_m2"] == 200.0
    # m2/htv: 159 / 8 = 19.875; 41 / 2 = 20.5; site 200 / 10 = 20; target 10.
    assert list(r["m2_per_htv"]) == [19.875, 20.5, 20.0]
    assert list(r["target_m2_per_htv"]) == [10.0] * 3
    assert not r["meets_target"].any()
    # Peak desks: a Mon 2 (11:00-13:00), Tue 1; b Mon 1, Tue 0. Site desks Mon 2
    # (d1+d3 until 11:00, then d1+d2: never three), Tue 1.
    assert list(r["peak_desks"]) == [2.0, 1.0, 2.0]
    # p90 of [2, 1]: h = 0.9, 1 + 0.9 x 1 = 1.9; of [1, 0]: 0.9.
    assert r.at["a", "p90_peak_desks"] == pytest.approx(1.9, abs=1e-12)
    assert r.at["b", "p90_peak_desks"] == pytest.approx(0.9, abs=1e-12)
    # Use rate = the mean of the daily peaks of presence / htv (the shared desk
    # d4 was never used, so presence is the dedicated desks): a (2 + 1) / 2 / 8,
    # b (1 + 0) / 2 / 2, site (2 + 1) / 2 / 10; the maximum as use_rate_max.
    assert list(r["use_rate"]) == [0.1875, 0.25, 0.15]
    assert list(r["use_rate_max"]) == [0.25, 0.5, 0.2]
    # Desk sharing = htv / desks: 8 / 3, 2 / 1, 10 / 5.
    assert list(r["desk_sharing_ratio"]) == [8 / 3, 2.0, 2.0]
    # Right-sizing at p90 with the 10 % margin: a needs ceil(ceil(1.9) x 1.1) = 3
    # and holds its 3 desks + 0.8 of d4 (its share of the pool: a 28,800 s of
    # attributed desk time, b 7,200 s): floor(3.8 - 3) = 0 releasable. b needs
    # ceil(1 x 1.1) = 2, holds 1.2: 0. Site needs 3 of 5: 2 desks, 10 m2.
    assert list(r["desks_needed"]) == [3, 2, 3]
    assert list(r["releasable_desks"]) == [0, 0, 2]
    assert list(r["releasable_m2"]) == [0.0, 0.0, 10.0]
    assert list(r["m2_per_htv_after"]) == [19.875, 20.5, 19.0]
    # Without a margin: a keeps ceil(1.9) = 2, releases floor(3.8 - 2) = 1 desk of
    # the mean area of what it holds (5 m2): (159 - 5) / 8 = 19.25. Site keeps 2 of 5.
    r0 = _report(margin=0.0)
    assert list(r0["releasable_desks"]) == [1, 0, 3]
    assert list(r0["releasable_m2"]) == [5.0, 0.0, 15.0]
    assert list(r0["m2_per_htv_after"]) == [19.25, 20.5, 18.5]
    # Utilisation of a's dedicated spaces: 28,800 / (3 desks x 2 days x 28,800).
    assert r.at["a", "utilisation"] == 1 / 6
    assert list(r["coverage"]) == [1.0, 1.0, 1.0]


def test_shared_area_by_given_weights_and_target_met() -> None:
    """With the charging attribution's weights a : b = 1 : 3 the rest is split
    45 / 135: a = 15 + 45 = 60 m2 (7.5 m2/htv, meets 10), b = 5 + 135 = 140."""
    r = _report(shared_use_s={"a": 1.0, "b": 3.0})
    assert r.at["a", "area_m2"] == 60.0
    assert r.at["b", "area_m2"] == 140.0
    assert r.at["a", "m2_per_htv"] == 7.5
    assert bool(r.at["a", "meets_target"]) is True
    with pytest.raises(ValueError, match="not in the site: c"):
        _report(shared_use_s={"c": 1.0})


def test_a_period_without_a_measured_day_releases_nothing() -> None:
    # one point a month before, long gone silent: every desk unknown on both days
    site = make_site(
        spaces=[{"id": "d1", "zone": "za"}, {"id": "d2", "zone": "za"}, {"id": "d4", "zone": "zs"}],
        zones=[
            {"id": "za", "name": "A", "floor": "f1", "agency": "a"},
            {"id": "zs", "name": "Shared", "floor": "f1"},
        ],
        agencies=[{"id": "a", "name": "A", "headcount_htv": 8}],
        opening=worked_day.OFFICE_HOURS,
        area_m2=100.0,
    )
    start, end = local("2026-03-02 00:00"), local("2026-03-04 00:00")
    old = presence(site, [(local("2026-02-02 07:00"), "d1", 0)])
    iv = state_intervals(presence=old, status=None, site=site, start=start, end=end)
    clipped = clip_to_opening(intervals=iv, site=site, start=start, end=end)
    rows = efficiency_report(intervals=clipped, site=site).set_index("agency")
    for row in ("a", "_site"):
        assert rows.loc[row, "open_days"] == 0
        assert rows.loc[row, "releasable_desks"] == 0 and rows.loc[row, "releasable_m2"] == 0
    # a holds its 2 desks and the one shared desk (pool share 1, the only agency)
    assert rows.loc["a", "desks_needed"] == 3 and rows.loc["_site", "desks_needed"] == 3
