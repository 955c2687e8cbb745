"""Sums over cells stay exact beyond int64: a year of a big site's opening
time is more nanoseconds than int64 holds (~930 spaces of 11-hour days)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.utilisation import heatmap_from_cells, utilisation_from_cells
from tests.metrics.conftest import make_site


def _cells(n: int, per_cell_ns: int) -> pd.DataFrame:
    day = np.datetime64("2026-03-02T00:00", "ns")
    return pd.DataFrame(
        {
            "space": [f"d{i}" for i in range(n)],
            "day": np.full(n, day),
            "hour": np.full(n, day + np.timedelta64(9, "h")),
            "opening_ns": np.full(n, per_cell_ns, np.int64),
            "unknown_ns": np.zeros(n, np.int64),
            "occupied_ns": np.full(n, per_cell_ns // 2, np.int64),
            "counted_ns": np.zeros(n, np.int64),
            "people_s": np.zeros(n),
        }
    )


def test_site_sums_past_int64_are_exact() -> None:
    # 4 cells of 4e18 ns: 1.6e19 ns in all, past int64's 9.22e18; by hand
    # 1.6e10 s opening, half of it occupied.
    site = make_site(spaces=[{"id": f"d{i}"} for i in range(4)])
    cells = _cells(4, 4 * 10**18)
    row = utilisation_from_cells(cells=cells, site=site, by="site").iloc[0]
    assert row["opening_s"] == 1.6e10 and row["observed_s"] == 1.6e10
    assert row["occupied_s"] == 8e9 and row["utilisation"] == 0.5
    cell = heatmap_from_cells(cells=cells, site=site).iloc[0]
    assert (cell["weekday"], cell["hour"]) == (0, 9)  # a Monday, 09 local
    assert cell["opening_s"] == 1.6e10 and cell["occupied_s"] == 8e9


def test_sums_keep_their_nanoseconds() -> None:
    # 3 cells of 1 s + 1 ns: 3.000000003 s, summed exactly before the division.
    site = make_site(spaces=[{"id": f"d{i}"} for i in range(3)])
    row = utilisation_from_cells(cells=_cells(3, 10**9 + 1), site=site, by="site").iloc[0]
    assert row["opening_s"] == 3_000_000_003 / 10**9


def test_seconds_are_the_nearest_float_to_the_exact_quotient() -> None:
    # Past 2**53 ns a sum is not a float exactly; rounding it to a float and
    # then dividing rounds twice. 2**60 + 1 ns: the exact quotient, by Python
    # integer division, is the reference.
    from metrics.utilisation import ns_to_seconds

    totals = [0, 1, 10**9, 2**53 - 1, 2**53 + 1, 2**60 + 1, 3 * 10**18 + 7, 9 * 10**18 + 999]
    got = ns_to_seconds(
        np.array([t // 10**9 for t in totals], dtype=np.int64),
        np.array([t % 10**9 for t in totals], dtype=np.int64),
    )
    assert got.tolist() == [t / 10**9 for t in totals]
