"""Reads of one site's series in a store of many sites (a portfolio): the
series found through the tag index and the blocks found by key (a few
series) or by a pass over the spans (many) are exactly the rows a filter of
the whole measurement gives, the empty-tag rule of InfluxQL included."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from storage.sqlite import _FEW_SERIES, SQLiteStore

T0 = datetime(2026, 3, 2, tzinfo=UTC)
START, END = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SQLiteStore:
    s = SQLiteStore(tmp_path_factory.mktemp("many") / "s.db", block_rows=10)
    base = int(T0.timestamp() * 1e9)
    for site in ("a", "b", "c"):
        for run in range(3):  # three blocks per site, as runs of days
            n = 2 * _FEW_SERIES
            spaces = [f"s{i}" for i in range(n)]
            s.write_columns(
                "m",
                time_ns=np.full(n, base + run * 86_400 * 10**9, dtype=np.int64),
                tags={"site": site, "space": pd.Categorical(spaces)},
                fields={"v": np.arange(n, dtype=np.int64) + 100 * run},
            )
    # a series without the ``space`` tag, kept in the table
    s.write_columns("m", time_ns=[base], tags={"site": "a"}, fields={"v": [-1]})
    return s


@pytest.mark.parametrize(
    "where",
    [
        {"site": "b"},  # many series: the pass over the spans
        {"site": "b", "space": "s3"},  # one: by key
        {"site": ["a", "c"], "space": ["s1", "s2"]},
        {"space": "s5"},
        {"site": "a", "space": ""},  # the series without the tag
        {"space": ["", "s0"]},
        {"site": "nowhere"},
    ],
)
def test_one_sites_rows_are_the_filter_of_all(store: SQLiteStore, where: dict) -> None:  # type: ignore[type-arg]
    everything = store.read("m", start=START, end=END)
    keep = np.ones(len(everything), bool)
    for key, values in where.items():
        allowed = [values] if isinstance(values, str) else values
        keep &= everything[key].fillna("").isin(allowed).to_numpy()
    want = everything[keep].reset_index(drop=True)
    got = store.read("m", start=START, end=END, where=where)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want, check_dtype=False)
    assert len(want) or where == {"site": "nowhere"}
