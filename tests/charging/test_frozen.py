"""A frozen month (charging/frozen.py) thaws to equal charges and the same statement bytes."""

from __future__ import annotations

from charging.charges import compute_month
from charging.frozen import freeze, thaw
from charging.statements import render
from core.registry import Site
from tests.charging.test_hand_month import BOOKINGS, month_intervals


def test_a_frozen_month_thaws_to_the_same_statement(pieni: Site, pieni_tariff) -> None:
    mc = compute_month(
        site=pieni,
        month="2026-11",
        intervals=month_intervals(),
        bookings=BOOKINGS,
        tariff=pieni_tariff,
    )
    back = thaw(freeze(mc))
    assert back == mc
    for fmt in ("json", "csv", "pdf", "xlsx"):
        assert render(back, fmt, agency="bb") == render(mc, fmt, agency="bb")
