"""Further hand-worked cases on the pieni November (see test_hand_month for the data)."""

from __future__ import annotations

from fractions import Fraction

from charging.charges import compute_month
from charging.tariff import Tariff
from tests.charging.spells import spells
from tests.charging.test_hand_month import BOOKINGS, MONTH_END, MONTH_START, month_intervals


def tariff(**site: object) -> Tariff:
    pricing = {"weights": {"desk": 1, "meeting_room": 3}, **site}
    return Tariff.model_validate(
        {
            "name": "cases",
            "versions": [
                {"version": "c1", "effective_from": "2026-01-01", "sites": {"pieni": pricing}}
            ],
        }
    )


def test_unit_prices_round_each_line(pieni) -> None:
    # 20 EUR per htv: aa 10 -> 200.00, bb 6 -> 120.00, cc 4 -> 80.00.
    # 0.50 EUR per weighted hour (weighted hours from test_hand_month):
    #   aa desk 373/63 x 50 c = 296.03 -> 296     aa meeting 247/84 x 50 = 147.02 -> 147
    #   bb desk 71/16 x 50 = 221.875 -> 222        bb meeting 23/7 x 50 = 164.29 -> 164
    #   cc desk 44/63 x 50 = 34.92 -> 35           cc meeting 253/42 x 50 = 301.19 -> 301
    t = tariff(
        unit_prices={"base_eur_per_htv": 20, "usage_eur_per_weighted_hour": "0.50"},
        no_show={"charge_booked_hours": True},
    )
    mc = compute_month(
        site=pieni, month="2026-11", intervals=month_intervals(), bookings=BOOKINGS, tariff=t
    )
    got = {(ln.agency, ln.line): ln.amount_cents for ln in mc.lines}
    assert got == {
        ("aa", "base"): 20000,
        ("aa", "desk"): 296,
        ("aa", "meeting_room"): 147,
        ("bb", "base"): 12000,
        ("bb", "desk"): 222,
        ("bb", "meeting_room"): 164,
        ("cc", "base"): 8000,
        ("cc", "desk"): 35,
        ("cc", "meeting_room"): 301,
    }
    assert mc.cost_cents == 41165 == sum(got.values())


def test_no_use_at_all_goes_by_headcount(pieni) -> None:
    # 100.00 EUR, nothing occupied: everything by headcount 10:6:4.
    t = tariff(cost_to_recover_eur="100.00", base_share="0.25")
    ivs = spells(spaces=["a1", "m1"], start=MONTH_START, end=MONTH_END, marked=[])
    mc = compute_month(site=pieni, month="2026-11", intervals=ivs, bookings=[], tariff=t)
    assert {a.agency: a.amount_cents for a in mc.agencies} == {"aa": 5000, "bb": 3000, "cc": 2000}
    assert mc.usage_basis == "headcount"
    assert any("usage share is allocated by headcount" in n for n in mc.notes)


def test_spaces_without_data_are_estimated_at_zero(pieni) -> None:
    # No intervals for b1 at all: unknown all month, so bb's desk line (b1 + s1)
    # has coverage 1/2 and is flagged; a1, a2, m1, s1 free all month.
    t = tariff(cost_to_recover_eur="100.00", base_share="0.25")
    ivs = spells(spaces=["a1", "a2", "m1", "s1"], start=MONTH_START, end=MONTH_END, marked=[])
    mc = compute_month(site=pieni, month="2026-11", intervals=ivs, bookings=[], tariff=t)
    flagged = {(ln.agency, ln.line): ln.coverage for ln in mc.lines if ln.estimated}
    assert flagged == {("bb", "desk"): Fraction(1, 2)}


def test_no_show_not_charged_when_the_policy_says_so(pieni) -> None:
    t = tariff(
        cost_to_recover_eur="10000.00",
        base_share="0.25",
        no_show={"window_minutes": 15, "charge_booked_hours": False},
    )
    mc = compute_month(
        site=pieni, month="2026-11", intervals=month_intervals(), bookings=BOOKINGS, tariff=t
    )
    bb = next(a for a in mc.agencies if a.agency == "bb")
    assert (bb.no_shows, bb.no_show_h) == (1, 1)  # still counted and reported
    bb_meet = next(ln for ln in mc.lines if (ln.agency, ln.line) == ("bb", "meeting_room"))
    assert bb_meet.hours_no_show == 0
    assert bb_meet.weighted_hours == Fraction(2, 7)  # only its pool share: 1/2 h x 4/21 x 3
    assert sum(ln.amount_cents for ln in mc.lines) == 1_000_000
