"""Service-point figures over a year of minute door counts.

The example site (``examples/sites/virastotalo.yaml``) gets one entrance on
its customer-service zone ``f1-asiakas`` (added here in memory, so the
benchmark does not depend on the site file having one) and a year of
one-minute ``entrance_counts`` intervals, around the clock, with seeded
Poisson arrivals and departures during the day and zeros at night (a counter
sends zeros while it works): 525,600 rows, written in bulk into a fresh
SQLite store. Then each step of the /service reports is timed, against the
baseline of only reading the raw rows back, measured in the same run.

Then the year is summarised (``summaries.counts``: the day's intervals, runs
of empty ones folded) and the checked counts of the year that every /service
report starts from (``api.service.read_service``) are read from the
summaries (cold: a fresh process's row cache; warm: read again) against
``source=raw``, in the same run; the two must give identical rows and flags.

    .venv/bin/python benchmarks/service_report.py [--days 365]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from core.calendar import local_day_bounds
from core.registry import Site, load_site
from metrics import service as sm
from metrics.service_quality import checked_counts, coverage
from storage import ENTRANCE_COUNTS, StoreSettings, open_store

SITE = Path(__file__).resolve().parent.parent / "examples" / "sites" / "virastotalo.yaml"
FIRST = date(2026, 1, 1)


def site_with_entrance() -> Site:
    site = load_site(SITE)
    data = site.model_dump()
    data["entrances"] = [
        {
            "id": "bench-ovi",
            "name": "Pääovi",
            "zone": "f1-asiakas",
            "counter": {"id": "bench-counter", "agent": "bench-agent"},
        }
    ]
    return Site.model_validate(data)


def write_year(store, site: Site, days: int, first: date = FIRST) -> int:  # type: ignore[no-untyped-def]
    start, _ = local_day_bounds(site, first)
    end, _ = local_day_bounds(site, first + timedelta(days=days))
    t0 = int(start.timestamp()) * 1_000_000_000
    n = int((end - start).total_seconds()) // 60
    ends = t0 + (np.arange(n, dtype=np.int64) + 1) * 60_000_000_000
    hour = ((ends // 3_600_000_000_000) + 2) % 24  # about the local hour (UTC+2/+3)
    rate = np.where((hour >= 8) & (hour < 17), 0.6, 0.0)
    rng = np.random.default_rng(19)
    ins, outs = rng.poisson(rate), rng.poisson(rate)
    store.write_columns(
        ENTRANCE_COUNTS,
        time_ns=ends,
        tags={"site": site.id, "entrance": "bench-ovi", "zone": "f1-asiakas"},
        fields={
            "in_count": ins.astype(np.int64),
            "out_count": outs.astype(np.int64),
            "interval_s": np.full(n, 60.0),
            "seq": np.arange(n, dtype=np.int64),
            "sensor": "bench-counter",
            "agent": "bench-agent",
            "hb": np.full(n, 60.0),
        },
    )
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    site = site_with_entrance()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(StoreSettings(url=f"sqlite:///{tmp}/bench.db"))
        t = time.perf_counter()
        n = write_year(store, site, args.days)
        write_s = time.perf_counter() - t
        start, _ = local_day_bounds(site, FIRST)
        end, _ = local_day_bounds(site, FIRST + timedelta(days=args.days))
        timings: list[tuple[str, float]] = []

        def timed(name: str, fn):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            out = fn()
            timings.append((name, time.perf_counter() - t))
            return out

        raw = timed(
            "read raw rows (baseline)",
            lambda: store.read(
                ENTRANCE_COUNTS, start=start, end=end + timedelta(days=1), where={"site": site.id}
            ),
        )
        rows, flags = timed(
            "check counts (flags)",
            lambda: checked_counts(counts=raw, site=site, start=start, end=end),
        )
        cov = timed("coverage", lambda: coverage(rows=rows, site=site, start=start, end=end))
        daily = timed(
            "visits per day",
            lambda: sm.daily_visits(rows=rows, flags=flags, coverage=cov, site=site, by="zone"),
        )
        hourly = timed("visits per hour", lambda: sm.hourly_visits(rows=rows, site=site, by="zone"))
        timed("peak hours", lambda: sm.peak_hours(hourly=hourly, daily=daily, by="zone"))
        timed(
            "in-building series + drift",
            lambda: sm.in_building(rows=rows, site=site, start=start, end=end),
        )
        timed(
            "opening-hours share",
            lambda: sm.opening_share(
                rows=rows, site=site, hours=site.opening_hours, start=start, end=end, by="zone"
            ),
        )
        timed("class fit", lambda: sm.class_fit(daily=daily, classes=site.service.classes))
        store.close()
    base = timings[0][1]
    print(f"{n:,} count rows ({args.days} days, one entrance); bulk write {write_s:.2f} s")
    print(f"{'step':<30} {'seconds':>8} {'x read':>7}")
    for name, s in timings:
        print(f"{name:<30} {s:8.3f} {s / base:7.2f}")
    total = sum(s for _, s in timings)
    print(f"{'all (a /service/summary)':<30} {total:8.3f} {total / base:7.2f}")
    print(f"flags: {len(flags)}; visits {int(daily['visits'].sum()):,}")
    print()
    summaries_vs_raw(site, args.days)


def summaries_vs_raw(site: Site, days: int) -> None:
    """The service read of the whole period from summaries against raw points."""
    from api.service import read_service
    from storage.marks import MarkingStore
    from summaries.counts import COUNTS
    from summaries.reader import Source, clear_cache
    from summaries.summariser import SummaryParams, refresh_site

    # days that have closed (a report takes only closed days from summaries)
    first = FIRST - timedelta(days=days + 365)
    start, _ = local_day_bounds(site, first)
    end, _ = local_day_bounds(site, first + timedelta(days=days))
    ents = [e.id for e in site.entrances]
    with tempfile.TemporaryDirectory() as tmp:
        store = MarkingStore(
            open_store(StoreSettings(url=f"sqlite:///{tmp}/bench.db")), {site.id: site.tz}
        )
        write_year(store, site, days, first)
        all_days = [first + timedelta(days=i) for i in range(days)]
        t = time.perf_counter()
        refresh_site(store, site, SummaryParams(), days=all_days, now=end + timedelta(days=1))
        summarise_s = time.perf_counter() - t
        n_rows = store.count(COUNTS, where={"site": site.id})
        timings: list[tuple[str, float]] = []
        results = {}
        asks: tuple[tuple[str, Source], ...] = (
            ("raw (source=raw, baseline)", "raw"),
            ("summaries, cold", "summaries"),
            ("summaries, warm", "summaries"),
        )
        for name, source in asks:
            if "warm" not in name:
                clear_cache()
            t = time.perf_counter()
            results[name] = read_service(store, site, start, end, entrances=ents, source=source)
            timings.append((name, time.perf_counter() - t))
        store.close()
    raw, summ = results["raw (source=raw, baseline)"], results["summaries, cold"]
    same = raw.rows.equals(summ.rows) and raw.flags.equals(summ.flags)
    print(
        f"summarised {days} days in {summarise_s:.1f} s (every kind); "
        f"{n_rows:,} summary_counts rows for the year's intervals"
    )
    print(f"{'checked counts of the period':<30} {'seconds':>8} {'x raw':>7}")
    base = timings[0][1]
    for name, s in timings:
        print(f"{name:<30} {s:8.3f} {s / base:7.2f}")
    print(
        f"identical rows and flags: {same}; days from summaries: "
        f"{summ.meta()['days_from_summaries']} of {days}"
    )


if __name__ == "__main__":
    main()
