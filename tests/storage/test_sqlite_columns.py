"""``storage.sqlite_columns``: B-tree rows read as numpy columns give the same
frame as the rows read one by one, including missing values, booleans,
floats and strings beside integers, and fall back to the rows when a value
does not parse."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from storage import sqlite_columns
from storage.base import Point
from storage.sqlite import SQLiteStore

T0 = 1_767_225_600_000_000_000
START, END = datetime(2025, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)


def points() -> list[Point]:
    # written out: s2 lacks n on its second point, s1 has no flag at all
    return [
        Point("m", {"site": "a", "space": "s1"}, {"n": 5, "x": 0.1, "t": "p,q"}, T0 + 2),
        Point("m", {"site": "a", "space": "s2"}, {"n": -7, "flag": True}, T0 + 1),
        Point("m", {"site": "a", "space": "s2"}, {"flag": False, "x": 1e300}, T0 + 3),
        Point("m", {"site": "b", "space": "s1"}, {"n": 2**62, "t": ""}, T0 + 1),
        Point("m", {"site": "b", "space": "s1"}, {"n": 1, "x": 2.0, "t": "z"}, T0 + 5),
    ]


def test_columns_read_as_the_rows(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    store.write(points())
    got = store.read("m", start=START, end=END)
    assert got["time"].astype("int64").tolist() == [T0 + 1, T0 + 1, T0 + 2, T0 + 3, T0 + 5]
    assert got["site"].tolist() == ["a", "b", "a", "a", "b"]
    assert got["space"].tolist() == ["s2", "s1", "s1", "s2", "s1"]
    # n is missing on one row: float64 with NaN, exact below 2**53; 2**62 is not
    n = got["n"].tolist()
    assert n[0] == -7 and n[2] == 5 and np.isnan(n[3]) and n[4] == 1
    assert got["flag"].tolist() == [True, None, None, False, None]
    assert got["x"].tolist()[2:] == [0.1, 1e300, 2.0]
    assert got["t"].tolist()[2] == "p,q" and got["t"].tolist()[4] == "z"
    # every integer present: int64, exact
    full = store.read("m", start=START, end=END, where={"site": "b"}, fields=["n"])
    assert full["n"].dtype == np.int64 and full["n"].tolist() == [2**62, 1]
    store.close()


def test_same_frame_as_the_row_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    store.write(points())
    fast = store.read("m", start=START, end=END)
    monkeypatch.setattr(sqlite_columns, "table_columns", lambda *a, **k: None)
    rows = store.read("m", start=START, end=END)
    pd.testing.assert_frame_equal(fast, rows)
    store.close()


def test_a_value_that_does_not_parse_falls_back_to_the_rows(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    store.write(points())
    store.close()
    # a value no write of the store makes (text in an integer column), put there by hand
    with sqlite3.connect(tmp_path / "s.db") as conn:
        (mid,) = conn.execute("SELECT id FROM measurements WHERE name = 'm'").fetchone()
        (col,) = conn.execute(
            "SELECT col FROM field_keys WHERE measurement_id = ? AND name = 'n'", (mid,)
        ).fetchone()
        conn.execute(f"UPDATE points_{mid} SET f{col} = '12abc' WHERE time_ns = ?", (T0 + 5,))
    store = SQLiteStore(tmp_path / "s.db")
    with store._transaction(write=False) as conn:
        kinds = {col: "integer"}
        where = "time_ns >= ? AND time_ns < ?"
        got = sqlite_columns.table_columns(conn, f"points_{mid}", where, (0, 2**62), kinds)
    assert got is None
    store.close()
