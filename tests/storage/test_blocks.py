"""Column blocks (``storage.blocks``) and how ``SQLiteStore`` keeps a bulk
``write_columns`` in them: hand-worked merges, a Parquet round trip of every
field type, the precedence of block and table versions of a point, and a
property test that a store keeping every columnar write as a block answers
exactly as one keeping everything as B-tree rows."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage import blocks
from storage.base import Point
from storage.frames import BOOLEAN, FLOAT, INTEGER, STRING
from storage.sqlite import SQLiteStore
from tests.storage.columnar import as_columns

T0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
S = 1_000_000_000
START = datetime(2025, 12, 1, tzinfo=UTC)
END = datetime(2026, 2, 1, tzinfo=UTC)


def column(kind: str, values: list[Any]) -> blocks.Column:
    return blocks.from_values(kind, values)


def test_merge_keeps_each_fields_newest_value() -> None:
    # Three writes of (series 7, T0) and one of (series 3, T0+1 s), oldest first.
    rows = blocks.Rows(
        np.array([7, 7, 3, 7]),
        np.array([T0, T0, T0 + S, T0]),
        {
            1: column(INTEGER, [1, None, 5, 3]),
            2: column(STRING, ["a", "b", None, None]),
        },
    )
    out = blocks.merge(rows)
    assert out.sid.tolist() == [3, 7]
    assert out.time.tolist() == [T0 + S, T0]
    assert out.fields[1].present.tolist() == [True, True]
    assert out.fields[1].values.tolist() == [5, 3]  # the last write that had it
    assert out.fields[2].present.tolist() == [False, True]
    assert out.fields[2].values[1] == "b"  # written twice, the newer one kept


def test_merge_without_duplicates_only_sorts() -> None:
    rows = blocks.Rows(np.array([2, 1, 2]), np.array([T0 + S, T0, T0]))
    out = blocks.merge(rows)
    assert list(zip(out.sid.tolist(), out.time.tolist(), strict=True)) == [
        (1, T0),
        (2, T0),
        (2, T0 + S),
    ]


def test_parquet_round_trip_of_every_type_with_absent_values() -> None:
    rows = blocks.Rows(
        np.array([1, 1, 2]),
        np.array([T0, T0 + 300 * S, -5]),
        {
            1: column(FLOAT, [0.1, None, -1e300]),
            2: column(INTEGER, [None, 2**62, -(2**63)]),
            3: column(BOOLEAN, [True, False, None]),
            4: column(STRING, ["", None, 'ä "x"\n\\,= y']),
        },
    )
    back = blocks.decode(
        blocks.encode(rows), {1: FLOAT, 2: INTEGER, 3: BOOLEAN, 4: STRING, 9: FLOAT}
    )
    assert back.sid.tolist() == [1, 1, 2]
    assert back.time.tolist() == [T0, T0 + 300 * S, -5]
    for col in (1, 2, 3, 4):
        want = rows.fields[col]
        got = back.fields[col]
        assert got.present.tolist() == want.present.tolist(), col
        assert got.values[got.present].tolist() == want.values[want.present].tolist(), col
    assert not back.fields[9].present.any()  # a column the block does not have


def test_string_codes_become_the_parquet_dictionary() -> None:
    rows = blocks.Rows(
        np.array([1, 1, 1]),
        np.array([T0, T0 + S, T0 + 2 * S]),
        {1: blocks.Column(STRING, np.array([1, 0, 1]), np.array([True, False, True]))},
    )
    back = blocks.decode(
        blocks.encode(rows, {1: np.array(["change", "heartbeat"], object)}), {1: STRING}
    )
    assert back.fields[1].present.tolist() == [True, False, True]
    assert back.fields[1].values[[0, 2]].tolist() == ["heartbeat", "heartbeat"]


def desk(space: str, t: int, **fields: Any) -> Point:
    return Point("presence", {"site": "hq", "space": space}, fields, t)


def write_columns(store: SQLiteStore, points: list[Point]) -> None:
    store.write_columns("presence", **as_columns(points))


def table_counts(path: Path) -> tuple[int, int]:
    """(B-tree rows, blocks) of the measurement ``presence`` in the file."""
    conn = sqlite3.connect(path)
    try:
        (mid,) = conn.execute("SELECT id FROM measurements WHERE name = 'presence'").fetchone()
        rows = conn.execute(f"SELECT count(*) FROM points_{mid}").fetchone()[0]
        has = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = ?", (f"blocks_{mid}",)
        ).fetchone()[0]
        n_blocks = conn.execute(f"SELECT count(*) FROM blocks_{mid}").fetchone()[0] if has else 0
        return int(rows), int(n_blocks)
    finally:
        conn.close()


def test_a_large_columnar_write_is_one_block_and_a_small_one_rows(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db", block_rows=3)
    try:
        write_columns(store, [desk("d1", T0 + i * S, occupied=i % 2) for i in range(3)])
        assert table_counts(store.path) == (0, 1)
        write_columns(store, [desk("d1", T0 + 10 * S, occupied=1)])
        assert table_counts(store.path) == (1, 1)
        assert store.count("presence") == 4
        got = store.read("presence", start=START, end=END)
        assert got["occupied"].tolist() == [0, 1, 0, 1]
    finally:
        store.close()


def test_a_point_written_again_wins_field_by_field_whichever_path(tmp_path: Path) -> None:
    """Block, then a point, then another block, all of one identity: each field
    reads as its newest write; the point stays one point."""
    store = SQLiteStore(tmp_path / "s.db", block_rows=1)
    try:
        write_columns(store, [desk("d1", T0, occupied=1, seq=1, sensor="s1")])
        store.write([desk("d1", T0, occupied=0)])
        write_columns(store, [desk("d1", T0, seq=2), desk("d2", T0, occupied=1)])
        got = store.read("presence", start=START, end=END)
        assert got["space"].tolist() == ["d1", "d2"]
        assert got["occupied"].tolist() == [0, 1]
        assert got["seq"].iloc[0] == 2 and pd.isna(got["seq"].iloc[1])
        assert got["sensor"].iloc[0] == "s1" and pd.isna(got["sensor"].iloc[1])
        assert store.count("presence") == 2
        last = store.last("presence", by="space")
        row = last[last["space"] == "d1"].iloc[0]
        assert (row["occupied"], row["seq"], row["sensor"]) == (0, 2, "s1")
        # the later block's d1 row went to the table, where d1 already was
        assert table_counts(store.path) == (1, 2)
    finally:
        store.close()


def test_one_identity_twice_in_a_block_merges_in_row_order(tmp_path: Path) -> None:
    """A duplicated delivery inside one bulk write (as InfluxDB: row order)."""
    store = SQLiteStore(tmp_path / "s.db", block_rows=1)
    try:
        write_columns(
            store,
            [
                desk("d1", T0, occupied=1, seq=1),
                desk("d2", T0, occupied=1),
                desk("d1", T0, occupied=0),
            ],
        )
        assert table_counts(store.path) == (0, 1)
        got = store.read("presence", start=START, end=END)
        assert got["space"].tolist() == ["d1", "d2"]
        assert got["occupied"].tolist() == [0, 1]
        assert got["seq"].iloc[0] == 1 and pd.isna(got["seq"].iloc[1])
        assert store.count("presence") == 2
        last = store.last("presence", by="space")
        assert last["occupied"].tolist() == [0, 1] and last["seq"].iloc[0] == 1
    finally:
        store.close()


def test_last_and_before_look_into_overlapping_blocks(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db", block_rows=1)
    try:
        # block 1 spans 0..100 s, block 2 (written later) 10..20 s
        write_columns(store, [desk("d1", T0, occupied=1), desk("d1", T0 + 100 * S, occupied=0)])
        write_columns(
            store, [desk("d1", T0 + 10 * S, occupied=1), desk("d1", T0 + 20 * S, occupied=1)]
        )
        before = pd.Timestamp(T0 + 50 * S, unit="ns", tz="UTC")
        got = store.last("presence", by="space", before=before.to_pydatetime())
        assert got["time"].tolist() == [pd.Timestamp(T0 + 20 * S, unit="ns", tz="UTC")]
        got = store.last("presence", by="space")
        assert got["time"].tolist() == [pd.Timestamp(T0 + 100 * S, unit="ns", tz="UTC")]
        assert got["occupied"].tolist() == [0]
        window = store.read(
            "presence",
            start=(before - timedelta(seconds=45)).to_pydatetime(),
            end=before.to_pydatetime(),
        )
        assert len(window) == 2  # 10 s and 20 s
    finally:
        store.close()


def test_last_before_a_time_inside_one_block(tmp_path: Path) -> None:
    """The latest point before a time that falls inside a block's span of the
    series: only decoding that block tells it (its span says 0 s .. 100 s)."""
    store = SQLiteStore(tmp_path / "s.db", block_rows=1)
    try:
        write_columns(store, [desk("d1", T0 + s * S, occupied=s % 2) for s in (0, 10, 35, 100)])
        before = pd.Timestamp(T0 + 50 * S, unit="ns", tz="UTC").to_pydatetime()
        got = store.last("presence", by="space", before=before)
        assert got["time"].tolist() == [pd.Timestamp(T0 + 35 * S, unit="ns", tz="UTC")]
        assert got["occupied"].tolist() == [1]
    finally:
        store.close()


# -- a store of blocks answers as a store of rows ------------------------------

SPACES = ["d1", "d2", "d3"]
FIELD_VALUES = {
    "occupied": st.integers(0, 1),
    "count": st.integers(-3, 40),
    "sensor": st.sampled_from(["s-1", "s-2", "ä"]),
    "hb": st.floats(1, 900, allow_nan=False),
    "ok": st.booleans(),
}


@st.composite
def batches(draw: st.DrawFn) -> list[tuple[str, list[Point]]]:
    """Writes of one measurement, each by points or by columns, identities unique
    within a write and often shared between writes."""
    out = []
    for _ in range(draw(st.integers(1, 6))):
        keys = draw(
            st.lists(
                st.tuples(st.sampled_from(SPACES), st.integers(0, 6)),
                min_size=1,
                max_size=12,
                unique=True,
            )
        )
        points = []
        for space, minute in keys:
            names = draw(st.lists(st.sampled_from(sorted(FIELD_VALUES)), min_size=1, unique=True))
            fields = {k: draw(FIELD_VALUES[k]) for k in names}
            point = desk(space, T0 + minute * 60 * S, **fields)
            # a second tag, sometimes missing: several series per space, whose
            # rows of one time must come in the documented tag order
            zone = draw(st.sampled_from(["", "ä", "Z", "a b"]))
            points.append(
                Point(point.measurement, {**point.tags, "zone": zone}, fields, point.time_ns)
            )
        out.append((draw(st.sampled_from(["points", "columns"])), points))
    return out


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(writes=batches(), minute=st.integers(0, 7))
def test_blocks_read_as_rows(
    tmp_path_factory: Any, writes: list[tuple[str, list[Point]]], minute: int
) -> None:
    folder = tmp_path_factory.mktemp("blocks")
    kept = SQLiteStore(folder / "blocks.db", block_rows=1)
    rows = SQLiteStore(folder / "rows.db", block_rows=10**9)
    try:
        for how, points in writes:
            for store in (kept, rows):
                if how == "points":
                    store.write(points)
                else:
                    write_columns(store, points)
        before = datetime.fromtimestamp((T0 + minute * 60 * S) / 1e9, UTC)
        queries: list[dict[str, Any]] = [
            {},
            {"where": {"space": ["d1", "d3"]}},
            {"fields": ["count", "ok"]},
            {"start": before},
        ]
        for args in queries:
            query: dict[str, Any] = {"start": START, "end": END, **args}
            pd.testing.assert_frame_equal(
                kept.read("presence", **query), rows.read("presence", **query)
            )
        for when in (None, before):
            pd.testing.assert_frame_equal(
                kept.last("presence", by="space", before=when),
                rows.last("presence", by="space", before=when),
            )
        assert kept.count("presence") == rows.count("presence")
        assert kept.count("presence", where={"space": "d2"}) == rows.count(
            "presence", where={"space": "d2"}
        )
    finally:
        kept.close()
        rows.close()


def test_identities_in_matches_pairs_not_times_alone() -> None:
    of = blocks.identity_keys(np.array([1, 2]), np.array([T0, T0 + S]))
    got = blocks.identities_in(
        np.array([1, 2, 1, 2, 3]), np.array([T0, T0, T0 + S, T0 + S, T0]), of
    )
    assert got.tolist() == [True, False, False, True, False]


def test_order_by_series_then_time_is_stable_for_short_and_long_spans() -> None:
    rng = np.random.default_rng(7)
    for span in (3_600 * S, 400 * 86_400 * S):  # one int64 key; two sorts (a year's read)
        sid = rng.integers(1, 300, 5_000)
        time = T0 + rng.integers(0, span, 5_000)
        time[:1_000] = T0  # ties: their order given must stay
        want = np.lexsort((np.arange(5_000), time, sid))
        assert blocks._order(sid, time).tolist() == want.tolist()


def test_merge_agrees_with_a_plain_dictionary_of_points() -> None:
    """Random rows, many identities written several times with some fields."""
    rng = np.random.default_rng(11)
    for n in (1, 7, 300, 5_000):
        sid = rng.integers(1, 6, n)
        time = T0 + rng.integers(0, 40, n) * S
        fields = {}
        for col in (1, 2):
            present = rng.random(n) < 0.6
            fields[col] = blocks.Column(INTEGER, rng.integers(0, 1_000, n), present)
        want: dict[tuple[int, int], dict[int, int]] = {}
        for i in range(n):  # oldest first: a later write overwrites the fields it has
            point = want.setdefault((int(sid[i]), int(time[i])), {})
            for col, c in fields.items():
                if c.present[i]:
                    point[col] = int(c.values[i])
        out = blocks.merge(blocks.Rows(sid, time, fields))
        assert list(zip(out.sid.tolist(), out.time.tolist(), strict=True)) == sorted(want)
        for j, key in enumerate(sorted(want)):
            for col in (1, 2):
                c = out.fields[col]
                got = int(c.values[j]) if c.present[j] else None
                assert got == want[key].get(col), (n, key, col)
