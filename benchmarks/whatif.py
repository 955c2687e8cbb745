"""Consolidation what-if across two sites, in one run on one SQLite store.

The example site (``examples/sites/virastotalo.yaml``, 280 spaces) is
backfilled from 2025-01-06 for ``--days`` days under two site ids (seed 1 as
``virastotalo``, seed 2 as ``virastotalo-b``, its copy), as ``occupancy
simulate backfill`` does. Timed, warm (second call):

* ``POST /v1/portfolio/what-if`` through the real API app (TestClient,
  finance key): agency vero moves from the first site to the second and the
  second's floor f4 closes;
* its parts in-process: reading the clipped intervals of both sites (raw
  points), the aligned overlay of the target's desk sources
  (``metrics.whatif.summed_daily_peaks``) and, the baseline in the same run,
  the sum-of-peaks shortcut over the same sources
  (``metrics.whatif.sum_of_daily_peaks``), with both answers' maxima.

    .venv/bin/python benchmarks/whatif.py --days 90
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient

from api import whatif
from api.app import create_app
from api.auth import create_key
from api.config import ApiSettings
from api.records import make_engine, make_sessionmaker
from api.reports import resolve_period
from core.calendar import local_day_bounds
from core.registry import Registry, Site, load_site
from metrics import whatif as wi
from simulators.backfill import backfill
from simulators.scenario import Scenario
from storage import StoreSettings
from storage.marks import MarkingStore
from storage.sqlite import SQLiteStore
from summaries.summariser import SummaryParams

SITE = Path(__file__).resolve().parent.parent / "examples" / "sites" / "virastotalo.yaml"
FIRST = date(2025, 1, 6)  # a Monday


def timed(fn: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--days", type=int, default=90)
    args = ap.parse_args()
    one = load_site(SITE)
    two = Site.model_validate({**one.model_dump(mode="python"), "id": "virastotalo-b"})
    sites = [one, two]
    after = FIRST + timedelta(days=args.days)
    with tempfile.TemporaryDirectory() as tmp:
        raw = SQLiteStore(Path(tmp) / "occ.db")
        store = MarkingStore(raw, {s.id: s.tz for s in sites})
        for n, site in enumerate(sites):
            start, end = local_day_bounds(site, FIRST)[0], local_day_bounds(site, after)[0]
            t0 = time.perf_counter()
            backfill(site, Scenario(seed=1 + n), store, start, end, collect=False)
            s = time.perf_counter() - t0
            print(f"backfill {site.id}: {args.days} days, {s:.1f} s", flush=True)
        floor = sorted(f.id for f in two.floors)[-1]
        body = {
            "from": FIRST.isoformat(),
            "to": after.isoformat(),
            "moves": [
                {"kind": "move_agency", "agency": "vero", "from_site": one.id, "to_site": two.id},
                {"kind": "close_floor", "site": two.id, "floor": floor},
            ],
            "margin": 0.1,
        }
        req = whatif.WhatIfRequest.model_validate(body)
        registry = Registry({s.id: s for s in sites})
        params = SummaryParams()
        plan = whatif.check_plan(registry, req)
        periods = {
            sid: resolve_period(registry.site(sid), from_=req.from_, to=req.to, month=None)
            for sid in plan.sites
        }
        read_s, intervals = timed(
            lambda: {
                sid: whatif._read(store, registry.site(sid), periods[sid], params)
                for sid in plan.sites
            }
        )
        sources = whatif._sources(registry, two, plan, req, intervals, "desks")
        days = wi.days_of(intervals=intervals[two.id], tz=two.tz)
        rows = []
        for label, fn in (
            ("aligned overlay (summed_daily_peaks)", wi.summed_daily_peaks),
            ("baseline: sum of peaks (sum_of_daily_peaks)", wi.sum_of_daily_peaks),
        ):
            fn(sources=sources, days=days)
            s, out = timed(lambda: fn(sources=sources, days=days))  # noqa: B023
            rows.append((label, s, float(out["peak"].max())))

        records = f"sqlite:///{tmp}/api.db"
        with make_sessionmaker(make_engine(records))() as session:
            key = create_key(session, role="finance", name="bench")
        settings = ApiSettings(
            store=StoreSettings(url=f"sqlite:///{tmp}/occ.db"),
            records_url=records,
            broker_url=None,
            rollup_interval_s=0,
            summaries_interval_s=0,
        )
        app = create_app(settings, registry=registry, store=store)
        with TestClient(app) as client:
            headers = {"Authorization": f"Bearer {key}"}
            cold, r = timed(
                lambda: client.post("/v1/portfolio/what-if", json=body, headers=headers)
            )
            assert r.status_code == 200, r.text
            warm, r = timed(
                lambda: client.post("/v1/portfolio/what-if", json=body, headers=headers)
            )
        target = next(s for s in r.json()["sites"] if s["site"] == two.id)
        n_events = sum(len(s.t) for s in sources)
        print(f"\nwhat-if over {args.days} days, 2 sites x 280 spaces, {n_events:,} desk events")
        print("| step | s | max daily peak (desks) |\n|---|---:|---:|")
        print(f"| POST /v1/portfolio/what-if, first call | {cold:.2f} | - |")
        print(f"| POST /v1/portfolio/what-if, second call | {warm:.2f} | - |")
        print(f"| read clipped intervals of both sites | {read_s:.2f} | - |")
        for label, s, peak in rows:
            print(f"| {label} | {s:.3f} | {peak:.1f} |")
        d = target["desks"]
        print(
            f"\ntarget {two.id}: capacity {d['capacity']} desks after closing {floor}, "
            f"aligned max {d['max_peak']:.1f}, sum of peaks max {d['sum_of_peaks_max']:.1f}, "
            f"fits {d['fits']}, days over {d['by_day_type'][-1]['days_over']}"
        )
        raw.close()


if __name__ == "__main__":
    main()
