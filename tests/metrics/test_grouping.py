"""The integer group keys against pandas' own factorize and nunique."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metrics import grouping
from metrics.grouping import dense_codes, distinct_per_key, group_keys, int_sums

RNG = np.random.default_rng(7)


@pytest.mark.parametrize(
    "values",
    [
        RNG.integers(-5, 40, 500),
        RNG.integers(0, 2**40, 300),  # too wide to mark: hashed
        (
            np.datetime64("2025-03-30T00:00", "ns")
            + RNG.integers(0, 48, 200) * np.timedelta64(1, "h")
        ),
        np.datetime64("2025-01-01", "ns") + RNG.integers(0, 10**6, 50).astype("timedelta64[ns]"),
        np.zeros(0, np.int64),
    ],
)
def test_dense_codes_are_sorted_factorize(values: np.ndarray) -> None:
    codes, uniq = dense_codes(values)
    want_codes, want_uniq = pd.factorize(values, sort=True)
    assert codes.tolist() == want_codes.tolist()
    assert np.asarray(uniq).tolist() == np.asarray(want_uniq).tolist()


def test_group_keys_and_distinct_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    group = RNG.integers(0, 4, 400)
    bucket = np.datetime64("2025-01-01", "ns") + RNG.integers(0, 9, 400) * np.timedelta64(1, "h")
    value = RNG.integers(0, 30, 400)
    frame = pd.DataFrame({"g": group, "b": bucket, "v": value})
    want = frame.groupby(["g", "b"], sort=True)["v"].agg(["nunique", "sum"])
    key, g_at, b_at = group_keys(group, bucket)
    assert list(zip(g_at.tolist(), pd.DatetimeIndex(b_at), strict=True)) == list(want.index)
    for span in (grouping.MAX_SPAN, 10):  # marked, then hashed
        monkeypatch.setattr(grouping, "MAX_SPAN", span)
        got = distinct_per_key(key, value, 30, len(g_at))
        assert got.tolist() == want["nunique"].tolist()
    assert int_sums(value, key, len(g_at)).tolist() == want["sum"].tolist()
