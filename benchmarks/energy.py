"""The energy report over a year of the example site: from the daily
summaries against ``source=raw`` (the baseline, the same rows), in one run.

The example site (``examples/sites/virastotalo.yaml``) is backfilled (seed 1,
the default scenario) into a fresh SQLite file through the marking store, as
``benchmarks/summaries.py`` does, and every day summarised (energy hours
included); the summariser's year is timed again with the energy hours left
out (the cost they add). Then through the real API app (FastAPI TestClient):
``/energy`` by zone per month, by floor per day, and ``/energy/closing``,
each asked warm from summaries (median of ``--warm`` asks) and once with
``source=raw``; the two answers must be equal.

    .venv/bin/python benchmarks/energy.py --days 365
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient

import summaries.compute as compute
from api.app import create_app
from api.auth import create_key
from api.config import ApiSettings
from api.records import make_engine, make_sessionmaker
from core.calendar import local_day_bounds
from core.registry import Registry, load_site
from simulators.backfill import backfill
from simulators.scenario import Scenario
from storage import StoreSettings, open_store
from storage.marks import MarkingStore
from summaries.energy import ENERGY_HOURS
from summaries.reader import clear_cache
from summaries.summariser import SummaryParams, refresh_site

SITE = Path(__file__).resolve().parent.parent / "examples" / "sites" / "virastotalo.yaml"
REPORTS = [
    ("energy by zone, monthly", "energy", {"by": "zone", "bucket": "month"}),
    ("energy by floor, daily", "energy", {"by": "floor", "bucket": "day"}),
    ("closing recommendations", "energy/closing", {}),
]


def get(client: TestClient, key: str, url: str, params: dict[str, object]) -> tuple[float, Any]:
    t = time.perf_counter()
    r = client.get(url, params=params, headers={"Authorization": f"Bearer {key}"})
    took = time.perf_counter() - t
    assert r.status_code == 200, r.text
    return took, r.json()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--warm", type=int, default=5, help="warm asks per report")
    args = ap.parse_args()
    site = load_site(SITE)
    first = date(2025, 1, 1)
    last = first + timedelta(days=args.days - 1)
    start, end = local_day_bounds(site, first)[0], local_day_bounds(site, last)[1]
    tmp = Path(tempfile.mkdtemp())
    settings = StoreSettings(url=f"sqlite:///{tmp}/occ.db")
    store = MarkingStore(open_store(settings), {site.id: site.tz})
    t = time.perf_counter()
    res = backfill(site, Scenario(seed=1), store, start, end, collect=False)
    print(f"backfill: {args.days} days, {res.points:,} points, {time.perf_counter() - t:.1f} s "
          f"(store {tmp})")  # fmt: skip
    params = SummaryParams()
    days = [first + timedelta(days=i) for i in range(args.days)]

    energy_hours = compute.energy_hours
    compute.energy_hours = lambda **_: None  # type: ignore[assignment,misc]
    t = time.perf_counter()
    refresh_site(store, site, params, days=days)
    without = time.perf_counter() - t
    compute.energy_hours = energy_hours  # type: ignore[misc]
    t = time.perf_counter()
    refresh_site(store, site, params, days=days)
    with_energy = time.perf_counter() - t
    rows = len(store.read(ENERGY_HOURS, start=start, end=end, where={"site": site.id}))
    print("\n| summariser | figure |\n|---|---:|")
    print(f"| summarise {args.days} days, energy hours left out (baseline) | {without:.1f} s |")
    print(f"| the same with energy hours | {with_energy:.1f} s "
          f"({with_energy / without:.2f}x) |")  # fmt: skip
    print(f"| energy rows stored | {rows:,} ({rows / args.days:.0f} a day) |")

    records = f"sqlite:///{tmp}/api.db"
    with make_sessionmaker(make_engine(records))() as session:
        key = create_key(session, role="facility", name="bench")
    api = ApiSettings(registry=SITE, store=settings, records_url=records,
                      rollup_interval_s=0, summaries_interval_s=0)  # fmt: skip
    app = create_app(api, registry=Registry({site.id: site}), store=store)
    period = {"from": first.isoformat(), "to": (last + timedelta(days=1)).isoformat()}
    base = f"/v1/sites/{site.id}"
    print(
        "\n| report over the period | first ask s | warm p50 s | raw (baseline) s | raw / warm |"
        "\n|---|---:|---:|---:|---:|"
    )
    with TestClient(app) as client:
        for label, path, q in REPORTS:
            url = f"{base}/{path}"
            clear_cache()
            first_s, body = get(client, key, url, {**period, **q})
            assert body["meta"]["energy_days_from_raw"] == [], body["meta"]
            warm = sorted(get(client, key, url, {**period, **q})[0] for _ in range(args.warm))
            raw_s, raw = get(client, key, url, {**period, **q, "source": "raw"})
            assert raw["rows"] == body["rows"], f"{label}: summaries and raw differ"
            p50 = statistics.median(warm)
            print(f"| {label} | {first_s:.3f} | {p50:.3f} | {raw_s:.1f} | {raw_s / p50:.0f}x |")
            if path == "energy" and q["by"] == "zone":
                total = [r for r in body["rows"] if r["level"] == "site"]
                kwh = sum(r["empty_kwh"] for r in total)
                kg = sum(r["empty_kg_co2"] for r in total)
                share = sum(r["empty_m2h"] for r in total) / sum(
                    r["conditioned_m2h"] for r in total
                )
                print(f"|   the year by zone: empty {share:.1%} of conditioned m²h, "
                      f"{kwh:,.0f} kWh, {kg:,.0f} kg CO2 | | | | |")  # fmt: skip
            if path == "energy/closing":
                for r in [r for r in body["rows"] if r["recommended"]][:3]:
                    print(f"|   {r['text']} | | | | |")


if __name__ == "__main__":
    main()
