"""Backfill speed: 1 year x 1,000 desks (goal < 60 s), with same-run baselines.

Rows, all on one synthetic site of 1,000 desks + 40 meeting rooms (4 agents),
seed 1, from 2026-01-01:
  generate only            the engine's rows (people, sensing, heartbeats, faults)
  + columns, no store      ... turned into write_columns columns, written nowhere
  SQLite, column blocks    end to end into SQLiteStore, the default path: each
                           write_columns call (a simulated day) one Parquet block
  SQLite, B-tree rows      the same into SQLiteStore(block_rows=inf): a B-tree row
                           per point (the layout before column blocks)
  InfluxDB, columns        end to end into a local influxd (tests/servers.py), if it starts
  SQLite, points (old)     a Point per event through SQLiteStore.write
  SQLite insert, isolated  what bounds the B-tree rows: presence-shaped tuples,
                           prebuilt and sorted, executemany into the same table
                           shape in 1M-row transactions (no simulator, no store)
Rows measured on fewer days than 365 are extrapolated linearly (per simulated
day) and marked ``est.``. Run: ``.venv/bin/python benchmarks/simulator_backfill.py``
(options: ``--gen-days 365 --columns-days 365 --blocks-days 365 --rows-days 28
--influx-days 7 --points-days 1 --insert-rows 3000000``).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from simulators.backfill import BackfillResult, backfill
from simulators.scenario import Scenario
from simulators.synthetic import synthetic_site
from storage.base import PRESENCE, Store
from storage.influx import InfluxStore
from storage.sqlite import SQLiteStore

START = datetime(2026, 1, 1, tzinfo=UTC)
Row = tuple[str, int, int, int, float]  # label, days, events, points, seconds


def run(label: str, days: int, store: Store | None, *, build: bool, columnar: bool = True) -> Row:
    end = START + timedelta(days=days)
    t = time.perf_counter()
    r: BackfillResult = backfill(
        synthetic_site(1000),
        Scenario(seed=1),
        store,
        START,
        end,
        build_points=build,
        columnar=columnar,
        collect=False,
    )
    return label, days, r.events, r.points, time.perf_counter() - t


def insert_baseline(path: Path, n: int) -> Row:
    """SQLite alone: n presence-shaped rows (1,040 series, 288 a day each) bound
    from prebuilt tuples, sorted by key, 1M rows a transaction, synchronous=FULL."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA cache_size=-262144")
    conn.execute(
        "CREATE TABLE p (series_id INTEGER NOT NULL, time_ns INTEGER NOT NULL, "
        "f1, f2, f3, f4, f5, f6, PRIMARY KEY (series_id, time_ns)) WITHOUT ROWID"
    )
    series = 1040
    sensors = [f"s-f{i // 260 + 1}-d{i:04d}" for i in range(series)]
    agents = [f"agent-f{i // 260 + 1}" for i in range(series)]
    t0 = 1_767_225_600_000_000_000
    sql = (
        "INSERT INTO p VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (series_id, time_ns) DO "
        "UPDATE SET f1 = excluded.f1, f2 = excluded.f2, f3 = excluded.f3, f4 = excluded.f4, "
        "f5 = excluded.f5, f6 = excluded.f6"
    )
    batches = []
    for a in range(0, n, 1_000_000):
        i = np.arange(a, min(n, a + 1_000_000))
        sid, slot = i % series, i // series
        t = t0 + slot * 300_000_000_000 + sid * 1_000_000
        order = np.lexsort((t, sid))
        sid, t = sid[order], t[order]
        s = sid.tolist()
        batches.append(
            list(
                zip(
                    (sid + 1).tolist(),
                    t.tolist(),
                    (slot[order] % 2).tolist(),
                    i[order].tolist(),
                    [sensors[k] for k in s],
                    [agents[k] for k in s],
                    ["heartbeat"] * len(s),
                    [300.0] * len(s),
                    strict=True,
                )
            )
        )
    start = time.perf_counter()
    for rows in batches:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")
    seconds = time.perf_counter() - start
    conn.close()
    return "SQLite insert, isolated", 0, 0, n, seconds


READ_DAYS = 14


