"""Reading B-tree rows of a ``SQLiteStore`` table as numpy columns.

``fetchall`` makes a Python tuple and an object per value of every row, and
turning those into columns costs as much again: a portfolio's year of daily
summaries (600 k rows of integers) spent more in that than in the rest of
its report. Integer and boolean columns are therefore handed over by SQLite
itself as one comma-separated text per column (``group_concat``, in C) and
parsed by numpy (``np.fromstring``, in C); float and string columns (text
would round a float) still come as rows. Both queries read in the primary
key's order (series, time) in one read transaction, and their series and
times are compared, so the columns cannot be misaligned; whatever does not
parse falls back to the rows.
"""

from __future__ import annotations

import sqlite3
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from storage import blocks
from storage.frames import BOOLEAN, INTEGER

#: above this many rows a read takes the rows (one text per column must stay
#: well under SQLite's default SQLITE_MAX_LENGTH of 1e9 bytes: ~20 bytes a value)
MAX_TEXT_ROWS = 20_000_000


class _Unparsed(Exception):
    """A column's text is not the integers expected (then the rows are read)."""


def _ints(text: str | None, n: int) -> np.ndarray:
    if text is None:
        if n:
            raise _Unparsed
        return np.zeros(0, np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy warns, and stops, at a bad value
        try:
            out = np.fromstring(text, dtype=np.int64, sep=",")
        except (DeprecationWarning, ValueError) as exc:
            raise _Unparsed from exc
    if len(out) != n:
        raise _Unparsed
    return out


def table_columns(
    conn: sqlite3.Connection,
    table: str,
    where: str,
    params: Sequence[Any],
    kinds: Mapping[int, str],
) -> blocks.Rows | None:
    """The rows of ``table`` matching ``where`` (SQL over series_id, time_ns),
    with the fields of ``kinds`` (store column number -> type), sorted by
    series then time; None when they must be read as rows instead (too many
    for one text, or a value that does not parse)."""
    numeric = [c for c, k in kinds.items() if k in (INTEGER, BOOLEAN)]
    other = [c for c in kinds if c not in numeric]
    counted = ", ".join(["count(*)", *(f"count(f{c})" for c in numeric)])
    counts = conn.execute(f"SELECT {counted} FROM {table} WHERE {where}", params).fetchone()
    n = int(counts[0])
    if n > MAX_TEXT_ROWS:
        return None
    partial = [c for c, k in zip(numeric, counts[1:], strict=True) if k < n]
    texts = [
        "group_concat(series_id)",
        "group_concat(time_ns)",
        *(f"group_concat(ifnull(f{c}, 0))" for c in numeric),
        *(f"group_concat(f{c} IS NOT NULL)" for c in partial),
    ]
    inner = ", ".join(["series_id", "time_ns", *(f"f{c}" for c in numeric)])
    ordered = f"FROM {table} WHERE {where} ORDER BY series_id, time_ns"
    found = conn.execute(f"SELECT {', '.join(texts)} FROM (SELECT {inner} {ordered})", params)
    row = found.fetchone()
    try:
        sid, time, *columns = (_ints(t, n) for t in row)
    except _Unparsed:
        return None
    values = columns[: len(numeric)]
    flags = dict(zip(partial, columns[len(numeric) :], strict=True))
    fields: dict[int, blocks.Column] = {}
    for c, v in zip(numeric, values, strict=True):
        present = flags[c].astype(bool) if c in flags else np.ones(n, bool)
        fields[c] = blocks.Column(kinds[c], v.astype(bool) if kinds[c] == BOOLEAN else v, present)
    if other:
        rows = conn.execute(
            f"SELECT series_id, time_ns, {', '.join(f'f{c}' for c in other)} {ordered}", params
        ).fetchall()
        cols = list(zip(*rows, strict=True)) if rows else [() for _ in range(2 + len(other))]
        same = np.array_equal(np.array(cols[0], np.int64), sid) and np.array_equal(
            np.array(cols[1], np.int64), time
        )
        if not same:  # cannot happen in one read transaction; never misalign
            return None
        for i, c in enumerate(other):
            fields[c] = blocks.from_values(kinds[c], cols[2 + i])
    return blocks.Rows(sid, time, fields)


__all__ = ["MAX_TEXT_ROWS", "table_columns"]
