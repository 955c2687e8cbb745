"""Backtest of the daily-peak forecast (metrics/forecast.py) on a simulated site.

The example site (``examples/sites/virastotalo.yaml``) is backfilled (seed 1,
the default scenario) into a fresh SQLite file from 1 January 2025 and
summarised, as benchmarks/summaries.py does; the exact daily peaks by zone,
floor and agency are read once from the summaries. Then for k = 3 .. n-1 the
model is fitted on months 1..k and predicts every open day of month k+1; the
table gives the MAPE of the daily peak (over group-days with an actual peak
above 0) and the share of actual peaks inside the 80 % interval, against the
seasonal naive baseline (the same weekday's peak in the last week of the
history) in the same run.

    .venv/bin/python benchmarks/forecast.py --months 8
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import pandas as pd

from core.calendar import local_day_bounds
from core.registry import load_site
from metrics.forecast import forecast_peaks
from simulators.backfill import backfill
from simulators.scenario import Scenario
from storage import StoreSettings, open_store
from storage.marks import MarkingStore
from summaries.compute import ALL
from summaries.reader import PeriodData
from summaries.summariser import SummaryParams, refresh_site

SITE = Path(__file__).resolve().parent.parent / "examples" / "sites" / "virastotalo.yaml"
LEVELS = ("zone", "floor", "agency")


def month_start(first: date, k: int) -> date:
    m = first.month - 1 + k
    return date(first.year + m // 12, m % 12 + 1, 1)


def naive(daily: pd.DataFrame, by: str, targets: pd.DataFrame, cut: pd.Timestamp) -> pd.Series:
    """Same weekday's peak in the last week before ``cut``, per target row."""
    last = daily[(daily["day"] < cut) & (daily["day"] >= cut - pd.Timedelta(weeks=1))]
    last = last.assign(weekday=last["day"].dt.day_of_week).set_index([by, "weekday"])["peak"]
    keys = pd.MultiIndex.from_arrays([targets[by], targets["weekday"]])
    return pd.Series(last.reindex(keys).to_numpy(dtype=float), index=targets.index)


def backtest(daily: pd.DataFrame, site, by: str, first: date, months: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    errs, naive_errs, inside = [], [], []
    for k in range(3, months):
        cut, nxt = month_start(first, k), month_start(first, k + 1)
        hist = daily[daily["day"] < pd.Timestamp(cut)]
        fc = forecast_peaks(daily=hist, site=site, by=by, start=cut, days=(nxt - cut).days)
        actual = daily.set_index([by, "day"])["peak"]
        fc["actual"] = actual.reindex(pd.MultiIndex.from_frame(fc[[by, "day"]])).to_numpy()
        fc["naive"] = naive(daily, by, fc, pd.Timestamp(cut))
        fc = fc.dropna(subset=["actual"])
        inside.append(((fc["actual"] >= fc["lower"]) & (fc["actual"] <= fc["upper"])).to_numpy())
        pos = fc[fc["actual"] > 0]
        errs.append((abs(pos["forecast"] - pos["actual"]) / pos["actual"]).to_numpy())
        nv = pos.dropna(subset=["naive"])
        naive_errs.append((abs(nv["naive"] - nv["actual"]) / nv["actual"]).to_numpy())
    return {
        "mape": float(np.concatenate(errs).mean()),
        "naive_mape": float(np.concatenate(naive_errs).mean()),
        "coverage": float(np.concatenate(inside).mean()),
        "n": float(sum(len(e) for e in inside)),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--months", type=int, default=8)
    args = ap.parse_args()
    site = load_site(SITE)
    first = date(2025, 1, 1)
    after = month_start(first, args.months)
    start, end = local_day_bounds(site, first)[0], local_day_bounds(site, after)[0]
    tmp = Path(tempfile.mkdtemp())
    store = MarkingStore(
        open_store(StoreSettings(url=f"sqlite:///{tmp}/occ.db")), {site.id: site.tz}
    )
    t = time.perf_counter()
    backfill(site, Scenario(seed=1), store, start, end, collect=False)
    print(f"backfill: {args.months} months, {time.perf_counter() - t:.1f} s")
    params = SummaryParams()
    t = time.perf_counter()
    days = [d.date() for d in pd.date_range(first, after, inclusive="left")]
    refresh_site(store, site, params, days=days)
    print(f"summaries: {time.perf_counter() - t:.1f} s")
    data = PeriodData(store=store, site=site, start=start, end=end, params=params)
    print(f"\nbacktest: fit on months 1..k, predict month k+1, k = 3..{args.months - 1}\n")
    print("| group level | group-days | MAPE | naive MAPE (same weekday, last week) "
          "| 80 % interval coverage |")  # fmt: skip
    print("|---|---:|---:|---:|---:|")
    for by in LEVELS:
        t = time.perf_counter()
        daily = data.daily_peaks(level=by, types=None, view=ALL)
        r = backtest(daily, site, by, first, args.months)
        print(f"| {by} | {r['n']:.0f} | {r['mape']:.1%} | {r['naive_mape']:.1%} | "
              f"{r['coverage']:.1%} |")  # fmt: skip
        print(f"  ({by}: {time.perf_counter() - t:.1f} s)", file=sys.stderr)
    store.close()


if __name__ == "__main__":
    main()