def sqlite_run(
    label: str, days: int, path: Path, **kw: int
) -> tuple[Row, float, tuple[int, float]]:
    """A run into a fresh SQLite file; the file's size (GB) with its WAL; and
    (rows, seconds) of reading the presence of the first ``READ_DAYS`` days back
    (what a two-week report reads: occupied and heartbeat interval of every desk)."""
    store = SQLiteStore(path, **kw)
    row = run(label, days, store, build=True)
    t = time.perf_counter()
    frame = store.read(
        PRESENCE,
        start=START,
        end=START + timedelta(days=min(days, READ_DAYS)),
        where={"site": "synthetic"},
        fields=["occupied", "hb"],
    )
    read = len(frame), time.perf_counter() - t
    store.close()
    files = list(path.parent.glob(path.name + "*"))
    size = sum(f.stat().st_size for f in files) / 1e9
    for f in files:
        f.unlink()
    return row, size, read


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gen-days", type=int, default=365)
    ap.add_argument("--columns-days", type=int, default=365)
    ap.add_argument("--blocks-days", type=int, default=365)
    ap.add_argument("--rows-days", type=int, default=28)
    ap.add_argument("--influx-days", type=int, default=7)
    ap.add_argument("--points-days", type=int, default=1)
    ap.add_argument("--insert-rows", type=int, default=3_000_000)
    a = ap.parse_args()
    rows: list[Row] = [run("generate only (baseline)", a.gen_days, None, build=False)]
    rows.append(run("+ columns, no store", a.columns_days, None, build=True))
    sizes: dict[str, tuple[float, int]] = {}
    reads: dict[str, tuple[int, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, days, kw in (
            ("SQLite, column blocks", a.blocks_days, {}),
            ("SQLite, B-tree rows", a.rows_days, {"block_rows": 2**62}),
        ):
            row, size, read = sqlite_run(label, days, Path(tmp) / "backfill.db", **kw)
            rows.append(row)
            sizes[label] = size, days
            reads[label] = read
        try:
            from tests.servers import InfluxServer

            server = InfluxServer(Path(tmp) / "influx").start()
        except (RuntimeError, OSError, FileNotFoundError) as exc:
            print(f"InfluxDB row skipped: no influxd could be started ({exc})", file=sys.stderr)
            server = None
        if server is not None:
            try:
                influx = InfluxStore(server.url, database="bench", timeout_s=120)
                rows.append(run("InfluxDB, columns", a.influx_days, influx, build=True))
                influx.close()
            finally:
                server.stop()
        points = SQLiteStore(Path(tmp) / "points.db", block_rows=2**62)
        rows.append(
            run("SQLite, points (old path)", a.points_days, points, build=True, columnar=False)
        )
        points.close()
        rows.append(insert_baseline(Path(tmp) / "insert.db", a.insert_rows))
    print(
        "\nBackfill, synthetic site 1,000 desks + 40 rooms (1,040 sensors, 4 agents), "
        f"seed 1, heartbeat 300 s, from {START:%Y-%m-%d}"
    )
    head = (
        f"| {'variant':<26} | {'days':>4} | {'events':>11} | {'points':>11} | {'s':>7} "
        f"| {'points/s':>10} | {'1 y x 1,000 desks, s':>21} |"
    )
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    year_points = rows[1][3] * 365 / rows[1][1]
    for label, days, events, n_points, seconds in rows:
        if days:
            year = seconds * 365 / days
            est = "" if days >= 365 else " est."
        else:  # the isolated insert: the year's points at this rate
            year, est = seconds * year_points / n_points, " est."
        rate = n_points / seconds if n_points else events / seconds
        print(
            f"| {label:<26} | {days or '':>4} | {f'{events:,}' if events else '':>11} "
            f"| {n_points:>11,} "
            f"| {seconds:>7.1f} | {rate:>10,.0f} | {year:>16,.0f}{est:>5} |"
        )
    print(f"\nA year is {year_points:,.0f} points. SQLite file sizes:")
    for label, (size, days) in sizes.items():
        print(f"  {label}: {size:.2f} GB for {days} days ({size * 365 / days:.2f} GB a year)")
    print(f"Reading the first {READ_DAYS} days back (presence: occupied, hb; one site):")
    for label, (n, seconds) in reads.items():
        print(f"  {label}: {n:,} rows in {seconds:.1f} s ({n / seconds:,.0f} rows/s)")


if __name__ == "__main__":
    main()
