"""Backfill speed: 1 year x 1,000 desks (goal < 60 s), with same-run baselines.

Rows, all on one synthetic site of 1,000 desks + 40 meeting rooms (4 agents):
  generate           the engine's rows only (people, sensing, heartbeats, faults)
  + build points     ... turned into store points (what ``Store.write`` takes)
  + SQLite write     ... written into ``SQLiteStore`` in 100k-point chunks
  hb 3600 s          the same with a 1-hour heartbeat (each message states it)
Rows measured on fewer days than 365 are extrapolated linearly (per simulated
day) and marked ``est.``. Run: ``.venv/bin/python benchmarks/simulator_backfill.py``
(options: ``--gen-days 365 --points-days 28 --write-days 3``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulators.backfill import BackfillResult, backfill
from simulators.scenario import Scenario, Sensors
from simulators.synthetic import synthetic_site
from storage.sqlite import SQLiteStore

START = datetime(2026, 1, 1, tzinfo=UTC)


def run(
    label: str, days: int, *, hb: float | None = None, points: bool, write: bool
) -> tuple[str, int, BackfillResult]:
    site = synthetic_site(1000)
    sc = Scenario(seed=1) if hb is None else Scenario(seed=1, sensors=Sensors(heartbeat_s=hb))
    end = START + timedelta(days=days)
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "bench.db") if write else None
        t = time.perf_counter()
        result = backfill(site, sc, store, START, end, build_points=points, collect=False)
        result.seconds = time.perf_counter() - t
        if store is not None:
            store.close()
    return label, days, result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gen-days", type=int, default=365)
    ap.add_argument("--points-days", type=int, default=28)
    ap.add_argument("--write-days", type=int, default=3)
    a = ap.parse_args()
    rows = [
        run("generate (baseline)", a.gen_days, points=False, write=False),
        run("+ build points", a.points_days, points=True, write=False),
        run("+ SQLite write", a.write_days, points=True, write=True),
        run("hb 3600 s: generate", a.gen_days, hb=3600, points=False, write=False),
        run("hb 3600 s: + SQLite write", a.write_days * 4, hb=3600, points=True, write=True),
    ]
    print(
        "\nBackfill, synthetic site 1,000 desks + 40 rooms (1,040 sensors, 4 agents), "
        f"seed 1, from {START:%Y-%m-%d}"
    )
    head = (
        f"| {'variant':<26} | {'days':>4} | {'events':>11} | {'points':>11} | {'s':>7} "
        f"| {'events/s':>10} | {'1 y x 1,000 desks, s':>21} |"
    )
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    for label, days, r in rows:
        year = r.seconds * 365 / days
        est = "" if days >= 365 else " est."
        print(
            f"| {label:<26} | {days:>4} | {r.events:>11,} | {r.points:>11,} | {r.seconds:>7.1f} | "
            f"{r.events / r.seconds:>10,.0f} | {year:>16,.0f}{est:>5} |"
        )
    gen = rows[0][2]
    print(
        f"\nheartbeats are {gen.heartbeats / gen.events:.1%} of the events "
        f"({gen.changes:,} changes, {gen.heartbeats:,} heartbeats, "
        f"{gen.health_reports:,} health reports in {rows[0][1]} days)"
    )


if __name__ == "__main__":
    main()
