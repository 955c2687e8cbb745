"""``Store.write_columns``: its fast paths (SQLite, real InfluxDB) against
``write`` of the same points, and hand-worked cases of what columns mean.

The property tests draw columns in every accepted form (lists, object and typed
arrays, masked arrays, Categoricals, single values), with refused values and
repeated identities among them, onto a store that may already hold fields of
another type; ``write_columns`` and ``write(column_points(...))`` must leave two
stores reading back the same, and refuse the same rows for the same reasons."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.base import PartialWriteError, Point, Store
from storage.columns import column_points
from storage.influx import InfluxStore
from storage.lineprotocol import MAX_TIME_NS
from storage.sqlite import SQLiteStore
from tests.servers import InfluxServer

T0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
START = datetime(2025, 12, 1, tzinfo=UTC)
END = datetime(2026, 2, 1, tzinfo=UTC)
SPACES = ["d1", "d2", "", "a b", "x,y=z", "bad\nline"]
SENSORS = ["s1", 'q"uote', "", "ä"]


def at(ns: int) -> pd.Timestamp:
    return pd.Timestamp(ns, unit="ns", tz="UTC")


def objects(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), object)
    out[:] = values
    return out


@st.composite
def columns(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(0, 12))
    rows = st.lists(st.integers(0, 5), min_size=n, max_size=n)
    space = [SPACES[i] for i in draw(rows)]
    tag_form = draw(st.sampled_from(["list", "array", "categorical"]))
    if tag_form == "categorical":
        space_col: Any = pd.Categorical(space)
    elif tag_form == "array":
        space_col = np.array(space, dtype=object)
    else:
        space_col = space
    times = [T0 + i % 4 for i in draw(rows)]  # few distinct times: repeated identities
    if n and draw(st.booleans()):
        times[0] = MAX_TIME_NS + 1  # outside InfluxDB's range
    occupied = np.array(draw(rows), np.int64) % 2
    occ_mask = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), bool)
    hb = np.array([[60.0, 0.5, np.nan, np.inf, 1e300, -0.25][i] for i in draw(rows)])
    sensor = [None if i == 5 else SENSORS[i % 4] for i in draw(rows)]
    fields: dict[str, Any] = {}
    if draw(st.booleans()):
        fields["occupied"] = np.ma.masked_array(occupied.astype(np.int8), mask=occ_mask)
    fields["hb"] = draw(st.sampled_from([hb, 300.0]))
    if draw(st.booleans()):
        fields["sensor"] = draw(st.sampled_from([sensor, objects(sensor), pd.Categorical(sensor)]))
    if draw(st.booleans()):
        fields["ok"] = objects([None if i == 0 else i % 2 == 1 for i in draw(rows)])
    if draw(st.booleans()):
        fields["space"] = "a field named like a tag"
    tags: dict[str, Any] = {"site": "hq", "space": space_col}
    return {"time_ns": np.array(times, np.int64), "tags": tags, "fields": fields}


prior_points = st.lists(
    st.sampled_from(
        [
            Point("presence", {"site": "hq", "space": "d1"}, {"hb": 5}, T0),  # hb an integer
            Point("presence", {"site": "hq", "space": "d2"}, {"occupied": 1.5}, T0 + 9),
            Point("presence", {"site": "hq", "space": "d9"}, {"sensor": "z", "ok": False}, T0),
        ]
    ),
    max_size=2,
)


def outcome(store: Store, write: Any) -> list[tuple[int | None, str]]:
    try:
        write()
    except PartialWriteError as exc:
        return [(r.row, r.reason) for r in exc.rejected]
    return []


def assert_same(a: Store, b: Store) -> None:
    assert a.count("presence") == b.count("presence")
    pd.testing.assert_frame_equal(
        a.read("presence", start=START, end=END), b.read("presence", start=START, end=END)
    )
    pd.testing.assert_frame_equal(a.last("presence", by="space"), b.last("presence", by="space"))


def check_equivalent(a: Store, b: Store, prior: list[Point], cols: dict[str, Any]) -> None:
    """``a`` by ``write_columns``, ``b`` by ``write`` of the points."""
    for store in (a, b):
        for p in prior:
            with suppress(PartialWriteError):  # the second may conflict with the first
                store.write([p])
    points = column_points("presence", **cols)
    fast = outcome(a, lambda: a.write_columns("presence", **cols))
    row_of = {id(p): i for i, p in enumerate(points)}
    try:
        b.write(points)
        slow: list[tuple[int | None, str]] = []
    except PartialWriteError as exc:
        slow = [(row_of[id(r.point)], r.reason) for r in exc.rejected]
    assert fast == slow
    assert_same(a, b)


PROPERTY = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY
@given(prior=prior_points, cols=columns())
def test_sqlite_write_columns_equals_write_of_the_points(
    tmp_path: Path, prior: list[Point], cols: dict[str, Any]
) -> None:
    name = uuid.uuid4().hex
    a, b = SQLiteStore(tmp_path / f"{name}-a.db"), SQLiteStore(tmp_path / f"{name}-b.db")
    try:
        check_equivalent(a, b, prior, cols)
    finally:
        a.close()
        b.close()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(prior=prior_points, cols=columns())
def test_influx_write_columns_equals_write_of_the_points(
    influx: InfluxServer, prior: list[Point], cols: dict[str, Any]
) -> None:
    a = InfluxStore(influx.url, database=f"test_{uuid.uuid4().hex[:12]}")
    b = InfluxStore(influx.url, database=f"test_{uuid.uuid4().hex[:12]}")
    try:
        check_equivalent(a, b, prior, cols)
    finally:
        for store in (a, b):
            store.drop_database()
            store.close()


# ------------------------------------------------------------ hand-worked cases


@pytest.fixture(params=["sqlite", "influx"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    yield request.getfixturevalue(f"{request.param}_store")


def test_single_values_categoricals_and_masks(store: Store) -> None:
    store.write_columns(
        "presence",
        time_ns=np.array([T0, T0 + 1, T0 + 2]),
        tags={"site": "hq", "space": pd.Categorical.from_codes([1, 0, 1], pd.Index(["d1", "d2"]))},
        fields={
            "occupied": np.array([1, 0, 1], np.int8),
            "count": np.ma.masked_array([3, 0, 5], mask=[False, True, False]),
            "kind": pd.Categorical.from_codes([0, -1, 1], pd.Index(["change", "heartbeat"])),
            "hb": 300.0,
        },
    )
    df = store.read("presence", start=START, end=END)
    assert df["space"].tolist() == ["d2", "d1", "d2"]
    assert df["occupied"].tolist() == [1, 0, 1] and df["occupied"].dtype == "int64"
    assert df["count"].iloc[0] == 3.0 and pd.isna(df["count"].iloc[1])
    assert df["count"].iloc[2] == 5.0
    assert df["kind"].iloc[0] == "change" and pd.isna(df["kind"].iloc[1])
    assert df["hb"].tolist() == [300.0, 300.0, 300.0]


def test_rewrite_by_columns_merges_fields(store: Store) -> None:
    store.write([Point("presence", {"site": "hq", "space": "d1"}, {"seq": 7, "occupied": 1}, T0)])
    store.write_columns(
        "presence",
        time_ns=[T0, T0],  # the same identity twice: the later row wins
        tags={"site": "hq", "space": ["d1", "d1"]},
        fields={"occupied": np.array([1, 0]), "note": ["first", "second"]},
    )
    df = store.read("presence", start=START, end=END)
    assert len(df) == 1
    row = df.iloc[0]
    assert (row["seq"], row["occupied"], row["note"]) == (7, 0, "second")


def test_type_conflict_refuses_exactly_the_rows_that_carry_the_field(store: Store) -> None:
    store.write([Point("presence", {"space": "d0"}, {"occupied": 1}, T0)])
    with pytest.raises(PartialWriteError) as caught:
        store.write_columns(
            "presence",
            time_ns=T0 + np.arange(1, 5),
            tags={"space": ["d1", "d2", "d3", "d4"]},
            fields={
                "seq": np.array([1, 2, 3, 4]),
                # a float where integers are, in rows 1 and 3 only
                "occupied": np.ma.masked_array(
                    [0.0, 0.5, 0.0, 1.0], mask=[True, False, True, False]
                ),
            },
        )
    err = caught.value
    assert [r.row for r in err.rejected] == [1, 3]
    assert all("conflict" in r.reason for r in err.rejected)
    assert err.rejected[0].point == Point(
        "presence", {"space": "d2"}, {"seq": 2, "occupied": 0.5}, T0 + 2
    )
    assert err.written == 2
    df = store.read("presence", start=START, end=END)
    assert df["space"].tolist() == ["d0", "d1", "d3"]
    assert df["seq"].iloc[1:].tolist() == [1.0, 3.0]


def test_rows_line_protocol_cannot_carry_are_refused_alone(store: Store) -> None:
    with pytest.raises(PartialWriteError) as caught:
        store.write_columns(
            "presence",
            time_ns=[T0, T0 + 1, T0 + 2, T0 + 3, MAX_TIME_NS + 1],
            tags={"space": ["d1", "new\nline", "d3", "d4", "d5"]},
            fields={
                "hb": np.array([60.0, 60.0, np.nan, 60.0, 60.0]),
                "occupied": np.ma.masked_array([1, 1, 1, 1, 1], mask=[False] * 5),
            },
        )
    assert [r.row for r in caught.value.rejected] == [1, 2, 4]
    reasons = [r.reason for r in caught.value.rejected]
    assert "control character" in reasons[0]
    assert "not finite" in reasons[1]
    assert "outside InfluxDB's range" in reasons[2]
    assert store.count("presence") == 2


def test_a_row_without_fields_is_refused(store: Store) -> None:
    with pytest.raises(PartialWriteError) as caught:
        store.write_columns(
            "presence", time_ns=[T0, T0 + 1], tags={"space": "d1"}, fields={"note": ["x", None]}
        )
    assert [(r.row, r.reason) for r in caught.value.rejected] == [
        (1, "point of 'presence' has no fields")
    ]
    assert store.count("presence") == 1


def test_mixed_types_in_one_column_go_point_by_point(store: Store) -> None:
    with pytest.raises(PartialWriteError) as caught:
        store.write_columns(
            "presence",
            time_ns=[T0, T0 + 1, T0 + 2],
            tags={"space": "d1"},
            fields={"occupied": [1, "yes", 0]},
        )
    assert [r.row for r in caught.value.rejected] == [1]
    assert store.read("presence", start=START, end=END)["occupied"].tolist() == [1, 0]


def test_columns_of_unequal_length_are_a_caller_error(store: Store) -> None:
    with pytest.raises(ValueError, match="'space' has 1 values for 2 rows"):
        store.write_columns(
            "presence", time_ns=[T0, T0 + 1], tags={"space": ["d1"]}, fields={"f": 1}
        )
    with pytest.raises(ValueError, match="'f' has 3 values for 2 rows"):
        store.write_columns(
            "presence", time_ns=[T0, T0 + 1], tags={"space": "d1"}, fields={"f": [1, 2, 3]}
        )
    assert store.count("presence") == 0


def test_nothing_to_write(store: Store) -> None:
    store.write_columns("presence", time_ns=np.array([], np.int64), tags={}, fields={"f": []})
    assert store.count("presence") == 0


def test_influx_requests_are_split_by_size(influx: InfluxServer) -> None:
    # 1,000 rows in requests of at most 2,000 bytes (lines of ~60 bytes): many requests.
    store = InfluxStore(influx.url, database=f"test_{uuid.uuid4().hex[:12]}", chunk_bytes=2_000)
    try:
        n = 1_000
        store.write_columns(
            "presence",
            time_ns=T0 + np.arange(n),
            tags={
                "site": "hq",
                "space": pd.Categorical.from_codes(np.arange(n) % 7, pd.Index(list("abcdefg"))),
            },
            fields={"seq": np.arange(n)},
        )
        assert store.count("presence") == n
        df = store.read("presence", start=START, end=END, where={"space": "c"})
        assert df["seq"].tolist() == list(range(2, n, 7))
    finally:
        store.drop_database()
        store.close()
