"""Daily summaries against the raw recompute, in one run on one store.

The example site (``examples/sites/virastotalo.yaml``, 280 spaces) is
backfilled (seed 1, the default scenario) into a fresh SQLite file through the
marking store, as ``occupancy simulate backfill`` does; the summariser then
rebuilds every day from raw points (its rate is the space-days per second);
then every report endpoint is asked over the whole period through the real
API app (FastAPI TestClient), warm, from summaries (the default) and with
``source=raw`` (the baseline, the same figures); last, one late message for a
summarised day and the time until a report shows it after a cycle.

    .venv/bin/python benchmarks/summaries.py --days 365
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import create_key
from api.config import ApiSettings
from api.records import make_engine, make_sessionmaker
from core.calendar import local_day_bounds
from core.registry import Registry, load_site
from simulators.backfill import backfill
from simulators.scenario import Scenario
from storage import StoreSettings
from storage.base import PRESENCE, Point
from storage.marks import MarkingStore
from storage.sqlite import SQLiteStore
from summaries.summariser import SummaryParams, refresh_site

SITE = Path(__file__).resolve().parent.parent / "examples" / "sites" / "virastotalo.yaml"
REPORTS = [
    ("utilisation by agency, monthly", "utilisation", {"by": "agency", "bucket": "month"}),
    ("utilisation by space", "utilisation", {"by": "space"}),
    ("utilisation by zone, hourly", "utilisation", {"by": "zone", "bucket": "hour"}),
    ("peaks by floor", "peaks", {"by": "floor"}),
    ("heatmap", "heatmap", {}),
    ("efficiency", "efficiency", {}),
]


def ask(client: TestClient, key: str, url: str, params: dict[str, object]) -> tuple[float, float]:
    """Seconds and peak Python memory (MB) of one request."""
    tracemalloc.start()
    t = time.perf_counter()
    r = client.get(url, params=params, headers={"Authorization": f"Bearer {key}"})
    took = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    assert r.status_code == 200, r.text
    return took, peak


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--warm", type=int, default=10, help="warm requests per report")
    args = ap.parse_args()
    site = load_site(SITE)
    first = date(2025, 1, 1)
    last = first + timedelta(days=args.days - 1)
    start, end = local_day_bounds(site, first)[0], local_day_bounds(site, last)[1]
    tmp = Path(tempfile.mkdtemp())
    inner = SQLiteStore(tmp / "occ.db")
    store = MarkingStore(inner, {site.id: site.tz})
    t = time.perf_counter()
    res = backfill(site, Scenario(seed=1), store, start, end, collect=False)
    print(f"backfill: {args.days} days, {res.points:,} points, {time.perf_counter() - t:.1f} s")
    raw_mb = (tmp / "occ.db").stat().st_size / 1e6

    params = SummaryParams()
    t = time.perf_counter()
    days = [first + timedelta(days=i) for i in range(args.days)]
    refresh_site(store, site, params, days=days)
    took = time.perf_counter() - t
    size_mb = (tmp / "occ.db").stat().st_size / 1e6
    space_days = args.days * len(site.spaces)
    print("\n| summariser | figure |\n|---|---:|")
    print(f"| rebuild, {args.days} days x {len(site.spaces)} spaces | {took:.1f} s |")
    print(f"| space-days per second | {space_days / took:,.0f} |")
    print(f"| a year at that rate | {365 * len(site.spaces) / (space_days / took):.0f} s |")
    sensors = len(site.spaces)
    year = 365 / args.days
    print(
        f"| store, raw points | {raw_mb:.0f} MB "
        f"({raw_mb * year / sensors:.2f} MB per sensor-year) |"
    )
    print(
        f"| store, summaries | {size_mb - raw_mb:.0f} MB "
        f"({(size_mb - raw_mb) * year / sensors:.3f} MB per sensor-year) |"
    )

    records = f"sqlite:///{tmp}/api.db"
    with make_sessionmaker(make_engine(records))() as session:
        key = create_key(session, role="facility", name="bench")
    settings = ApiSettings(
        registry=SITE,
        store=StoreSettings(url=f"sqlite:///{tmp}/occ.db"),
        records_url=records,
        rollup_interval_s=0,
        summaries_interval_s=0,
    )
    app = create_app(settings, registry=Registry({site.id: site}), store=store)
    period = {"from": first.isoformat(), "to": (last + timedelta(days=1)).isoformat()}
    base = f"/v1/sites/{site.id}"
    print(
        "\n| report over the period | summaries p50 s | p95 s | peak MB | raw (baseline) s "
        "| peak MB | raw / summaries |\n|---|---:|---:|---:|---:|---:|---:|"
    )
    with TestClient(app) as client:
        for label, path, q in REPORTS:
            url = f"{base}/{path}"
            ask(client, key, url, {**period, **q})  # warm-up
            runs = [ask(client, key, url, {**period, **q}) for _ in range(args.warm)]
            times = sorted(r[0] for r in runs)
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            raw_s, raw_mb_peak = ask(client, key, url, {**period, **q, "source": "raw"})
            print(
                f"| {label} | {statistics.median(times):.3f} | {p95:.3f} | "
                f"{max(r[1] for r in runs):.0f} | {raw_s:.1f} | {raw_mb_peak:.0f} | "
                f"{raw_s / statistics.median(times):.0f}x |"
            )

        # One late message for a summarised day: the time until a cycle has it.
        day = first + timedelta(days=args.days // 2)
        at = local_day_bounds(site, day)[0] + timedelta(hours=10)
        space = site.spaces[0]
        store.write(
            [
                Point(
                    PRESENCE,
                    site.space_tags(space.id),
                    {"occupied": 1, "hb": 300.0},
                    int(at.timestamp() * 1e9),
                )
            ]
        )
        # "today" is the day after the period, so the cycle's dirty days are the
        # late one and whatever its carried state reaches
        after = local_day_bounds(site, last + timedelta(days=1))[0] + timedelta(hours=12)
        t = time.perf_counter()
        done = refresh_site(store, site, params, now=after)
        cycle = time.perf_counter() - t
        print(f"\nlate message for {day}: one cycle rewrote {len(done)} day(s) in {cycle:.2f} s")


if __name__ == "__main__":
    main()
