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

Then both sites are summarised (the daily summaries the server keeps) and
the API is asked again, with its interval cache (``api/whatif_cache.py``):
the first call reads raw points and keeps the summarised days, the second
call, and a third with another plan over the same period (vero moves and
nothing closes), read them from the cache. The answers with and without the
cache are compared.

    .venv/bin/python benchmarks/whatif.py --days 365    # --days 90 for a quarter
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
from summaries.summariser import SummaryParams, refresh_site

SITE = Path(__file__).resolve().parent.parent / "examples" / "sites" / "virastotalo.yaml"
FIRST = date(2025, 1, 6)  # a Monday


def timed(fn: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def post(client: TestClient, key: str, body: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    """A timed POST of ``body`` to the what-if."""
    headers = {"Authorization": f"Bearer {key}"}
    s, r = timed(lambda: client.post("/v1/portfolio/what-if", json=body, headers=headers))
    assert r.status_code == 200, r.text
    return s, r.json()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--days", type=int, default=365)
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
            cold, first = post(client, key, body)
            warm, second = post(client, key, body)
        assert first == second
        days = [FIRST + timedelta(days=i) for i in range(args.days)]
        summ = []
        for site in sites:
            s, _ = timed(lambda: refresh_site(store, site, params, days=days))  # noqa: B023
            summ.append(s)
        app = create_app(settings, registry=registry, store=store)
        cache = app.state.ctx.whatif_intervals
        with TestClient(app) as client:
            fill, filled = post(client, key, body)
            hit, cached = post(client, key, body)
            other, _ = post(client, key, {**body, "moves": body["moves"][:1]})
        assert filled == cached == first, "the cache changed the answer"
        target = next(s for s in cached["sites"] if s["site"] == two.id)
        n_events = sum(len(s.t) for s in sources)
        print(f"\nwhat-if over {args.days} days, 2 sites x 280 spaces, {n_events:,} desk events")
        print("| step | s | max daily peak (desks) |\n|---|---:|---:|")
        print(f"| POST /v1/portfolio/what-if, no summaries, first call | {cold:.2f} | - |")
        print(f"| POST /v1/portfolio/what-if, no summaries, second call | {warm:.2f} | - |")
        print(f"| read clipped intervals of both sites (raw points) | {read_s:.2f} | - |")
        for label, s, peak in rows:
            print(f"| {label} | {s:.3f} | {peak:.1f} |")
        print(f"| summarise both sites (refresh_site) | {summ[0]:.1f} / {summ[1]:.1f} | - |")
        print(f"| POST, summarised, first call (reads raw, fills the cache) | {fill:.2f} | - |")
        print(f"| POST, summarised, second call (from the cache) | {hit:.2f} | - |")
        print(f"| POST, summarised, another plan, same period (from the cache) | {other:.2f} | - |")
        print(f"\ncache: {cache.rows:,} interval rows kept, {cache.hits} site-days from it, "
              f"{cache.misses} from raw points; the same answers with and without it")  # fmt: skip
        d = target["desks"]
        print(
            f"target {two.id}: capacity {d['capacity']} desks after closing {floor}, "
            f"aligned max {d['max_peak']:.1f}, sum of peaks max {d['sum_of_peaks_max']:.1f}, "
            f"fits {d['fits']}, days over {d['by_day_type'][-1]['days_over']}"
        )
        raw.close()


if __name__ == "__main__":
    main()
