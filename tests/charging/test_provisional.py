"""A month in progress, worked by hand: provisional and pro rata.

Site "pieni" (tests/charging/data/pieni.yaml), tariff t1 (cost 10 000.00 EUR,
base share 0.25). The figures run to Wed 4.11.2026 12:00 Helsinki time.
Elapsed opening time: Mon 2.11 8 h + Tue 3.11 8 h + Wed 4.11 08:00-12:00 4 h =
20 h of the month's 21 x 8 = 168 h, so the cost is 1 000 000 cents x 20/168 =
119 047.619... -> 119 048 cents (half up); base pot 29 762, usage pot 89 286.

Measured up to then: a1 (aa) 4 h + 1 h, b1 (bb) 3 h, m1 booking of cc
09:00-11:00 occupied 09:10-11:30: 11/6 h to cc, 1/2 h pool. The later
bookings (5.11, 6.11) have not started, the b1 outage (16.11-) not happened:
every line has coverage 1.

Attributed weighted use: aa 5, bb 3, cc 11/6 x 3 = 11/2; total 27/2: pool
shares aa 10/27, bb 2/9, cc 11/27. Usage lines (weighted hours): aa desk 5,
aa meeting 1/2 x 10/27 x 3 = 5/9, bb desk 3, bb meeting 1/2 x 2/9 x 3 = 1/3,
cc desk 0, cc meeting (11/6 + 1/2 x 11/27) x 3 = 55/9; total 15.
Quotas: usage 89 286 x wh / 15 = 5 952.4 x wh: 29 762, 3 306.889, 17 857.2,
1 984.133, 0, 36 375.778; base by headcount 10/6/4 of 20: 14 881, 8 928.6,
5 952.4. Floors sum to 119 045: the 3 cents go to aa meeting (.889), cc
meeting (.778) and bb base (.6).
Totals: aa 14 881 + 29 762 + 3 307 = 479.50; bb 8 929 + 17 857 + 1 984 =
287.70; cc 5 952 + 0 + 36 376 = 423.28; sum 1 190.48 EUR (not 10 000.00).
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from charging.charges import compute_month
from charging.monthrun import FutureMonthError, month_status, refuse_future
from core.registry import Site
from tests.charging.spells import local, spells
from tests.charging.test_hand_month import BOOKINGS, MONTH_START

UNTIL = local("2026-11-04", "12:00")


def _intervals():
    return spells(
        spaces=["a1", "a2", "b1", "m1", "s1"],
        start=MONTH_START,
        end=UNTIL,
        marked=[
            ("a1", local("2026-11-02", "08:00"), local("2026-11-02", "12:00"), "occupied"),
            ("a1", local("2026-11-03", "09:00"), local("2026-11-03", "10:00"), "occupied"),
            ("b1", local("2026-11-02", "10:00"), local("2026-11-02", "13:00"), "occupied"),
            ("m1", local("2026-11-04", "09:10"), local("2026-11-04", "11:30"), "occupied"),
        ],
    )


def test_a_month_in_progress_is_provisional_and_pro_rata(pieni: Site, pieni_tariff) -> None:
    mc = compute_month(
        site=pieni,
        month="2026-11",
        intervals=_intervals(),
        bookings=BOOKINGS,
        tariff=pieni_tariff,
        until=UNTIL,
    )
    assert mc.provisional and mc.elapsed_share == Fraction(20, 168)
    assert mc.cost_cents == 119048
    assert mc.period_end == UNTIL
    assert {a.agency: a.amount_cents for a in mc.agencies} == {
        "aa": 47950,
        "bb": 28770,
        "cc": 42328,
    }
    assert all(ln.coverage == 1 and not ln.estimated for ln in mc.lines)
    d = mc.to_dict()
    assert d["provisional"] is True and d["totals"]["cost_eur"] == "1190.48"
    assert d["notes"][0].startswith("PROVISIONAL: the month is in progress")
    assert "11.90 % of the month's opening time" in d["notes"][0]


def test_a_whole_month_is_not_provisional(pieni: Site, pieni_tariff) -> None:
    mc = compute_month(
        site=pieni,
        month="2026-11",
        intervals=_intervals(),
        bookings=BOOKINGS,
        tariff=pieni_tariff,
        until=local("2026-12-01", "00:00"),
    )
    assert not mc.provisional and mc.cost_cents == 1_000_000


def test_month_status_and_future_refusal(pieni: Site) -> None:
    assert month_status(site=pieni, month="2026-11", now=UNTIL) == "in_progress"
    assert month_status(site=pieni, month="2026-10", now=UNTIL) == "closed"
    assert month_status(site=pieni, month="2026-12", now=UNTIL) == "future"
    # 1.12 00:30 in Helsinki is still 30.11 in UTC: the site's calendar decides
    assert month_status(site=pieni, month="2026-12", now=local("2026-12-01", "00:30")) == (
        "in_progress"
    )
    with pytest.raises(FutureMonthError, match="2027-05 has not begun at pieni"):
        refuse_future(site=pieni, month="2027-05", now=UNTIL)
