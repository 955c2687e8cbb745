"""The store contract (``storage.base.Store``), run against both stores: the real
InfluxDB 1.x server and a SQLite file, each written both ways: ``write`` of
points and ``write_columns`` of the same points as columns (on SQLite also kept
as column blocks, ``storage.blocks``). Expected values are
written out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from storage.base import PartialWriteError, Point, Store
from tests.storage.columnar import ColumnarWrites

T0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
MIN = 60_000_000_000
START = datetime(2025, 12, 1, tzinfo=UTC)
END = datetime(2026, 2, 1, tzinfo=UTC)


@pytest.fixture(
    params=[
        ("sqlite", "points"),
        ("sqlite", "columns"),
        ("sqlite_blocks", "columns"),
        ("influx", "points"),
        ("influx", "columns"),
    ],
    ids="-".join,
)
def store(request: pytest.FixtureRequest) -> Store:
    backend, writes = request.param
    inner: Store = request.getfixturevalue(f"{backend}_store")
    return inner if writes == "points" else ColumnarWrites(inner)


def at(ns: int) -> pd.Timestamp:
    return pd.Timestamp(ns, unit="ns", tz="UTC")


def desk(space: str, t: int, occupied: object, **extra: object) -> Point:
    tags = {"site": "hq", "floor": "1", "space": space}
    return Point("presence", tags, {"occupied": occupied, **extra}, t)  # type: ignore[dict-item]


def test_round_trip_of_every_field_type(store: Store) -> None:
    store.write(
        [
            Point(
                "presence",
                {"site": "hq", "space": "d1"},
                {"occupied": 1, "hb": 60.0, "ok": True, "sensor": "pir-7", "big": 2**62 + 1},
                T0,
            ),
            Point(
                "presence",
                {"site": "hq", "space": "d2"},
                {"occupied": 0, "hb": 0.1, "ok": False, "sensor": "", "big": -(2**63)},
                T0 + MIN,
            ),
        ]
    )
    df = store.read("presence", start=START, end=END)
    assert list(df.columns) == ["time", "site", "space", "big", "hb", "occupied", "ok", "sensor"]
    assert str(df["time"].dtype) == "datetime64[ns, UTC]"
    assert df["time"].tolist() == [at(T0), at(T0 + MIN)]
    assert df["site"].tolist() == ["hq", "hq"]
    assert df["space"].tolist() == ["d1", "d2"]
    assert df["occupied"].dtype == "int64" and df["occupied"].tolist() == [1, 0]
    assert df["big"].dtype == "int64" and df["big"].tolist() == [2**62 + 1, -(2**63)]
    assert df["hb"].dtype == "float64" and df["hb"].tolist() == [60.0, 0.1]
    assert df["ok"].dtype == "bool" and df["ok"].tolist() == [True, False]
    assert df["sensor"].tolist() == ["pir-7", ""]


def test_missing_fields_read_as_nan_or_none(store: Store) -> None:
    store.write([desk("d1", T0, 1, count=3, note="x"), desk("d2", T0 + 1, 0, flag=True)])
    df = store.read("presence", start=START, end=END)
    assert df["count"].dtype == "float64"  # integers with gaps read as floats (NaN)
    assert df["count"].iloc[0] == 3.0 and pd.isna(df["count"].iloc[1])
    assert df["note"].iloc[0] == "x" and pd.isna(df["note"].iloc[1])
    assert df["flag"].tolist() == [None, True]


def test_same_identity_is_one_point(store: Store) -> None:
    store.write([desk("d1", T0, 1, seq=5)])
    store.write([desk("d1", T0, 1, seq=5)])  # a redelivered message
    store.write([desk("d1", T0, 1, seq=5), desk("d1", T0, 1, seq=5)])  # twice in one batch
    assert store.count("presence") == 1
    assert len(store.read("presence", start=START, end=END)) == 1


def test_rewrite_merges_fields(store: Store) -> None:
    store.write([desk("d1", T0, 1, seq=5, sensor="a")])
    store.write([desk("d1", T0, 0, note="late")])
    df = store.read("presence", start=START, end=END)
    assert len(df) == 1
    row = df.iloc[0]
    assert (row["occupied"], row["seq"], row["sensor"], row["note"]) == (0, 5, "a", "late")


def test_identity_includes_every_tag_and_the_time(store: Store) -> None:
    store.write(
        [
            desk("d1", T0, 1),
            desk("d1", T0 + 1, 1),  # 1 ns later: another point
            desk("d2", T0, 1),  # another space
            Point("presence", {"site": "hq", "floor": "2", "space": "d1"}, {"occupied": 1}, T0),
            Point("other", {"site": "hq", "floor": "1", "space": "d1"}, {"occupied": 1}, T0),
        ]
    )
    assert store.count("presence") == 4
    assert store.count("other") == 1


def test_empty_tag_value_is_the_same_series_as_no_tag(store: Store) -> None:
    store.write([Point("m", {"site": "hq", "zone": ""}, {"f": 1}, T0)])
    store.write([Point("m", {"site": "hq"}, {"f": 2}, T0)])
    assert store.count("m") == 1
    assert store.read("m", start=START, end=END)["f"].tolist() == [2]
    assert store.count("m", where={"zone": ""}) == 1


def test_tag_filters(store: Store) -> None:
    store.write(
        [
            desk("d1", T0, 1),
            desk("d2", T0 + 1, 0),
            desk("d3", T0 + 2, 1),
            Point("presence", {"site": "annex", "floor": "1", "space": "d1"}, {"occupied": 0}, T0),
        ]
    )

    def spaces(where: dict) -> list[tuple[str, str]]:
        df = store.read("presence", start=START, end=END, where=where)
        return list(zip(df["site"], df["space"], strict=True))

    assert spaces({"site": "hq"}) == [("hq", "d1"), ("hq", "d2"), ("hq", "d3")]
    assert spaces({"site": "hq", "space": "d2"}) == [("hq", "d2")]
    assert spaces({"space": ["d1", "d3"]}) == [("annex", "d1"), ("hq", "d1"), ("hq", "d3")]
    assert spaces({"site": ["hq"], "space": ("d3", "nope")}) == [("hq", "d3")]
    assert spaces({"space": "nope"}) == []
    assert spaces({"space": []}) == []
    assert spaces({"no_such_tag": "x"}) == []
    assert store.count("presence", where={"space": ["d1", "d2"]}) == 3
    assert store.count("presence", where={"site": "annex"}) == 1
    assert store.count("presence", where={"space": []}) == 0


def test_time_bounds_start_inclusive_end_exclusive(store: Store) -> None:
    store.write([desk("d1", T0 + i * MIN, i % 2) for i in range(5)])
    df = store.read("presence", start=at(T0 + MIN), end=at(T0 + 3 * MIN))
    assert df["time"].tolist() == [at(T0 + MIN), at(T0 + 2 * MIN)]
    # Nanosecond-exact bounds (pandas Timestamps keep the nanoseconds datetime drops).
    df = store.read("presence", start=at(T0 + MIN + 1), end=at(T0 + 3 * MIN + 1))
    assert df["time"].tolist() == [at(T0 + 2 * MIN), at(T0 + 3 * MIN)]
    t0 = at(T0).to_pydatetime()
    assert len(store.read("presence", start=t0, end=t0)) == 0
    assert len(store.read("presence", start=t0, end=t0 + timedelta(microseconds=1))) == 1


def test_read_selected_fields(store: Store) -> None:
    store.write([desk("d1", T0, 1, seq=1, sensor="a"), desk("d2", T0 + 1, 0, sensor="b")])
    df = store.read("presence", start=START, end=END, fields=["seq"])
    # Only points that have a selected field are rows, as in InfluxQL.
    assert list(df.columns) == ["time", "floor", "site", "space", "seq"]
    assert df["space"].tolist() == ["d1"] and df["seq"].tolist() == [1]
    df = store.read("presence", start=START, end=END, fields=["sensor", "occupied"])
    assert list(df.columns) == ["time", "floor", "site", "space", "occupied", "sensor"]
    assert df["sensor"].tolist() == ["a", "b"]


def test_last_per_tag_value(store: Store) -> None:
    store.write(
        [
            desk("d1", T0, 1, seq=1),
            desk("d1", T0 + 10 * MIN, 0, seq=2),
            desk("d1", T0 + 20 * MIN, 1, seq=3),
            desk("d2", T0 + 5 * MIN, 1, seq=1),
            Point("presence", {"site": "annex", "space": "a1"}, {"occupied": 0, "seq": 9}, T0),
            Point("presence", {"site": "hq"}, {"occupied": 1, "seq": 99}, T0 + 30 * MIN),
        ]
    )
    df = store.last("presence", by="space", where={"site": "hq"})
    assert df["space"].tolist() == ["d2", "d1"]  # sorted by time
    assert df["seq"].tolist() == [1, 3]
    assert df["time"].tolist() == [at(T0 + 5 * MIN), at(T0 + 20 * MIN)]

    df = store.last("presence", by="space", before=at(T0 + 20 * MIN).to_pydatetime())
    got = dict(zip(df["space"], df["seq"], strict=True))
    assert got == {"d1": 2, "d2": 1, "a1": 9}

    df = store.last("presence", by="space", before=at(T0).to_pydatetime())
    assert len(df) == 0 and "time" in df.columns
    assert len(store.last("presence", by="space", where={"space": []})) == 0


def test_last_merges_series_of_one_tag_value(store: Store) -> None:
    # A space that moved floor is two series; its last point is the later of both.
    store.write(
        [
            Point("presence", {"floor": "1", "space": "d1"}, {"occupied": 1}, T0),
            Point("presence", {"floor": "2", "space": "d1"}, {"occupied": 0}, T0 + MIN),
        ]
    )
    df = store.last("presence", by="space")
    assert df[["floor", "space", "occupied"]].values.tolist() == [["2", "d1", 0]]


def test_count(store: Store) -> None:
    assert store.count("presence") == 0
    store.write([desk(f"d{i % 7}", T0 + i * MIN, 1) for i in range(100)])
    assert store.count("presence") == 100
    assert store.count("presence", where={"space": "d0"}) == 15  # i = 0, 7, ..., 98
    # Points with different fields are still one point each.
    store.write([desk("x", T0, 1), Point("presence", {"space": "x2"}, {"other": 1.5}, T0)])
    assert store.count("presence") == 102


def test_empty_results_have_a_time_column(store: Store) -> None:
    df = store.read("nothing", start=START, end=END)
    assert len(df) == 0 and list(df.columns) == ["time"]
    assert str(df["time"].dtype) == "datetime64[ns, UTC]"
    assert list(store.last("nothing", by="space").columns) == ["time"]
    assert store.count("nothing") == 0

    store.write([desk("d1", T0, 1, sensor="a")])
    df = store.read("presence", start=END, end=END + timedelta(days=1))
    assert len(df) == 0
    assert list(df.columns) == ["time", "floor", "site", "space", "occupied", "sensor"]
    assert df["occupied"].dtype == "int64"
    df = store.read("presence", start=START, end=END, where={"space": "none"}, fields=["nope"])
    assert len(df) == 0 and df.columns[0] == "time" and "nope" in df.columns


AWKWARD = [
    "a b",
    "a,b",
    "a=b",
    'say "hi"',
    "it's",
    "back\\slash",
    "two\\\\ back",
    "\\,",
    "työpiste ä",
    "会议室",
    "🚀 x",
    "=start",
    ",",
    " lead",
    "#hash",
]


@pytest.mark.parametrize("value", AWKWARD)
def test_awkward_tag_values_and_strings(store: Store, value: str) -> None:
    store.write(
        [
            Point("presence", {"space": value, "site": "hq"}, {"note": value, "n": 1}, T0),
            Point("presence", {"space": "plain", "site": "hq"}, {"note": "p", "n": 2}, T0),
        ]
    )
    df = store.read("presence", start=START, end=END, where={"space": value})
    assert df["space"].tolist() == [value]
    assert df["note"].tolist() == [value]
    assert store.count("presence", where={"space": [value, "plain"]}) == 2
    assert store.last("presence", by="space", where={"space": value})["note"].tolist() == [value]


def test_awkward_measurement_and_keys(store: Store) -> None:
    name = "m e,a=\"s\\u'r ä"
    tag_key = 'k e,y="t\\ag ö'
    field_key = 'f i,e=l"d\\x 🚀'
    store.write([Point(name, {tag_key: "v", "site": "hq"}, {field_key: "x\ny"}, T0)])
    df = store.read(name, start=START, end=END, where={tag_key: "v"})
    assert df[tag_key].tolist() == ["v"]
    assert df[field_key].tolist() == ["x\ny"]
    assert store.count(name, where={tag_key: "v"}) == 1
    assert store.last(name, by=tag_key)[field_key].tolist() == ["x\ny"]
    df = store.read(name, start=START, end=END, fields=[field_key])
    assert df[field_key].tolist() == ["x\ny"]


def test_field_type_conflict_rejects_exactly_the_conflicting_points(store: Store) -> None:
    store.write([desk("d1", T0, 1)])
    batch = [desk(f"d{i}", T0 + i, 1) for i in range(2, 10)]
    batch[3] = desk("d5", T0 + 5, 0.5)  # a float where integers are
    batch[6] = desk("d8", T0 + 8, "yes")
    with pytest.raises(PartialWriteError) as caught:
        store.write(batch)
    err = caught.value
    assert [r.point for r in err.rejected] == [batch[3], batch[6]]
    assert all("conflict" in r.reason for r in err.rejected)
    assert err.written == 6
    df = store.read("presence", start=START, end=END)
    assert df["space"].tolist() == ["d1", "d2", "d3", "d4", "d6", "d7", "d9"]


def test_points_line_protocol_cannot_carry_are_rejected_alone(store: Store) -> None:
    good = [desk("d1", T0, 1), desk("d2", T0, 1)]
    bad = [
        Point("presence", {"space": "new\nline"}, {"occupied": 1}, T0),
        Point("presence", {"space": "d3"}, {}, T0),
        Point("presence", {"space": "d4"}, {"occupied": float("nan")}, T0),
    ]
    with pytest.raises(PartialWriteError) as caught:
        store.write([good[0], *bad, good[1]])
    assert [r.point for r in caught.value.rejected] == bad
    assert caught.value.written == 2
    assert store.count("presence") == 2


def test_writing_nothing_is_fine(store: Store) -> None:
    store.write([])
    store.ping()
    assert store.count("presence") == 0


def test_naive_bounds_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="naive"):
        store.read("presence", start=datetime(2026, 1, 1), end=END)
