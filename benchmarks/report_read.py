"""Reports over a backfilled year: reading the store into state intervals.

The example site (``examples/sites/virastotalo.yaml``, 280 spaces) is
backfilled for 2025 into a fresh SQLite file (seed 1, the default scenario:
32.4 M points), then the state intervals of a month and of the year are read
the way every report, rollup and charge run reads them
(``summaries.raw.read_opening_intervals``). Rows: the presence points of the
period with every field (baseline: what the reports read before they asked for
the three they use), with those three only, and the whole read into intervals.

    .venv/bin/python benchmarks/report_read.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable, Sized
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.reports import Period, resolve_period
from core.registry import Site, load_site
from metrics.intervals import PRESENCE_FIELDS
from simulators.backfill import backfill
from simulators.scenario import Scenario
from storage.base import PRESENCE
from storage.sqlite import SQLiteStore
from summaries import raw as readings

SITE = Path(__file__).resolve().parent.parent / "examples" / "sites" / "virastotalo.yaml"


def timed(what: Callable[[], Sized]) -> tuple[int, float]:
    t = time.perf_counter()
    n = len(what())
    return n, time.perf_counter() - t


def reads(store: SQLiteStore, site: Site, p: Period) -> list[tuple[str, Callable[[], Sized]]]:
    where = {"site": site.id}
    return [
        (
            "presence, every field (baseline)",
            lambda: store.read(PRESENCE, start=p.start, end=p.end, where=where),
        ),
        (
            "presence, occupied count hb",
            lambda: store.read(
                PRESENCE, start=p.start, end=p.end, where=where, fields=PRESENCE_FIELDS
            ),
        ),
        (
            "state intervals (the report's read)",
            lambda: readings.read_opening_intervals(
                store=store, site=site, start=p.start, end=p.end, silence_factor=2.5, merge_gap_s=0
            ),
        ),
    ]


def main() -> None:
    site = load_site(SITE)
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "year.db")
        t = time.perf_counter()
        r = backfill(
            site,
            Scenario(seed=1),
            store,
            datetime(2025, 1, 1, tzinfo=UTC),
            datetime(2026, 1, 1, tzinfo=UTC),
            collect=False,
        )
        print(f"backfill: {r.points:,} points in {time.perf_counter() - t:.1f} s")
        periods = {
            "month 2025-03": resolve_period(site, from_=None, to=None, month="2025-03"),
            "year 2025": resolve_period(
                site, from_=date(2025, 1, 1), to=date(2026, 1, 1), month=None
            ),
        }
        print("| period | read | rows | s |")
        print("|---|---|---:|---:|")
        for label, p in periods.items():
            rows = reads(store, site, p)
            for what, call in rows:
                n, seconds = timed(call)
                print(f"| {label} | {what} | {n:,} | {seconds:.1f} |")
        store.close()


if __name__ == "__main__":
    main()
