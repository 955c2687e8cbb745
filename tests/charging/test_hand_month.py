"""November 2026 at the small site "pieni", worked by hand for three agencies.

Site (tests/charging/data/pieni.yaml): open Mon-Fri 08:00-16:00 Helsinki
time (EET, +02:00 all November). November 2026 has 21 weekdays and no Finnish
public holiday on a weekday, so every space is open 21 x 8 = 168 h.

Agencies and headcount: aa 10 htv, bb 6 htv, cc 4 htv (total 20).
Spaces: a1, a2 desks dedicated to aa; b1 desk dedicated to bb; shared m1
(meeting room) and s1 (desk).

Tariff t1: cost 10 000.00 EUR, base share 0.25 -> base pot 2 500.00 EUR,
usage pot 7 500.00 EUR; weights by type: desk 1, meeting room 3; no-show window
15 min, no-show hours charged; minimum coverage 0.8.

Measured (occupied) time:
* a1: Mon 2.11 08:00-12:00 (4 h) and Tue 3.11 09:00-10:00 (1 h) -> aa dedicated 5 h
* b1: Mon 2.11 10:00-13:00 -> bb dedicated 3 h; b1's sensor is unknown from
  Mon 16.11 00:00 to Sat 28.11 00:00: 10 weekdays x 8 h = 80 h not observed
* m1: booking cc Wed 4.11 09:00-11:00, occupied 09:10-11:30:
  09:10-11:00 = 11/6 h to cc (booking), 11:00-11:30 = 1/2 h pool.
  booking bb Thu 5.11 13:00-14:00, m1 free all the time: a no-show (first
  15 min observed free): 1 h charged to bb as no-show hours.
  booking aa Fri 6.11 10:00-11:00, occupied 10:05-10:50: 3/4 h to aa (booking).
* s1: Mon 9.11 08:00-10:00 (2 h, pool) and 17:00-18:00 (after closing: not counted).

Attributed weighted use (hours x weight): aa 5 x 1 + 3/4 x 3 = 29/4;
bb 3 x 1 = 3; cc 11/6 x 3 = 11/2; total 63/4.
Pool shares: aa 29/63, bb 12/63 = 4/21, cc 22/63.
Pool: meeting room 1/2 h (weighted 3/2), desk 2 h (weighted 2).

Coverage: the bb desk line covers b1 and the shared desk s1:
(2 x 168 - 80) / (2 x 168) = 256/336 = 16/21 = 0.7619 < 0.8 -> estimated,
measured hours scaled by 21/16. Every other line has coverage 1.

Usage lines (weighted hours):
  aa desk     5 + 2 x 29/63                         = 373/63  = 5968/1008
  aa meeting  (3/4 + 1/2 x 29/63) x 3               = 247/84  = 2964/1008
  bb desk     (3 + 2 x 4/21) x 21/16 = 71/21 x 21/16 = 71/16  = 4473/1008
  bb meeting  1/2 x 4/21 x 3 + 1 h no-show x 3      = 23/7    = 3312/1008
  cc desk     2 x 22/63                             = 44/63   = 704/1008
  cc meeting  (11/6 + 1/2 x 22/63) x 3              = 253/42  = 6072/1008
  total                                                        23493/1008

Quota = 750 000 cents x numerator / 23493:
  aa desk 190524.837..., aa meeting 94623.930..., bb desk 142797.854...,
  bb meeting 105733.622..., cc desk 22474.779..., cc meeting 193844.975...
Floors sum to 749 995 cents; base lines are exact (aa 125 000, bb 75 000,
cc 50 000 cents), so 5 cents go to the largest remainders: cc meeting (.975),
aa meeting (.930), bb desk (.854), aa desk (.837), cc desk (.779); bb meeting
(.622) keeps its floor.
Totals: aa 1250.00 + 1905.25 + 946.24 = 4101.49; bb 750.00 + 1427.98 + 1057.33
= 3235.31; cc 500.00 + 224.75 + 1938.45 = 2663.20; sum 10 000.00.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from charging.bookings import Booking
from charging.charges import compute_month
from core.registry import Site
from tests.charging.spells import local, spells

MONTH_START = datetime(2026, 10, 31, 22, 0, tzinfo=UTC)  # 1.11.2026 00:00 Helsinki
MONTH_END = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)


def _booking(bid: str, space: str, agency: str, day: str, a: str, b: str) -> Booking:
    return Booking(
        id=bid, site="pieni", space=space, agency=agency, start=local(day, a), end=local(day, b)
    )


BOOKINGS = [
    _booking("k1", "m1", "cc", "2026-11-04", "09:00", "11:00"),
    _booking("k2", "m1", "bb", "2026-11-05", "13:00", "14:00"),
    _booking("k3", "m1", "aa", "2026-11-06", "10:00", "11:00"),
]


def month_intervals():
    return spells(
        spaces=["a1", "a2", "b1", "m1", "s1"],
        start=MONTH_START,
        end=MONTH_END,
        marked=[
            ("a1", local("2026-11-02", "08:00"), local("2026-11-02", "12:00"), "occupied"),
            ("a1", local("2026-11-03", "09:00"), local("2026-11-03", "10:00"), "occupied"),
            ("b1", local("2026-11-02", "10:00"), local("2026-11-02", "13:00"), "occupied"),
            ("b1", local("2026-11-16", "00:00"), local("2026-11-28", "00:00"), "unknown"),
            ("m1", local("2026-11-04", "09:10"), local("2026-11-04", "11:30"), "occupied"),
            ("m1", local("2026-11-06", "10:05"), local("2026-11-06", "10:50"), "occupied"),
            ("s1", local("2026-11-09", "08:00"), local("2026-11-09", "10:00"), "occupied"),
            ("s1", local("2026-11-09", "17:00"), local("2026-11-09", "18:00"), "occupied"),
        ],
    )


@pytest.fixture(scope="module")
def result(pieni: Site, pieni_tariff):
    return compute_month(
        site=pieni,
        month="2026-11",
        intervals=month_intervals(),
        bookings=BOOKINGS,
        tariff=pieni_tariff,
    )


def test_amounts_to_the_cent(result) -> None:
    got = {(ln.agency, ln.line): ln.amount_cents for ln in result.lines}
    assert got == {
        ("aa", "base"): 125_000,
        ("aa", "desk"): 190_525,
        ("aa", "meeting_room"): 94_624,
        ("bb", "base"): 75_000,
        ("bb", "desk"): 142_798,
        ("bb", "meeting_room"): 105_733,
        ("cc", "base"): 50_000,
        ("cc", "desk"): 22_475,
        ("cc", "meeting_room"): 193_845,
    }
    assert {a.agency: a.amount_cents for a in result.agencies} == {
        "aa": 410_149,
        "bb": 323_531,
        "cc": 266_320,
    }
    assert sum(ln.amount_cents for ln in result.lines) == 1_000_000


def test_hours_weights_and_coverage(result) -> None:
    from fractions import Fraction as F

    lines = {(ln.agency, ln.line): ln for ln in result.lines}
    aa_desk = lines["aa", "desk"]
    assert aa_desk.hours_dedicated == 5
    assert aa_desk.hours_pool == F(58, 63)
    assert aa_desk.weighted_hours == F(373, 63)
    assert lines["aa", "meeting_room"].hours_booked == F(3, 4)
    assert lines["cc", "meeting_room"].hours_booked == F(11, 6)
    assert lines["cc", "meeting_room"].weighted_hours == F(253, 42)
    bb_desk = lines["bb", "desk"]
    assert bb_desk.coverage == F(16, 21)
    assert bb_desk.estimated is True
    assert bb_desk.scale == F(21, 16)
    assert bb_desk.hours == F(71, 16)
    bb_meet = lines["bb", "meeting_room"]
    assert bb_meet.hours_no_show == 1
    assert bb_meet.weighted_hours == F(23, 7)
    assert bb_meet.estimated is False
    assert not any(ln.estimated for k, ln in lines.items() if k != ("bb", "desk"))
    assert result.total_weighted_h == F(23493, 1008)
    shares = {a.agency: a.pool_share for a in result.agencies}
    assert shares == {"aa": F(29, 63), "bb": F(4, 21), "cc": F(22, 63)}


def test_no_shows_counted(result) -> None:
    by = {a.agency: a for a in result.agencies}
    assert (by["aa"].bookings, by["aa"].no_shows) == (1, 0)
    assert (by["bb"].bookings, by["bb"].no_shows, by["bb"].no_show_h) == (1, 1, 1)
    assert (by["cc"].bookings, by["cc"].no_shows) == (1, 0)
    assert [n.booking_id for n in result.no_shows] == ["k2"]


def test_lines_carry_the_audit_fields(result, pieni: Site) -> None:
    d = result.to_dict()
    assert d["totals"]["lines_sum_eur"] == "10000.00"
    for line in d["lines"]:
        assert line["tariff_version"] == "t1"
        assert line["registry_version"] == pieni.version
        assert len(line["inputs_hash"]) == 64
    bb_desk = next(x for x in d["lines"] if (x["agency"], x["line"]) == ("bb", "desk"))
    assert bb_desk["estimated"] is True
    assert bb_desk["coverage"] == "0.7619"
    assert bb_desk["amount_eur"] == "1427.98"
