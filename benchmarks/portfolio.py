"""Portfolio reads over 100 sites of the example site's size (280 spaces each,
28,000 in all), in one run on one SQLite store.

The example site (``examples/sites/virastotalo.yaml``) is backfilled (seed 1,
the default scenario) for ``--days`` days from 2025-01-01 through the marking
store and summarised from raw points: the summariser's rate is measured there.
The summary rows the portfolio reads (``summary_space_days``,
``summary_peaks``, ``summary_groups``, ``summary_presence``, ``summary_days``,
``summary_marks``)
are then copied under 99 more site ids (the example site under another id;
its ``summary_hours`` rows are not copied, as no portfolio read touches
them), in runs of 14 days as the summariser writes them. So the 100 sites
hold the same figures; the reads are real reads of 100 sites' rows.

Timed through the real API app (FastAPI TestClient) over the whole period:
``/v1/portfolio/efficiency?by=agency`` and
``/v1/portfolio/utilisation?by=site|agency``. First each report **cold in a
fresh process** (its first request; wall and CPU seconds, then warm; the
median of ``--repeat`` processes), the efficiency report for a facility and
an agency key, on its path (all sites in one pass, ``api.portfolio_one_pass``)
and again on the paths before: site by site from the per-group rows, and
before ``summary_groups`` (every day cell and two peak tables per site); the
answers must be identical and the ratios are of the same run. Then, in
this process, cold after emptying the caches (the SQLite file stays in the
OS page cache) and warm (p50/p95), with the baselines: a client asking each
of the 100 sites' own report and adding them up, and the raw recompute of
one site (``source=raw``) times 100.

    .venv/bin/python benchmarks/portfolio.py --days 365     # --keep, then --store DIR: reuse it
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import pandas as pd
from fastapi.testclient import TestClient

from api import access, portfolio
from api.app import create_app
from api.auth import create_key
from api.config import ApiSettings
from api.records import make_engine, make_sessionmaker
from benchmarks.api_timing import cold, p95, timed
from core.calendar import local_day_bounds
from core.registry import Registry, Site, load_site
from metrics import portfolio as pf
from metrics.efficiency import SITE_ROW, efficiency_of
from metrics.presence import DEFAULT_MARGIN
from simulators.backfill import backfill
from simulators.scenario import Scenario
from storage import StoreSettings
from storage.marks import MarkingStore
from storage.sqlite import SQLiteStore
from summaries.compute import ALL
from summaries.presence import PRESENCE
from summaries.schema import DAYS, GROUPS, MARKS, PEAKS, SPACE_DAYS, params_digest
from summaries.summariser import MAX_RUN_DAYS, SummaryParams, refresh_site

SITE = Path(__file__).resolve().parent.parent / "examples" / "sites" / "virastotalo.yaml"
TAGS = {
    SPACE_DAYS: ("space",),
    PEAKS: ("level", "types", "view", "group"),
    GROUPS: ("level", "view", "group"),
    PRESENCE: ("agency", "k"),
    DAYS: (),
    MARKS: (),
}
REPORTS = [
    ("efficiency by agency across sites", "efficiency", {"by": "agency"}),
    ("utilisation by site", "utilisation", {"by": "site"}),
    ("utilisation by agency across sites", "utilisation", {"by": "agency"}),
]


def summary_rows(store: SQLiteStore, site: Site) -> dict[str, pd.DataFrame]:
    """The summary rows a portfolio read touches, of every day of ``site``."""
    start = local_day_bounds(site, date(1971, 1, 1))[0]
    end = local_day_bounds(site, date(2100, 1, 1))[0]
    return {m: store.read(m, start=start, end=end, where={"site": site.id}) for m in TAGS}


def copy_site(
    store: SQLiteStore, rows: dict[str, pd.DataFrame], copy: Site, params: SummaryParams
) -> int:
    """``rows`` (``summary_rows``) written again as ``copy``'s, in runs of
    MAX_RUN_DAYS days as the summariser writes them (one column block each)."""
    digest = params_digest(
        copy, silence_factor=params.silence_factor, merge_gap_s=params.merge_gap_s
    )
    written = 0
    for m, frame in rows.items():
        if frame.empty:
            continue
        tag_keys = TAGS[m]
        named = m in (PEAKS, GROUPS)  # a site-level group is named after its site
        group = frame["group"].where(frame["level"] != "site", copy.id) if named else None
        tags = {
            t: pd.Categorical(group if t == "group" and group is not None else frame[t])
            for t in tag_keys
        }
        fields = {
            f: (np.full(len(frame), digest, dtype=object) if f == "params" else frame[f].to_numpy())
            for f in frame.columns
            if f not in ("time", "site", *tag_keys)
        }
        time_ns = frame["time"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
        run = MAX_RUN_DAYS * 86_400 * 10**9
        starts = np.searchsorted(time_ns, np.arange(time_ns[0], time_ns[-1] + 1, run))
        edges = np.append(starts, len(time_ns))
        for a, b in itertools.pairwise(edges.tolist()):
            if a == b:
                continue
            store.write_columns(
                m,
                time_ns=time_ns[a:b],
                tags={"site": copy.id, **{t: c[a:b] for t, c in tags.items()}},
                fields={f: v[a:b] for f, v in fields.items()},
            )
            written += int(b - a)
    return written


def one_by_one(client: TestClient, key: str, sites: list[Site], path: str, q: dict) -> float:  # type: ignore[type-arg]
    """The baseline: each site's own report asked and added up by the client."""
    t = time.perf_counter()
    per_site = {"by": "agency"} if path == "utilisation" else {}
    rows: list[dict[str, Any]] = []
    for s in sites:
        rows += timed(client, key, f"/v1/sites/{s.id}/{path}", {**q, **per_site})[1]["rows"]
    frame = pd.DataFrame(rows)
    if path == "utilisation":
        frame.groupby("agency")[["occupied_s", "observed_s"]].sum()
    else:
        frame.groupby("agency")[["headcount_htv", "area_m2", "peak_desks"]].sum()
    return time.perf_counter() - t


