"""Raw retention in the stores (docs/storage.md, "Raw retention").

SQLite: ``delete_points`` deletes a span's points except each series' latest
in it, whether the points are B-tree rows or column blocks (dropped whole,
or rewritten when a block reaches past the span), in bounded transactions;
what is outside the span or of another site stays. Expected survivors are
worked out by hand.

InfluxDB: with ``raw_retention_days`` the raw measurements go to their own
retention policy of (days + 2) days in one-day shard groups, everything else
to the main policy; points written before stay readable; a store opened
without the setting finds the policy and uses it; a new setting alters it."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.base import (
    AGENT_STATUS,
    PRESENCE,
    RAW_RETENTION_POLICY,
    PartialWriteError,
    Point,
    Store,
    StoreError,
)
from storage.influx import InfluxStore
from storage.influxrp import go_duration_s
from storage.sqlite import SQLiteStore
from tests.servers import InfluxServer
from tests.storage.conftest import unique_database

H = 3_600_000_000_000
T0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
SPAN = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 3, tzinfo=UTC))  # [T0, T0 + 48 h)


def presence(site: str, space: str, hour: int, occupied: int = 1, base: int = T0) -> Point:
    return Point(PRESENCE, {"site": site, "space": space}, {"occupied": occupied}, base + hour * H)


def world() -> list[Point]:
    """Two spaces of site hq and one of site other, a point every 6 h from
    -12 h to 66 h, and agent statuses of hq."""
    points = [
        presence(site, space, h, h % 12 == 0)
        for site, space in (("hq", "d1"), ("hq", "d2"), ("other", "x1"))
        for h in range(-12, 67, 6)
    ]
    points += [
        Point(AGENT_STATUS, {"site": "hq", "agent": "ag"}, {"online": h != 30}, T0 + h * H)
        for h in (-6, 10, 30, 40, 60)
    ]
    return points


def hours(store: Store, measurement: str, base: int = T0, **where: str) -> dict[str, list[int]]:
    frame = store.read(
        measurement, start=datetime(2025, 1, 1, tzinfo=UTC), end=datetime(2099, 1, 1, tzinfo=UTC),
        where=where,
    )  # fmt: skip
    key = "space" if measurement == PRESENCE else "agent"
    out: dict[str, list[int]] = {}
    for name, t in zip(frame[key], frame["time"], strict=True):
        out.setdefault(name, []).append(int((t.value - base) // H))
    return {k: sorted(v) for k, v in out.items()}


def write(store: Store, how: str) -> None:
    points = world()
    if how == "points":
        store.write(points)
        return
    # as columns, one call per measurement and day: the blocks of a backfill,
    # two of them reaching past the end of the span
    for m in (PRESENCE, AGENT_STATUS):
        mine = [p for p in points if p.measurement == m]
        for lo, hi in ((-12, 0), (0, 24), (24, 60), (60, 67)):
            part = [p for p in mine if T0 + lo * H <= p.time_ns < T0 + hi * H]
            store.write_columns(
                m,
                time_ns=[p.time_ns for p in part],
                tags={k: [p.tags[k] for p in part] for k in part[0].tags},
                fields={k: [p.fields[k] for p in part] for k in part[0].fields},
            )


@pytest.mark.parametrize(
    ("blocks", "how"), [(False, "points"), (True, "columns"), (False, "columns")]
)
@pytest.mark.parametrize("batch_rows", [1, 20_000])
def test_sqlite_deletes_a_span_but_each_series_latest_point(
    tmp_path: Path, blocks: bool, how: str, batch_rows: int
) -> None:
    store = SQLiteStore(tmp_path / "s.db", block_rows=1 if blocks else 1_000_000)
    write(store, how)
    last_before = store.last(PRESENCE, by="space", before=SPAN[1], where={"site": "hq"})
    status_before = store.last(AGENT_STATUS, by="agent", before=SPAN[1], where={"site": "hq"})
    deleted = sum(
        store.delete_points(m, start=SPAN[0], end=SPAN[1], where={"site": "hq"},
                            batch_rows=batch_rows)
        for m in (PRESENCE, AGENT_STATUS)
    )  # fmt: skip
    # hour 0..47 of hq: 8 points a space, of which the latest (42) stays; statuses 10, 30, 40
    assert deleted == 2 * 7 + 2
    kept = [-12, -6, 42, 48, 54, 60, 66]
    assert hours(store, PRESENCE, site="hq") == {"d1": kept, "d2": kept}
    assert hours(store, PRESENCE, site="other") == {"x1": list(range(-12, 67, 6))}
    assert hours(store, AGENT_STATUS) == {"ag": [-6, 40, 60]}
    assert store.count(PRESENCE, where={"site": "hq"}) == 14
    # the state carried into the first kept hour is what it was
    after = store.last(PRESENCE, by="space", before=SPAN[1], where={"site": "hq"})
    assert after.equals(last_before)
    assert store.last(AGENT_STATUS, by="agent", before=SPAN[1], where={"site": "hq"}).equals(
        status_before
    )
    # again: nothing more to delete; a longer span then takes the older survivors too
    assert store.delete_points(PRESENCE, start=SPAN[0], end=SPAN[1], where={"site": "hq"}) == 0
    wider = datetime(2025, 12, 31, tzinfo=UTC)
    assert store.delete_points(PRESENCE, start=wider, end=SPAN[1], where={"site": "hq"}) == 4
    assert hours(store, PRESENCE, site="hq")["d1"] == [42, 48, 54, 60, 66]
    store.close()


def raw_policy_points(store: InfluxStore, measurement: str, rp: str) -> int:
    result = store.execute(f'SELECT count(*) FROM "{rp}"."{measurement}"')
    series = result[0].get("series") or []
    return int(max(series[0]["values"][0][1:])) if series else 0


def test_influx_raw_points_live_in_their_own_retention_policy(influx: InfluxServer) -> None:
    db = unique_database()
    # InfluxDB refuses points older than a policy's duration: recent times here
    base = (time.time_ns() // H - 72) * H
    before = InfluxStore(influx.url, database=db)  # no raw retention yet
    before.write(
        [
            presence("hq", "d1", -12, base=base),
            Point("utilisation", {"site": "hq"}, {"x": 1.0}, base),
        ]
    )
    store = InfluxStore(influx.url, database=db, raw_retention_days=30)
    store.write([presence("hq", "d1", h, base=base) for h in (0, 6)])
    store.write_columns(
        AGENT_STATUS, time_ns=[base], tags={"site": "hq", "agent": "ag"}, fields={"online": 1}
    )
    store.write([Point("summary_days", {"site": "hq"}, {"gen": 1}, T0)])
    policies = store.retention_policies()
    assert policies[RAW_RETENTION_POLICY] == (32 * 86_400, 86_400)
    assert store.expires_raw
    assert raw_policy_points(store, PRESENCE, RAW_RETENTION_POLICY) == 2
    assert raw_policy_points(store, AGENT_STATUS, RAW_RETENTION_POLICY) == 1
    assert raw_policy_points(store, PRESENCE, "autogen") == 1  # the one from before
    assert raw_policy_points(store, "summary_days", RAW_RETENTION_POLICY) == 0
    assert raw_policy_points(store, "summary_days", "autogen") == 1  # kept: an old time is fine
    assert raw_policy_points(store, "utilisation", RAW_RETENTION_POLICY) == 0
    # reads see both policies, merged
    assert hours(store, PRESENCE, base) == {"d1": [-12, 0, 6]}
    assert store.count(PRESENCE) == 3
    assert len(store.last(PRESENCE, by="space", before=datetime(2099, 1, 1, tzinfo=UTC))) == 1
    # a raw point older than the policy is refused by InfluxDB, and said so
    with pytest.raises(PartialWriteError, match="beyond retention policy"):
        store.write([presence("hq", "d1", 0)])
    # a store opened without the setting finds the policy: writes and reads go there
    plain = InfluxStore(influx.url, database=db)
    plain.write([presence("hq", "d1", 12, base=base)])
    assert raw_policy_points(plain, PRESENCE, RAW_RETENTION_POLICY) == 3
    assert hours(plain, PRESENCE, base) == {"d1": [-12, 0, 6, 12]}
    assert plain.retention_policies()[RAW_RETENTION_POLICY][0] == 32 * 86_400  # left as it is
    # another setting alters the policy
    changed = InfluxStore(influx.url, database=db, raw_retention_days=7)
    changed.count(PRESENCE)
    assert changed.retention_policies()[RAW_RETENTION_POLICY] == (9 * 86_400, 86_400)
    store.drop_database()
    for s in (before, store, plain, changed):
        s.close()


def test_influx_raw_policy_missing_where_the_store_may_not_create_it(
    influx: InfluxServer,
) -> None:
    db = unique_database()
    admin = InfluxStore(influx.url, database=db)
    admin.execute(f'CREATE DATABASE "{db}"')
    store = InfluxStore(influx.url, database=db, raw_retention_days=3, create_database=False)
    with pytest.raises(
        StoreError, match=r"CREATE RETENTION POLICY .*occupancy_raw.* DURATION 120h"
    ):
        store.write([presence("hq", "d1", 0, base=(time.time_ns() // H) * H)])
    # created as the message says, the store uses it
    admin.execute(
        f'CREATE RETENTION POLICY "occupancy_raw" ON "{db}" DURATION 120h REPLICATION 1 '
        "SHARD DURATION 1d"
    )
    store = InfluxStore(influx.url, database=db, raw_retention_days=3, create_database=False)
    store.write([presence("hq", "d1", 0, base=(time.time_ns() // H) * H)])
    assert raw_policy_points(store, PRESENCE, RAW_RETENTION_POLICY) == 1
    admin.drop_database()
    admin.close()
    store.close()


def test_influx_without_raw_retention_writes_as_before(influx: InfluxServer) -> None:
    store = InfluxStore(influx.url, database=unique_database())
    store.write([presence("hq", "d1", 0)])
    assert not store.expires_raw
    assert RAW_RETENTION_POLICY not in store.retention_policies()
    assert raw_policy_points(store, PRESENCE, "autogen") == 1
    with pytest.raises(Exception, match="cannot delete points"):
        store.delete_points(PRESENCE, start=SPAN[0], end=SPAN[1])
    store.drop_database()
    store.close()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0s", 0), ("72h0m0s", 259_200), ("1h30m", 5_400), ("168h0m0s", 604_800), ("500ms", 0.5)],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert go_duration_s(text) == seconds


@pytest.mark.parametrize("text", ["h", "12", "3x"])
def test_bad_go_durations(text: str) -> None:
    with pytest.raises(ValueError, match="not an InfluxDB duration"):
        go_duration_s(text)
