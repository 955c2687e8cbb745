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
    .venv/bin/python benchmarks/summaries.py --days 30 --store influx

``--store influx`` starts a private InfluxDB 1.x (Debian's ``influxd``, as the
tests do) in a temporary folder. The rebuild runs twice: in this process (the
baseline), then in ``--workers`` processes (``occupancy summaries rebuild``'s
way); both write the same rows. Every timed report is also asked with
``source=raw``, and the two answers must be equal.

``--check`` then compares every report over the whole period, summaries
against raw, exactly (values and dtypes): utilisation by every grouping and
bucket, the heatmap, daily peaks and their summary by every group level and
space-type filter, efficiency; for a facility key's view and for each
agency's (its visible spaces, its peak views, its efficiency weights), built
with the functions the routes call (``api.reports``). The raw intervals are
recomputed once and shared by every table: through the API each raw report of
a year takes about a minute.

    .venv/bin/python benchmarks/summaries.py --days 365 --check
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd
from fastapi.testclient import TestClient

from api import reports
from api.app import create_app
from api.auth import create_key
from api.config import ApiSettings
from api.records import make_engine, make_sessionmaker
from core.calendar import local_day_bounds
from core.registry import Registry, Site, load_site
from metrics.utilisation import BUCKETS, GROUPINGS
from simulators.backfill import backfill
from simulators.scenario import Scenario
from storage import StoreSettings, open_store
from storage.base import PRESENCE, Point
from storage.marks import MarkingStore
from summaries.compute import ALL, view_spaces
from summaries.pool import RunPool
from summaries.reader import PeriodData, clear_cache, clear_report_tables
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


def ask(client: TestClient, key: str, url: str, params: dict[str, object]) -> float:
    """Seconds of one request."""
    t = time.perf_counter()
    r = client.get(url, params=params, headers={"Authorization": f"Bearer {key}"})
    took = time.perf_counter() - t
    assert r.status_code == 200, r.text
    return took


def rows(client: TestClient, key: str, url: str, params: dict[str, object]) -> Any:
    r = client.get(url, params=params, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    return r.json()["rows"]


def peak_mb(client: TestClient, key: str, url: str, params: dict[str, object]) -> float:
    """Peak Python memory (MB, numpy's arrays included) of one more request,
    apart from the timed ones: tracing slows a request down severalfold."""
    tracemalloc.start()
    ask(client, key, url, params)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return peak


def check_equal(store: MarkingStore, site: Site, first: date, last: date) -> int:
    """Every report table of first..last from summaries equals the raw
    recompute, for every view; returns how many tables were compared."""
    start, end = local_day_bounds(site, first)[0], local_day_bounds(site, last)[1]
    params = SummaryParams()
    shared_raw: dict[Any, Any] = {}
    shared_preps: dict[int, Any] = {}
    types = [None, *sorted({s.type.value for s in site.spaces})]
    compared = 0

    def same(a: pd.DataFrame, b: pd.DataFrame, what: str) -> None:
        nonlocal compared
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=what)
        compared += 1

    for view in [ALL, *(a.id for a in site.agencies)]:
        visible = None if view == ALL else view_spaces(site, view)
        weights = None if view == ALL else {a.id: a.headcount_htv for a in site.agencies}
        summ = PeriodData(store, site, start, end, params, "summaries", visible=visible)
        # the raw intervals once for every view: the views filter cells and peaks
        raw = PeriodData(
            store, site, start, end, params, "raw", visible=visible,
            _raw=shared_raw, _preps=shared_preps,
        )  # fmt: skip
        for by in GROUPINGS:
            for bucket in (None, *BUCKETS):
                same(
                    reports.utilisation_report(summ, site, by=by, bucket=bucket),
                    reports.utilisation_report(raw, site, by=by, bucket=bucket),
                    f"{view} utilisation {by}/{bucket}",
                )
            for t in types:
                got = reports.peaks_report(summ, site, by=by, space_type=t, view=view)
                want = reports.peaks_report(raw, site, by=by, space_type=t, view=view)
                same(got[0], want[0], f"{view} daily peaks {by}/{t}")
                same(got[1], want[1], f"{view} peaks {by}/{t}")
        same(
            reports.heatmap_report(summ, site, spaces=None),
            reports.heatmap_report(raw, site, spaces=None),
            f"{view} heatmap",
        )
        same(
            reports.efficiency_report(summ, site, view=view, shared_use_s=weights),
            reports.efficiency_report(raw, site, view=view, shared_use_s=weights),
            f"{view} efficiency",
        )
        meta = summ.meta()
        assert meta["days_from_raw"] == [] and meta["stale_days"] == [], meta
    return compared