def _cells_site_efficiency(
    data: Any, site: Site, principal: Any, margin: float = DEFAULT_MARGIN
) -> pd.DataFrame:
    """The portfolio's per-site efficiency as it was before ``summary_groups``
    (the baseline of the same run): every space-day cell and two peak tables."""
    cells = data.day_cells()
    by_agency = pf.group_sums(cells=cells, site=site, by="agency")
    whole = pf.group_sums(cells=cells, site=site, by="site")
    frame = efficiency_of(
        use=pf.utilisation_figures(by_agency, keys=["agency"]),
        total=pf.utilisation_figures(whole, keys=["site"]),
        presence=data.presence_pairs(),
        site_desk_peaks=data.daily_peaks(level="site", types="desk", view=principal.agency or ALL),
        site=site,
        shared_use_s=access.area_weights(site, principal),
        margin=margin,
    )
    sums = pd.concat([by_agency.set_index("agency"), whole.assign(site=SITE_ROW).set_index("site")])
    for c in pf.NS_SUMS:
        frame[c] = frame["agency"].map(sums[c]).fillna(0).astype("int64")
    return frame


def copies_of(site: Site, n: int) -> list[Site]:
    return [
        Site.model_validate({**site.model_dump(mode="python"), "id": f"{site.id}-{i:03d}"})
        for i in range(2, n + 1)
    ]


def read_in_this_process(args: argparse.Namespace) -> None:
    """``--read``: one report, cold (this fresh process's first request) then
    warm, printed as one JSON line; ``--path cells``: the baseline's path."""
    tmp = Path(args.read)
    site = load_site(SITE)
    sites = [site, *copies_of(site, args.sites)]
    if args.path in ("cells", "per-site"):  # every site computed on its own
        portfolio.efficiency_at_once = lambda *a, **k: lambda todo: {}
    if args.path == "cells":
        portfolio._site_efficiency = _cells_site_efficiency
        portfolio.prefetch_group_days = lambda *a, **k: None
        portfolio.prefetch_presence = lambda *a, **k: None
    records = f"sqlite:///{tmp}/api.db"
    with make_sessionmaker(make_engine(records))() as session:
        key = create_key(session, role=args.role, name="bench")
    settings = ApiSettings(
        registry=SITE,
        store=StoreSettings(url=f"sqlite:///{tmp}/occ.db"),
        records_url=records,
        rollup_interval_s=0,
        summaries_interval_s=0,
    )
    store = SQLiteStore(tmp / "occ.db")
    app = create_app(settings, registry=Registry({s.id: s for s in sites}), store=store)
    first = date(2025, 1, 1)
    q = {"from": first.isoformat(), "to": (first + timedelta(days=args.days)).isoformat()}
    _label, path, extra = REPORTS[args.report]
    with TestClient(app) as client:
        cpu = time.process_time()
        cold_s, body = timed(client, key, f"/v1/portfolio/{path}", {**q, **extra})
        cold_cpu = time.process_time() - cpu
        assert body["meta"]["site_days_from_summaries"] == len(sites) * args.days, body["meta"]
        warm = [timed(client, key, f"/v1/portfolio/{path}", {**q, **extra})[0] for _ in range(3)]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"cold": cold_s, "cold_cpu": cold_cpu, "warm": warm, "rows": body["rows"],
                      "rss_mb": rss}))  # fmt: skip


