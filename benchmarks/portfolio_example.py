"""Portfolio reports over the example portfolio (examples/portfolio: six sites
in three regions, 244 spaces), measured sites only, in one run on one SQLite
store (issue 15, "Benchmark": portfolio efficiency by agency over the example
portfolio for a year).

Every site is backfilled by the simulator for ``--days`` days from 2025-01-01
(seed 1 + its index, the default scenario) through the marking store and
summarised from raw points. Timed through the real API app (FastAPI
TestClient), facility key, the whole period: efficiency by agency and by
region, the monthly trend (``bucket=month``) of both, and utilisation by
region by month; cold (the summary-row cache and the portfolio's kept
per-site sums emptied; the SQLite file in the OS page cache) and warm
(p50/p95). Baseline in the same run: a client asking each site's own
``/efficiency`` and adding the rows up (what a client did before the
portfolio reports), cold and warm; and for each monthly trend, its months
asked one by one as their own reports (what the trend cost when it was made
of them; each month's rows must equal the trend's). Last, one agency's yearly report (JSON:
its site sections, forecasts and the m²/htv trend of the year's months),
cold and warm.

``--store DIR`` keeps the backfilled and summarised store in DIR and reuses
it when it is there (the same ``--days``), so that two versions of the code
can be timed on one store without backfilling twice.

    .venv/bin/python benchmarks/portfolio_example.py --days 365
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd
from fastapi.testclient import TestClient

from api import portfolio
from api.agency_report import data as report_data
from api.app import create_app
from api.auth import Principal, create_key
from api.config import ApiSettings
from api.records import make_engine, make_sessionmaker
from benchmarks.api_timing import cold, p95, timed
from core.calendar import local_day_bounds
from core.registry import Site, load_registry
from metrics.portfolio import PORTFOLIO_ROW
from simulators.backfill import backfill
from simulators.scenario import Scenario
from storage import StoreSettings
from storage.marks import MarkingStore
from storage.sqlite import SQLiteStore
from summaries.summariser import SummaryParams, refresh_site

FOLDER = Path(__file__).resolve().parent.parent / "examples" / "portfolio"
REPORTS = [
    ("efficiency by agency across sites", "efficiency", {"by": "agency"}),
    ("efficiency by region", "efficiency", {"by": "region"}),
    ("efficiency by agency, by month", "efficiency", {"by": "agency", "bucket": "month"}),
    ("efficiency by region, by month", "efficiency", {"by": "region", "bucket": "month"}),
    ("utilisation by region, by month", "utilisation", {"by": "region", "bucket": "month"}),
]


def one_by_one(client: TestClient, key: str, sites: list[Site], q: dict[str, str]) -> float:
    """The baseline: each site's own /efficiency asked and added up by the client."""
    t = time.perf_counter()
    rows: list[dict[str, Any]] = []
    for s in sites:
        rows += timed(client, key, f"/v1/sites/{s.id}/efficiency", q)[1]["rows"]
    pd.DataFrame(rows).groupby("agency")[["headcount_htv", "area_m2", "peak_desks"]].sum()
    return time.perf_counter() - t


REPORT_AGENCY = "vero"  # at more than one site of the example portfolio


