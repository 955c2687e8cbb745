"""Largest-remainder rounding: the lines of a month sum exactly to the cost, to the cent."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charging.bookings import Booking
from charging.charges import compute_month, largest_remainder
from charging.tariff import Tariff
from tests.charging.spells import local, spells

quotas_and_total = st.lists(
    st.fractions(min_value=0, max_value=10**7, max_denominator=10**6), min_size=1, max_size=40
).map(lambda qs: [*qs, Fraction(-(sum(qs, Fraction(0)) % -1))])  # top up to a whole sum


@settings(max_examples=1000, deadline=None)
@given(quotas_and_total)
def test_largest_remainder_sums_exactly_and_stays_within_a_cent(quotas: list[Fraction]) -> None:
    total = int(sum(quotas, Fraction(0)))
    assert sum(quotas, Fraction(0)) == total
    cents = largest_remainder(quotas, total)
    assert sum(cents) == total
    for q, c in zip(quotas, cents, strict=True):
        assert c in (q.numerator // q.denominator, -(-q.numerator // q.denominator))
        assert abs(c - q) < 1


def test_largest_remainder_worked_examples() -> None:
    # three equal thirds of 100 cents: 33 each, the 1 cent left goes to the first
    assert largest_remainder([Fraction(100, 3)] * 3, 100) == [34, 33, 33]
    # remainders .6, .3, .1 of 10 cents: floors 3+3+3=9, 1 cent to the .6
    assert largest_remainder([Fraction(36, 10), Fraction(33, 10), Fraction(31, 10)], 10) == [
        4,
        3,
        3,
    ]
    # whole quotas are untouched
    assert largest_remainder([Fraction(5), Fraction(0), Fraction(7)], 12) == [5, 0, 7]


DAYS = [f"2026-11-{d:02d}" for d in (2, 3, 4, 5, 6, 9, 10)]
SPACES = ["a1", "a2", "b1", "m1", "s1"]


@st.composite
def month_case(draw):
    marked = []
    for space in SPACES:
        for day in draw(st.lists(st.sampled_from(DAYS), max_size=4, unique=True).map(sorted)):
            a = draw(st.integers(6 * 60, 15 * 60))
            b = draw(st.integers(a + 1, 18 * 60))
            state = draw(st.sampled_from(["occupied", "occupied", "unknown"]))
            start = local(day, "00:00") + timedelta(minutes=a)
            end = local(day, "00:00") + timedelta(minutes=b)
            marked.append((space, start, end, state))
    bookings = []
    for i, day in enumerate(draw(st.lists(st.sampled_from(DAYS), max_size=4, unique=True))):
        a = draw(st.integers(7 * 60, 16 * 60))
        bookings.append(
            Booking(
                id=f"k{i}",
                site="pieni",
                space=draw(st.sampled_from(["m1", "s1"])),
                agency=draw(st.sampled_from(["aa", "bb", "cc"])),
                start=local(day, "00:00") + timedelta(minutes=a),
                end=local(day, "00:00") + timedelta(minutes=a + draw(st.integers(5, 180))),
            )
        )
    cost = draw(st.integers(0, 10**9))  # cents
    share = draw(st.integers(0, 100))
    weights = {
        "desk": draw(st.sampled_from(["0", "1", "0.5", "2.25"])),
        "meeting_room": draw(st.sampled_from(["0", "1", "3", "1.7"])),
    }
    tariff = Tariff.model_validate(
        {
            "name": "prop",
            "versions": [
                {
                    "version": "p1",
                    "effective_from": "2026-11-01",
                    "sites": {
                        "pieni": {
                            "cost_to_recover_eur": str(Decimal(cost) / 100),
                            "base_share": str(Decimal(share) / 100),
                            "weight_basis": draw(st.sampled_from(["space_type", "area_m2"])),
                            "weights": weights,
                            "no_show": {"charge_booked_hours": draw(st.booleans())},
                            "min_coverage": draw(st.sampled_from(["0", "0.8", "0.99", "1"])),
                        }
                    },
                }
            ],
        }
    )
    return marked, bookings, tariff, cost


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(month_case())
def test_month_lines_sum_to_the_cost(pieni, case) -> None:
    marked, bookings, tariff, cost = case
    # same-space spells drawn on one day may overlap: keep the first of each clash
    kept: list = []
    last_end: dict = {}
    for space, s, e, state in sorted(marked, key=lambda m: (m[0], m[1])):
        if s >= last_end.get(space, s):
            kept.append((space, s, e, state))
            last_end[space] = e
    books: list[Booking] = []
    ends: dict = {}
    for b in sorted(bookings, key=lambda b: (b.space, b.start)):
        if b.start >= ends.get(b.space, b.start):
            books.append(b)
            ends[b.space] = b.end
    ivs = spells(
        spaces=SPACES,
        start=local("2026-11-01", "00:00"),
        end=local("2026-12-01", "00:00"),
        marked=kept,
    )
    mc = compute_month(site=pieni, month="2026-11", intervals=ivs, bookings=books, tariff=tariff)
    assert mc.cost_cents == cost
    assert sum(ln.amount_cents for ln in mc.lines) == cost
    assert sum(a.amount_cents for a in mc.agencies) == cost
    for ln in mc.lines:
        assert ln.amount_cents >= 0
        assert abs(ln.amount_cents - ln.quota_cents) < 1
    assert sum(a.pool_share for a in mc.agencies) == 1
