"""The month cutting of api/portfolio_trend.py on hand-written rows (the
route's equality with one-month reports is in test_portfolio_regions.py)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from api.portfolio_trend import _cut, months_of


def test_the_months_of_a_period_across_a_year_end() -> None:
    assert months_of(date(2025, 12, 15), date(2026, 2, 2)) == [
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]
    assert months_of(date(2026, 3, 1), date(2026, 4, 1)) == [date(2026, 3, 1)]
    assert months_of(date(2026, 3, 31), date(2026, 4, 1)) == [date(2026, 3, 1)]


def test_rows_are_cut_by_their_local_day() -> None:
    rows = pd.DataFrame(
        {
            "group": ["a", "a", "b", "b"],
            "day": pd.to_datetime(["2025-12-31", "2026-01-01", "2026-01-31", "2026-02-01"]),
            "n": [1, 2, 3, 4],
        }
    )
    months = [date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    cuts = _cut(rows, months)
    assert [c["n"].tolist() for c in cuts] == [[1], [2, 3], [4], []]
    assert all(list(c.columns) == ["group", "day", "n"] for c in cuts)
    assert cuts[3].dtypes.equals(rows.dtypes)  # an empty month keeps the column types