def month_by_month(
    client: TestClient, key: str, q: dict[str, str], extra: dict[str, str], trend: Any, warm: int
) -> None:
    """The baseline of a ``bucket=month`` row: each month asked as its own
    report (what the trend cost before it read each site once), cold and
    warm; each month's rows must be the trend's rows of that month."""
    first, after = date.fromisoformat(q["from"]), date.fromisoformat(q["to"])
    months, m = [], first
    while m < after:
        nxt = date(m.year + (m.month == 12), m.month % 12 + 1, 1)
        months.append((m, min(nxt, after)))
        m = nxt
    one = {k: v for k, v in extra.items() if k != "bucket"}

    def all_months() -> tuple[float, list[dict[str, Any]]]:
        t, rows = time.perf_counter(), []
        for lo, hi in months:
            got = timed(
                client, key, "/v1/portfolio/efficiency", {**one, "from": str(lo), "to": str(hi)}
            )
            rows += [{**r, "bucket": f"{lo.replace(day=1)}T00:00:00"} for r in got[1]["rows"]]
        return time.perf_counter() - t, rows

    cold()
    cold_s, rows = all_months()
    by = extra["by"]
    key_of = lambda r: (r["bucket"], r[by])  # noqa: E731
    assert sorted(rows, key=key_of) == sorted(trend, key=key_of), "a month differs from its report"
    times = [all_months()[0] for _ in range(max(1, warm // 5))]
    print(
        f"| baseline: the same, {len(months)} one-month reports (rows equal) | {cold_s:.2f} | "
        f"{statistics.median(times):.3f} | {p95(times):.3f} |"
    )


def build(days: int, tmp: Path) -> tuple[list[Site], MarkingStore, date]:
    registry = load_registry(FOLDER)
    sites = list(registry)
    first = date(2025, 1, 1)
    built = (tmp / "occ.db").exists() and (tmp / "days").read_text() == str(days)
    store = MarkingStore(SQLiteStore(tmp / "occ.db"), {s.id: s.tz for s in sites})
    if built:
        print(f"\n(store reused from {tmp}: {days} days, backfilled and summarised before)")
        return sites, store, first
    points, backfill_s, summarise_s = 0, 0.0, 0.0
    for n, site in enumerate(sites):
        start = local_day_bounds(site, first)[0]
        end = local_day_bounds(site, first + timedelta(days=days - 1))[1]
        t = time.perf_counter()
        points += backfill(site, Scenario(seed=1 + n), store, start, end, collect=False).points
        backfill_s += time.perf_counter() - t
        t = time.perf_counter()
        refresh_site(store, site, SummaryParams(), days=[first + timedelta(i) for i in range(days)])
        summarise_s += time.perf_counter() - t
    spaces = sum(len(s.spaces) for s in sites)
    print(
        f"\n| setup | figure |\n|---|---:|\n"
        f"| portfolio | {len(sites)} sites, {spaces} spaces, "
        f"{len({s.region for s in sites})} regions |\n"
        f"| backfill, {days} days | {points:,} points, {backfill_s:.1f} s |\n"
        f"| summariser from raw, {days} days x {spaces} spaces | {summarise_s:.1f} s = "
        f"{days * spaces / summarise_s:,.0f} space-days/s |\n"
        f"| store | {(tmp / 'occ.db').stat().st_size / 1e9:.2f} GB |"
    )
    (tmp / "days").write_text(str(days))
    return sites, store, first


def agency_report(client: TestClient, key: str, year: int, warm: int) -> None:
    url = f"/v1/agencies/{REPORT_AGENCY}/report"
    cold()
    cold_s, body = timed(client, key, url, {"year": year, "format": "json"})
    assert len(body["trend"]) == 12, body["trend"]
    times = [timed(client, key, url, {"year": year, "format": "json"})[0] for _ in range(warm)]
    print(
        f"| agency report {REPORT_AGENCY}, year {year} (JSON, with its 12-month trend) | "
        f"{cold_s:.2f} | {statistics.median(times):.3f} | {p95(times):.3f} |"
    )


def report_trend(store: MarkingStore, year: int, warm: int) -> None:
    """The report's m²/htv trend alone, in process: as ``gather`` makes it
    (one read cut into months) and, the baseline, as it was made before (one
    portfolio efficiency report per month); the figures must be the same."""
    pf_ = portfolio.Portfolio(
        store=store, registry=load_registry(FOLDER), params=SummaryParams(), min_group=1
    )
    who = Principal(key_id="bench", name="bench", role="facility")
    rp = report_data.report_period(month=None, year=year)
    today = date(year + 1, 1, 1)

    def before() -> list[tuple[Any, ...]]:
        out = []
        for first, after in report_data.trend_months(rp, today):
            frame, _ = report_data._efficiency(pf_, who, list(pf_.registry), first, after)
            own = report_data._row(frame, REPORT_AGENCY) or {}
            whole = report_data._row(frame, PORTFOLIO_ROW) or {}
            out.append((own.get("m2_per_htv"), own.get("use_rate"), whole.get("m2_per_htv")))
        return out

    def now() -> list[tuple[Any, ...]]:
        got = report_data._trend(pf_, who, REPORT_AGENCY, rp, today)
        return [(t["m2_per_htv"], t["use_rate"], t["portfolio_m2_per_htv"]) for t in got]

    want = None
    for label, make in (("12 monthly reports (before)", before), ("one read cut (now)", now)):
        cold()
        t = time.perf_counter()
        figures = make()
        cold_s = time.perf_counter() - t
        want = figures if want is None else want
        assert figures == want, "the trend's figures differ"
        times = []
        for _ in range(warm):
            t = time.perf_counter()
            make()
            times.append(time.perf_counter() - t)
        print(
            f"| its trend alone, in process: {label} | {cold_s:.2f} | "
            f"{statistics.median(times):.3f} | {p95(times):.3f} |"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--warm", type=int, default=10, help="warm requests per report")
    ap.add_argument("--store", type=Path, help="keep (and reuse) the store in this folder")
    args = ap.parse_args()
    tmp = args.store or Path(tempfile.mkdtemp())
    tmp.mkdir(parents=True, exist_ok=True)
    sites, store, first = build(args.days, tmp)
    records = f"sqlite:///{tmp}/api.db"
    (tmp / "api.db").unlink(missing_ok=True)
    with make_sessionmaker(make_engine(records))() as session:
        key = create_key(session, role="facility", name="bench")
    settings = ApiSettings(
        registry=FOLDER,
        store=StoreSettings(url=f"sqlite:///{tmp}/occ.db"),
        records_url=records,
        rollup_interval_s=0,
        summaries_interval_s=0,
    )
    app = create_app(settings, registry=load_registry(FOLDER), store=store)
    q = {"from": first.isoformat(), "to": (first + timedelta(days=args.days)).isoformat()}
    print(
        f"\n| read over {args.days} days, {len(sites)} sites | cold s | warm p50 s | warm p95 s |"
        "\n|---|---:|---:|---:|"
    )
    with TestClient(app) as client:
        for label, path, extra in REPORTS:
            url = f"/v1/portfolio/{path}"
            cold()
            cold_s, body = timed(client, key, url, {**q, **extra})
            assert body["meta"]["site_days_from_summaries"] == len(sites) * args.days, body["meta"]
            warm = [timed(client, key, url, {**q, **extra})[0] for _ in range(args.warm)]
            print(f"| {label} | {cold_s:.2f} | {statistics.median(warm):.3f} | {p95(warm):.3f} |")
            if extra.get("bucket") == "month" and path == "efficiency":
                month_by_month(client, key, q, extra, body["rows"], args.warm)
        cold()
        first_pass = one_by_one(client, key, sites, q)
        second_pass = one_by_one(client, key, sites, q)
        print(
            f"| baseline: {len(sites)} site reports /efficiency one by one, added up | "
            f"{first_pass:.2f} | {second_pass:.3f} | (1 pass) |"
        )
        if args.days >= 365 and first == date(first.year, 1, 1):
            agency_report(client, key, first.year, args.warm)
            report_trend(store, first.year, args.warm)
    store.close()
    if args.store is None:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
