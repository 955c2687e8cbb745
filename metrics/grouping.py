"""Integer group keys for the report sums, without hashing where the values
are small integers or whole hours.

A year of a site's hour cells is close to a million rows; hashing them
(``pd.factorize``) or stacking them into frames for ``groupby`` costs more
than the sums themselves. Where the values span a small range, a mark per
possible value gives the sorted distinct values and each row's rank in one
pass.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Marks up to this many possible values (bools: 50 MB at most); more fall
#: back to hashing.
MAX_SPAN = 50_000_000
_HOUR_NS = 3_600_000_000_000


def dense_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each value's rank among the sorted distinct values, and those values."""
    v = np.asarray(values)
    if v.dtype.kind == "M":
        ints = v.astype("datetime64[ns]").astype(np.int64)
        unit = _HOUR_NS if len(ints) and not (ints % _HOUR_NS).any() else 1
        codes, uniq = dense_codes(ints // unit)
        return codes, (uniq * unit).astype("datetime64[ns]")
    if not len(v):
        return np.zeros(0, np.int64), v.astype(np.int64)
    lo, hi = int(v.min()), int(v.max())
    if v.dtype.kind not in "iu" or hi - lo + 1 > MAX_SPAN:
        codes, uniq = pd.factorize(v, sort=True)
        return np.asarray(codes, dtype=np.int64), np.asarray(uniq)
    offset = v.astype(np.int64) - lo
    mark = np.zeros(hi - lo + 1, dtype=bool)
    mark[offset] = True
    rank = np.cumsum(mark, dtype=np.int64) - 1
    return rank[offset], np.flatnonzero(mark).astype(np.int64) + lo


def group_keys(
    group: np.ndarray, bucket: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """One key per row, numbered in (group, bucket) order, and each key's
    group and bucket (None without buckets). ``group``: small integers."""
    if bucket is None:
        key, uniq = dense_codes(group)
        return key, uniq, None
    b_code, b_uniq = dense_codes(bucket)
    n_b = max(1, len(b_uniq))
    key, uniq = dense_codes(group.astype(np.int64) * n_b + b_code)
    return key, uniq // n_b, b_uniq[uniq % n_b]


def distinct_per_key(key: np.ndarray, value: np.ndarray, n_values: int, n_keys: int) -> np.ndarray:
    """How many distinct ``value`` (0..n_values-1) each key (0..n_keys-1) has."""
    pairs = key.astype(np.int64) * n_values + value
    if n_keys * n_values <= MAX_SPAN:
        mark = np.zeros(n_keys * n_values, dtype=bool)
        mark[pairs] = True
        return mark.reshape(n_keys, n_values).sum(axis=1)
    return np.bincount(np.asarray(pd.unique(pairs)) // n_values, minlength=n_keys)


def float_sums(values: np.ndarray, key: np.ndarray, n_keys: int) -> np.ndarray:
    """Per key, the sum of its rows' floats, added in row order (the same
    rows in the same order give the same bits on every path)."""
    return np.bincount(key, weights=np.asarray(values, dtype=float), minlength=n_keys)


def int_sums(values: np.ndarray, key: np.ndarray, n_keys: int) -> np.ndarray:
    """Per key, the exact int64 sum of its rows' values."""
    out = np.zeros(n_keys, dtype=np.int64)
    np.add.at(out, key, np.asarray(values, dtype=np.int64))
    return out


def positions(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Each value's position in ``index`` (-1: not in it): a hash of the few
    distinct values looked up, not a look-up of every row's string."""
    codes, uniques = pd.factorize(values)
    found = np.append(index.get_indexer(pd.Index(uniques)), -1)
    return found[codes]  # code -1 (a missing value) takes the appended -1


__all__ = ["dense_codes", "distinct_per_key", "float_sums", "group_keys", "int_sums", "positions"]