def store_size_mb(settings: StoreSettings, tmp: Path) -> float:
    # occ.db*, not pool.db (the workers' copy)
    files = list(tmp.glob("occ.db*")) if settings.is_sqlite else list((tmp / "influx").rglob("*"))
    return sum(f.stat().st_size for f in files if f.is_file()) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--warm", type=int, default=10, help="warm requests per report")
    ap.add_argument("--store", choices=("sqlite", "influx"), default="sqlite")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--raw-memory", action="store_true", help="also trace a raw request (slow: minutes)"
    )
    ap.add_argument(
        "--check", action="store_true", help="compare every report, summaries against raw"
    )
    args = ap.parse_args()
    site = load_site(SITE)
    first = date(2025, 1, 1)
    last = first + timedelta(days=args.days - 1)
    start, end = local_day_bounds(site, first)[0], local_day_bounds(site, last)[1]
    tmp = Path(tempfile.mkdtemp())
    server = None
    if args.store == "influx":
        from tests.servers import InfluxServer

        server = InfluxServer(tmp / "influx").start()
        settings = StoreSettings(url=server.url, database="bench")
    else:
        settings = StoreSettings(url=f"sqlite:///{tmp}/occ.db")
    store = MarkingStore(open_store(settings), {site.id: site.tz})
    t = time.perf_counter()
    res = backfill(site, Scenario(seed=1), store, start, end, collect=False)
    print(f"backfill ({args.store}): {args.days} days, {res.points:,} points, "
          f"{time.perf_counter() - t:.1f} s")  # fmt: skip
    raw_mb = store_size_mb(settings, tmp)

    params = SummaryParams()
    days = [first + timedelta(days=i) for i in range(args.days)]
    # The worker rebuild gets a store in the same state as the baseline's (raw
    # points only): on SQLite, rewriting summaries that exist costs more than
    # writing them, which would bias the comparison against the workers.
    pool_settings, pool_store = settings, store
    if settings.is_sqlite:
        pool_settings = StoreSettings(url=f"sqlite:///{tmp}/pool.db")
        with sqlite3.connect(tmp / "occ.db") as src, sqlite3.connect(tmp / "pool.db") as dst:
            src.backup(dst)
        pool_store = MarkingStore(open_store(pool_settings), {site.id: site.tz})
    t = time.perf_counter()
    refresh_site(store, site, params, days=days)
    alone = time.perf_counter() - t
    size_mb = store_size_mb(settings, tmp)
    t = time.perf_counter()
    with RunPool(pool_settings, args.workers) as pool:
        refresh_site(pool_store, site, params, days=days, pool=pool)
    took = time.perf_counter() - t
    space_days = args.days * len(site.spaces)
    rate = space_days / took
    print("\n| summariser | figure |\n|---|---:|")
    print(f"| rebuild, {args.days} days x {len(site.spaces)} spaces, 1 process (baseline) "
          f"| {alone:.1f} s ({space_days / alone:,.0f} space-days/s) |")  # fmt: skip
    print(f"| the same in {args.workers} worker processes | {took:.1f} s "
          f"({rate:,.0f} space-days/s, {alone / took:.2f}x) |")  # fmt: skip
    print(f"| the example site's year at that rate | {365 * len(site.spaces) / rate:.0f} s |")
    sensors = len(site.spaces)
    year = 365 / args.days
    print(
        f"| store, raw points | {raw_mb:.0f} MB "
        f"({raw_mb * year / sensors:.2f} MB per sensor-year) |"
    )
    print(
        f"| store, summaries and rollups | {size_mb - raw_mb:.0f} MB "
        f"({(size_mb - raw_mb) * year / sensors:.3f} MB per sensor-year) |"
    )

    records = f"sqlite:///{tmp}/api.db"
    with make_sessionmaker(make_engine(records))() as session:
        key = create_key(session, role="facility", name="bench")
    settings = ApiSettings(
        registry=SITE,
        store=settings,
        records_url=records,
        rollup_interval_s=0,
        summaries_interval_s=0,
    )
    app = create_app(settings, registry=Registry({site.id: site}), store=store)
    period = {"from": first.isoformat(), "to": (last + timedelta(days=1)).isoformat()}
    base = f"/v1/sites/{site.id}"
    print(
        "\n| report over the period | first ask s | computed s | kept p50 s | kept p95 s "
        "| peak MB | raw (baseline) s | peak MB | raw / kept | raw / computed |"
        "\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    with TestClient(app) as client:
        for label, path, q in REPORTS:
            url = f"{base}/{path}"
            first_s = ask(client, key, url, {**period, **q})  # rows read from the store
            clear_report_tables()
            computed = ask(client, key, url, {**period, **q})  # from kept rows, computed
            times = sorted(ask(client, key, url, {**period, **q}) for _ in range(args.warm))
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            clear_report_tables()  # the memory of computing it, not of a kept table
            mb = peak_mb(client, key, url, {**period, **q})
            raw_q = {**period, **q, "source": "raw"}
            t = time.perf_counter()
            raw_rows = rows(client, key, url, raw_q)
            raw_s = time.perf_counter() - t
            same = rows(client, key, url, {**period, **q}) == raw_rows
            assert same, f"{label}: summaries and raw differ"
            raw_mb_peak = peak_mb(client, key, url, raw_q) if args.raw_memory else float("nan")
            print(
                f"| {label} | {first_s:.3f} | {computed:.3f} | {statistics.median(times):.3f} | "
                f"{p95:.3f} | {mb:.0f} | {raw_s:.1f} | {raw_mb_peak:.0f} | "
                f"{raw_s / statistics.median(times):.0f}x | {raw_s / computed:.0f}x |"
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
        clear_cache()
        t = time.perf_counter()
        r = client.get(f"{base}/utilisation", params={**period, "by": "site"},
                       headers={"Authorization": f"Bearer {key}"})  # fmt: skip
        print(f"first report after it (cold cache): {time.perf_counter() - t:.2f} s, "
              f"stale days {r.json()['meta']['stale_days']}")  # fmt: skip
    if args.check:
        t = time.perf_counter()
        n = check_equal(store, site, first, last)
        took = time.perf_counter() - t
        print(f"\n--check: {n} report tables over {args.days} days, summaries = raw ({took:.0f} s)")

    if server is not None:
        server.stop()


if __name__ == "__main__":
    main()
