"""Store write and encode throughput, each beside a naive baseline measured in
the same run, on the same machine and the same servers.

    .venv/bin/python benchmarks/storage_write.py [--points 100000]

Rows:
- line protocol: ``encode_points`` vs a straightforward encoder (escape every
  string each time, no caches);
- SQLite: ``SQLiteStore.write`` in batches of 5,000 vs one transaction per point;
- InfluxDB 1.x (a local influxd started for the run): ``InfluxStore.write`` in
  batches of 5,000 vs one HTTP write per point (the naive ingest);
- reads of everything written: ``count`` and a one-day ``read`` for one site.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from storage.base import Point
from storage.influx import InfluxStore
from storage.lineprotocol import encode_points
from storage.sqlite import SQLiteStore
from tests.servers import InfluxServer

T0 = 1_767_254_400_000_000_000  # 2026-01-01T08:00:00Z
BATCH = 5_000


def presence_points(n: int) -> list[Point]:
    """Realistic points: 280 spaces of one site, one event every few seconds."""
    out = []
    for i in range(n):
        space = i % 280
        out.append(
            Point(
                "presence",
                {
                    "site": "virastotalo",
                    "floor": str(space // 70 + 1),
                    "zone": f"z{space // 20}",
                    "space": f"desk-{space:03d}",
                    "space_type": "desk",
                },
                {
                    "occupied": i % 2,
                    "seq": i,
                    "sensor": f"pir-{space:03d}",
                    "agent": f"agent-f{space // 70 + 1}",
                    "kind": "change",
                    "hb": 60.0,
                },
                T0 + i * 3_000_000_000 // 280 * 280 + space,
            )
        )
    return out


def naive_line(p: Point) -> str:
    def esc(s: str) -> str:
        return s.replace(",", "\\,").replace(" ", "\\ ").replace("=", "\\=")

    tags = "".join(f",{esc(k)}={esc(v)}" for k, v in sorted(p.tags.items()))
    fields = []
    for k, v in p.fields.items():
        if isinstance(v, bool):
            text = "true" if v else "false"
        elif isinstance(v, int):
            text = f"{v}i"
        elif isinstance(v, float):
            text = repr(v)
        else:
            text = '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        fields.append(f"{esc(k)}={text}")
    measurement = p.measurement.replace(",", "\\,").replace(" ", "\\ ")
    return f"{measurement}{tags} {','.join(fields)} {p.time_ns}"


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    """Best of ``repeat`` runs: the machine is shared, the minimum is the least noisy."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def batches(points: list[Point]) -> list[list[Point]]:
    return [points[i : i + BATCH] for i in range(0, len(points), BATCH)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--naive-points", type=int, default=1_000)
    args = parser.parse_args()
    points = presence_points(args.points)
    naive = points[: args.naive_points]
    rows: list[tuple[str, int, float]] = []

    rows.append(
        (
            "encode: naive encoder",
            len(points),
            timed(lambda: [naive_line(p) for p in points], repeat=5),
        )
    )
    rows.append(
        ("encode: encode_points", len(points), timed(lambda: encode_points(points), repeat=5))
    )

    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "bench.db")
        rows.append(
            (
                "sqlite: 1 transaction per point",
                len(naive),
                timed(lambda: [store.write([p]) for p in naive]),
            )
        )
        store.close()
        store = SQLiteStore(Path(tmp) / "bench2.db")
        rows.append(
            (
                f"sqlite: write, batches of {BATCH}",
                len(points),
                timed(lambda: [store.write(b) for b in batches(points)]),
            )
        )
        rows.append(("sqlite: count (all)", len(points), timed(lambda: store.count("presence"))))
        day = datetime(2026, 1, 1, tzinfo=UTC)
        n_read = len(
            store.read(
                "presence", start=day, end=day + timedelta(days=1), where={"site": "virastotalo"}
            )
        )
        rows.append(
            (
                "sqlite: read one day, one site",
                n_read,
                timed(
                    lambda: store.read(
                        "presence",
                        start=day,
                        end=day + timedelta(days=1),
                        where={"site": "virastotalo"},
                    )
                ),
            )
        )
        store.close()

        server = InfluxServer(Path(tmp) / "influx").start()
        try:
            client = httpx.Client(base_url=server.url)
            client.post("/query", data={"q": "CREATE DATABASE naive"})
            rows.append(
                (
                    "influx: 1 HTTP write per point",
                    len(naive),
                    timed(
                        lambda: [
                            client.post(
                                "/write",
                                params={"db": "naive", "precision": "ns"},
                                content=encode_points([p]),
                            )
                            for p in naive
                        ]
                    ),
                )
            )
            client.close()
            influx = InfluxStore(server.url, database="bench")
            influx.ping()
            rows.append(
                (
                    f"influx: write, batches of {BATCH}",
                    len(points),
                    timed(lambda: [influx.write(b) for b in batches(points)]),
                )
            )
            assert influx.count("presence") == len(points)
            rows.append(
                ("influx: count (all, exact)", len(points), timed(lambda: influx.count("presence")))
            )
            rows.append(
                (
                    "influx: read one day, one site",
                    n_read,
                    timed(
                        lambda: influx.read(
                            "presence",
                            start=day,
                            end=day + timedelta(days=1),
                            where={"site": "virastotalo"},
                        )
                    ),
                )
            )
            influx.close()
        finally:
            server.stop()

    print(f"{'operation':40} {'points':>9} {'seconds':>9} {'points/s':>12}")
    for name, n, seconds in rows:
        print(f"{name:40} {n:9d} {seconds:9.3f} {n / seconds:12,.0f}")


if __name__ == "__main__":
    main()