def fresh_read(tmp: Path, args: argparse.Namespace, report: int, path: str, role: str) -> Any:
    cmd = [
        sys.executable, __file__, "--read", str(tmp), "--report", str(report), "--path", path,
        "--days", str(args.days), "--sites", str(args.sites), "--role", role,
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


#: the efficiency report's paths, each in its own fresh processes
PATHS = {
    "groups": "per-group rows, all sites in one pass",
    "per-site": "per-group rows, site by site (before)",
    "cells": "day cells + peak tables (before those)",
}


def fresh_reads(tmp: Path, args: argparse.Namespace, report: int, path: str, role: str) -> Any:
    """``--repeat`` fresh-process reads: the median cold wall and CPU seconds,
    the rows (the same every time) and the load average around them."""
    load = [os.getloadavg()[0]]
    runs = [fresh_read(tmp, args, report, path, role) for _ in range(args.repeat)]
    load.append(os.getloadavg()[0])
    assert all(r["rows"] == runs[0]["rows"] for r in runs)
    return {
        **runs[0],
        "cold": statistics.median(r["cold"] for r in runs),
        "cold_cpu": statistics.median(r["cold_cpu"] for r in runs),
        "colds": [r["cold"] for r in runs],
        "warm": [w for r in runs for w in r["warm"]],
        "rss_mb": max(r["rss_mb"] for r in runs),
        "load": load,
    }


def cold_table(tmp: Path, args: argparse.Namespace) -> None:
    """Every report cold in fresh processes (the median of ``--repeat``);
    efficiency also on the paths before (site by site; day cells), the same
    run, the same figures."""
    print(
        f"\n| read over {args.days} days, {args.sites} sites, each in a fresh process "
        f"(median of {args.repeat}) | cold s (CPU s) | cold s, each | warm p50 s "
        "| peak RSS MB | load avg |\n|---|---:|---:|---:|---:|---:|"
    )
    for i, (label, _path, _extra) in enumerate(REPORTS):
        efficiency = "efficiency" in label
        roles = ("facility", "agency:vero") if efficiency else ("facility",)
        for role in roles:
            rows = [
                (path, fresh_reads(tmp, args, i, path, role))
                for path in (PATHS if efficiency else ("groups",))
            ]
            new = rows[0][1]
            for path, r in rows:
                assert r["rows"] == new["rows"], f"the paths disagree ({path})"
                how = PATHS[path] if efficiency else "day cells"
                print(
                    f"| {label}, {role}, {how} | {r['cold']:.2f} ({r['cold_cpu']:.2f}) | "
                    f"{', '.join(f'{c:.2f}' for c in r['colds'])} | "
                    f"{statistics.median(r['warm']):.3f} | {r['rss_mb']:,.0f} | "
                    f"{r['load'][0]:.1f}-{r['load'][1]:.1f} |"
                )
            for path, r in rows[1:]:
                print(
                    f"| ratio {path} / one pass, cold | {r['cold'] / new['cold']:.1f}x "
                    f"(CPU {r['cold_cpu'] / new['cold_cpu']:.1f}x) | | | | |"
                )


def build(args: argparse.Namespace) -> Path:
    """The example site backfilled and summarised, its summary rows copied to
    ``--sites`` - 1 more ids; prints the setup table; returns the folder."""
    site = load_site(SITE)
    first = date(2025, 1, 1)
    last = first + timedelta(days=args.days - 1)
    start, end = local_day_bounds(site, first)[0], local_day_bounds(site, last)[1]
    tmp = Path(tempfile.mkdtemp())
    inner = SQLiteStore(tmp / "occ.db")
    store = MarkingStore(inner, {site.id: site.tz})
    t = time.perf_counter()
    res = backfill(site, Scenario(seed=1), store, start, end, collect=False)
    backfill_s = time.perf_counter() - t
    params = SummaryParams()
    t = time.perf_counter()
    refresh_site(store, site, params, days=[first + timedelta(days=i) for i in range(args.days)])
    summarise_s = time.perf_counter() - t
    copies = copies_of(site, args.sites)
    t = time.perf_counter()
    rows = summary_rows(inner, site)
    copied = sum(copy_site(inner, rows, c, params) for c in copies)
    copy_s = time.perf_counter() - t
    spaces = len(site.spaces) * (len(copies) + 1)
    space_days = args.days * len(site.spaces)
    print(
        f"\n| setup | figure |\n|---|---:|\n"
        f"| backfill, 1 site x {args.days} days | {res.points:,} points, {backfill_s:.1f} s |\n"
        f"| summariser from raw, {args.days} days x {len(site.spaces)} spaces | "
        f"{summarise_s:.1f} s = {space_days / summarise_s:,.0f} space-days/s |\n"
        f"| summary rows copied to {len(copies)} more site ids (not measured sites) | "
        f"{copied:,} rows, {copy_s:.1f} s |\n"
        f"| portfolio | {len(copies) + 1} sites, {spaces:,} spaces, "
        f"{(tmp / 'occ.db').stat().st_size / 1e9:.2f} GB store ({tmp}) |"
    )
    inner.close()
    return tmp


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--sites", type=int, default=100)
    ap.add_argument("--warm", type=int, default=10, help="warm requests per report")
    ap.add_argument("--no-raw", action="store_true", help="leave out the raw baseline")
    ap.add_argument("--no-one-by-one", action="store_true", help="leave out that baseline")
    ap.add_argument("--keep", action="store_true", help="keep the store (its path is printed)")
    ap.add_argument("--store", help="a folder kept by --keep: read it, build nothing")
    ap.add_argument("--repeat", type=int, default=3, help="fresh-process reads per figure")
    ap.add_argument("--read", help=argparse.SUPPRESS)  # one fresh-process read (internal)
    ap.add_argument("--report", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--path", default="groups", help=argparse.SUPPRESS)
    ap.add_argument("--role", default="facility", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.read:
        read_in_this_process(args)
        return
    tmp = Path(args.store) if args.store else build(args)
    cold_table(tmp, args)
    in_process(tmp, args)
    if not args.keep and not args.store:
        shutil.rmtree(tmp, ignore_errors=True)


def in_process(tmp: Path, args: argparse.Namespace) -> None:
    """The reads in this process: cold after emptying its caches, warm; the baselines."""
    site = load_site(SITE)
    sites = [site, *copies_of(site, args.sites)]
    first = date(2025, 1, 1)
    last = first + timedelta(days=args.days - 1)
    store = MarkingStore(SQLiteStore(tmp / "occ.db"), {s.id: s.tz for s in sites})

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
    registry = Registry({s.id: s for s in sites})
    app = create_app(settings, registry=registry, store=store)
    q = {"from": first.isoformat(), "to": (last + timedelta(days=1)).isoformat()}
    print(
        f"\n| read over {args.days} days, {len(sites)} sites, in one process | "
        "cold s (caches emptied) | warm p50 s | warm p95 s |"
        "\n|---|---:|---:|---:|"
    )
    with TestClient(app) as client:
        for label, path, extra in REPORTS:
            url = f"/v1/portfolio/{path}"
            cold()
            cold_s, body = timed(client, key, url, {**q, **extra})
            assert body["meta"]["site_days_from_summaries"] == len(sites) * args.days
            if extra["by"] == "site":  # the copies are the measured site under other ids
                figures = {str({**r, "site": ""}) for r in body["rows"]}
                assert len(body["rows"]) == len(sites) and len(figures) == 1
            warm = [timed(client, key, url, {**q, **extra})[0] for _ in range(args.warm)]
            print(f"| {label} | {cold_s:.2f} | {statistics.median(warm):.3f} | {p95(warm):.3f} |")
        reads_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        for path in () if args.no_one_by_one else ("efficiency", "utilisation"):
            cold()
            first_pass = one_by_one(client, key, sites, path, q)
            second_pass = one_by_one(client, key, sites, path, q)
            print(
                f"| baseline: {len(sites)} site reports /{path} one by one, added up | "
                f"{first_pass:.2f} | {second_pass:.2f} | (1 pass) |"
            )
        if not args.no_raw:
            cold()
            raw_s, _ = timed(client, key, f"/v1/sites/{site.id}/efficiency", {**q, "source": "raw"})
            print(
                f"| baseline: raw recompute, 1 site measured x {len(sites)} (extrapolated) | "
                f"{raw_s * len(sites):.0f} | - | - |"
            )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\npeak RSS of this process: {reads_mb:,.0f} MB after the portfolio reads, "
        f"{peak_mb:,.0f} MB after the baselines"
    )


if __name__ == "__main__":
    main()
