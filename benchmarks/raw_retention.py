"""Raw retention on SQLite: how fast ``delete_points`` drops a backfill.

The example site (``examples/sites/virastotalo.yaml``, 280 spaces) is
backfilled for ``--days`` days (seed 1, the default scenario) into a fresh
SQLite file, once kept as column blocks (what the backfill writes) and once
as B-tree rows (what the ingest writes); then the raw points of all days but
the last are deleted as the summariser's retention does (presence and agent
status, each series keeping its latest point), timed, with the points left
and the file's size (freed pages are reused, not returned).

    .venv/bin/python benchmarks/raw_retention.py --days 30
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.calendar import local_day_bounds
from core.registry import load_site
from simulators.backfill import backfill
from simulators.scenario import Scenario
from storage.base import RAW_MEASUREMENTS
from storage.sqlite import SQLiteStore

SITE = Path(__file__).resolve().parent.parent / "examples" / "sites" / "virastotalo.yaml"


def run(days: int, *, blocks: bool, folder: Path) -> None:
    site = load_site(SITE)
    first = date(2026, 3, 2)
    last = first + timedelta(days=days - 1)
    path = folder / f"{'blocks' if blocks else 'rows'}.db"
    store = SQLiteStore(path, block_rows=1_000 if blocks else 10**12)
    start, end = local_day_bounds(site, first)[0], local_day_bounds(site, last)[1]
    t = time.perf_counter()
    backfill(site, Scenario(seed=1), store, start, end, collect=False)
    loaded = time.perf_counter() - t
    before = {m: store.count(m) for m in RAW_MEASUREMENTS}
    size = path.stat().st_size
    cut = local_day_bounds(site, last)[0]
    t = time.perf_counter()
    deleted = sum(
        store.delete_points(m, start=start, end=cut, where={"site": site.id})
        for m in RAW_MEASUREMENTS
    )
    took = time.perf_counter() - t
    after = {m: store.count(m) for m in RAW_MEASUREMENTS}
    print(
        f"{'blocks' if blocks else 'rows  '}: {days} days, {sum(before.values()):,} raw points "
        f"(loaded in {loaded:.1f} s, {size / 1e6:.0f} MB); deleted {deleted:,} of "
        f"{days - 1} days in {took:.2f} s ({deleted / took / 1e6:.2f} M points/s); "
        f"left {sum(after.values()):,}; file {path.stat().st_size / 1e6:.0f} MB"
    )
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for blocks in (True, False):
            run(args.days, blocks=blocks, folder=Path(tmp))


if __name__ == "__main__":
    main()
