"""What agency presence costs: the sweep in the summariser, and /efficiency read
from summaries against ``source=raw``.

The example site (``examples/sites/virastotalo.yaml``) is backfilled (seed 11,
the default scenario with 70 % of shared-desk users booking their desk, as
tests/test_presence_truth.py) for ``--days`` days from 1 March 2026 into a fresh
SQLite file. Then, on the same raw read and clipped intervals:

* ``summarise`` (every summary of the days, presence pairs included) against
  ``presence_pairs`` alone: the presence share of the summariser's work;
* ``/efficiency``'s function over the period from summaries (cold: first read;
  warm: rows cached) against ``source=raw``, same bookings.

    .venv/bin/python benchmarks/presence.py --days 28
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd

from api.reports import efficiency_report
from charging.bookings import Booking
from core.calendar import local_day_bounds
from core.registry import Site, load_site
from metrics.intervals import clip_to_opening, state_intervals
from metrics.presence import presence_pairs
from simulators.backfill import backfill
from storage.marks import MarkingStore
from storage.sqlite import SQLiteStore
from summaries.compute import summarise
from summaries.raw import read_inputs
from summaries.reader import PeriodData, Source, clear_cache
from summaries.summariser import SummaryParams, refresh_site
from tests.test_presence_truth import DESK_BOOKING, scenario, simulated_days

T = TypeVar("T")
SITE = Path(__file__).resolve().parent.parent / "examples" / "sites" / "virastotalo.yaml"
FIRST = date(2026, 3, 1)


def _timed(fn: Callable[[], T], repeat: int = 1) -> tuple[float, T]:
    """The best of ``repeat`` runs, and the last result."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--days", type=int, default=28)
    args = ap.parse_args()
    site = load_site(SITE)
    last = FIRST + timedelta(days=args.days - 1)
    start, end = local_day_bounds(site, FIRST)[0], local_day_bounds(site, last)[1]
    sc = scenario(DESK_BOOKING)
    _, bookings = simulated_days(site, sc, FIRST, last)
    params = SummaryParams()
    with tempfile.TemporaryDirectory() as tmp:
        store = MarkingStore(SQLiteStore(Path(tmp) / "occ.db"), {site.id: site.tz})
        backfill(site, sc, store, start, end, collect=False)
        raw = read_inputs(store=store, site=site, start=start, end=end)
        iv = state_intervals(
            presence=raw.presence, status=raw.status, site=site, start=start, end=end
        )
        clipped = clip_to_opening(intervals=iv, site=site, start=start, end=end)
        t_all, _ = _timed(
            lambda: summarise(
                raw=raw, site=site, first=FIRST, last=last, silence_factor=2.5,
                merge_gap_s=0.0, bookings=bookings,
            )
        )  # fmt: skip
        t_pairs, pairs = _timed(
            lambda: presence_pairs(intervals=clipped, bookings=bookings, site=site), repeat=3
        )
        now = end + timedelta(days=1)

        def source(s: Site, a: datetime, b: datetime) -> list[Booking]:
            return [x for x in bookings if x.start < b and x.end > a]

        refresh_site(store, site, params, now=now, bookings=source)

        def report(src: Source) -> pd.DataFrame:
            data = PeriodData(
                store=store, site=site, start=start, end=end, params=params,
                source=src, now=now, bookings=bookings,
            )  # fmt: skip
            return efficiency_report(data, site)

        clear_cache()
        t_cold, _ = _timed(lambda: report("summaries"))
        t_warm, _ = _timed(lambda: report("summaries"), repeat=5)
        t_raw, _ = _timed(lambda: report("raw"))
    print(
        f"example site, {args.days} days from {FIRST}, {len(bookings)} bookings, {len(pairs)} pairs"
    )
    print("| step | seconds | ratio |")
    print("|---|---:|---:|")
    print(f"| summarise (all summaries of the days) | {t_all:.2f} | 1 |")
    print(
        f"| presence_pairs alone (its share of summarise) | {t_pairs:.2f} | {t_pairs / t_all:.2f} |"
    )
    print(f"| /efficiency from raw points (source=raw) | {t_raw:.2f} | 1 |")
    print(f"| /efficiency from summaries, cold | {t_cold:.3f} | {t_raw / t_cold:.0f}x faster |")
    print(f"| /efficiency from summaries, warm | {t_warm:.3f} | {t_raw / t_warm:.0f}x faster |")


if __name__ == "__main__":
    main()
