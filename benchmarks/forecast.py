"""Backtest of the daily-peak forecast (metrics/forecast.py) on a simulated year.

The example site (``examples/sites/virastotalo.yaml``) is backfilled (seed 1,
the default scenario) into a fresh SQLite file from 1 January 2025 for
``--months`` months and summarised, as benchmarks/summaries.py does; the exact
daily peaks by zone, floor and agency are read once from the summaries. Then
for every k = 1 .. months - 1 the model is fitted on months 1..k and predicts
every open day of month k+1 (1 to 5 weeks ahead). Per group level: the MAPE of
the daily peak (over group-days with an actual peak above 0), the share of
actual peaks inside the 80 % interval (bounds included) and its mean width,
against the seasonal naive baseline measured in the same run: the same
weekday's peak in the last week of the history, with an interval of the 10th
and 90th percentiles of its own errors in the history (one week ahead, as
the first version of the forecast had it); then the same per k.

    .venv/bin/python benchmarks/forecast.py               # the year, 1.5-3 min
    .venv/bin/python benchmarks/forecast.py --months 4    # quicker
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd

from core.calendar import local_day_bounds
from core.registry import Site, load_site
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
FIRST = date(2025, 1, 1)


def month_start(first: date, k: int) -> date:
    m = first.month - 1 + k
    return date(first.year + m // 12, m % 12 + 1, 1)


def naive(daily: pd.DataFrame, by: str, targets: pd.DataFrame, cut: pd.Timestamp) -> pd.Series:
    """Same weekday's peak in the last week before ``cut``, per target row."""
    last = daily[(daily["day"] < cut) & (daily["day"] >= cut - pd.Timedelta(weeks=1))]
    last = last.assign(weekday=last["day"].dt.day_of_week).set_index([by, "weekday"])["peak"]
    keys = pd.MultiIndex.from_arrays([targets[by], targets["weekday"]])
    return pd.Series(last.reindex(keys).to_numpy(dtype=float), index=targets.index)


def naive_band(daily: pd.DataFrame, by: str, cut: pd.Timestamp) -> pd.DataFrame:
    """The baseline interval's half: per group, the 10th and 90th percentiles
    of the seasonal naive's own errors in the history (each day's peak less
    the same weekday's 7 days before), horizon ignored."""
    hist = daily[daily["day"] < cut]
    prev = hist.assign(day=hist["day"] + pd.Timedelta(days=7)).set_index([by, "day"])["peak"]
    cur = hist.set_index([by, "day"])["peak"]
    err = (cur - prev.reindex(cur.index)).dropna()
    return err.groupby(level=0).quantile([0.1, 0.9]).unstack()


def backtest(daily: pd.DataFrame, site: Site, by: str, months: int) -> pd.DataFrame:
    """One row per forecast group-day of months 2..months: k, forecast,
    lower, upper, actual, naive, naive_lower, naive_upper."""
    actual = daily.set_index([by, "day"])["peak"]
    parts = []
    for k in range(1, months):
        cut, nxt = month_start(FIRST, k), month_start(FIRST, k + 1)
        hist = daily[daily["day"] < pd.Timestamp(cut)]
        fc = forecast_peaks(daily=hist, site=site, by=by, start=cut, days=(nxt - cut).days)
        fc["actual"] = actual.reindex(pd.MultiIndex.from_frame(fc[[by, "day"]])).to_numpy()
        fc["naive"] = naive(daily, by, fc, pd.Timestamp(cut))
        band = naive_band(daily, by, pd.Timestamp(cut)).reindex(fc[by])
        fc["naive_lower"] = fc["naive"] + band[0.1].to_numpy()
        fc["naive_upper"] = fc["naive"] + band[0.9].to_numpy()
        parts.append(fc.dropna(subset=["actual"]).assign(k=k))
    return pd.concat(parts, ignore_index=True)


def scores(fc: pd.DataFrame) -> dict[str, float]:
    inside = (fc["actual"] >= fc["lower"]) & (fc["actual"] <= fc["upper"])
    # a baseline without an interval (no errors yet) counts as a miss
    n_in = (fc["actual"] >= fc["naive_lower"]) & (fc["actual"] <= fc["naive_upper"])
    pos = fc[fc["actual"] > 0]
    nv = pos.dropna(subset=["naive"])
    return {
        "n": float(len(fc)),
        "mape": float(((pos["forecast"] - pos["actual"]).abs() / pos["actual"]).mean()),
        "naive": float(((nv["naive"] - nv["actual"]).abs() / nv["actual"]).mean()),
        "coverage": float(inside.mean()),
        "width": float((fc["upper"] - fc["lower"]).mean()),
        "naive_coverage": float(n_in.mean()),
        "naive_width": float((fc["naive_upper"] - fc["naive_lower"]).mean()),
        "peak": float(fc["actual"].mean()),
    }


def simulated_daily(site: Site, months: int) -> dict[str, pd.DataFrame]:
    """The exact daily peaks per level of ``months`` simulated months."""
    after = month_start(FIRST, months)
    start, end = local_day_bounds(site, FIRST)[0], local_day_bounds(site, after)[0]
    tmp = Path(tempfile.mkdtemp())
    store = MarkingStore(
        open_store(StoreSettings(url=f"sqlite:///{tmp}/occ.db")), {site.id: site.tz}
    )
    t = time.perf_counter()
    backfill(site, Scenario(seed=1), store, start, end, collect=False)
    print(f"backfill: {months} months, {time.perf_counter() - t:.1f} s", flush=True)
    params = SummaryParams()
    t = time.perf_counter()
    days = [d.date() for d in pd.date_range(FIRST, after, inclusive="left")]
    refresh_site(store, site, params, days=days)
    print(f"summaries: {time.perf_counter() - t:.1f} s", flush=True)
    data = PeriodData(store=store, site=site, start=start, end=end, params=params)
    out = {by: data.daily_peaks(level=by, types=None, view=ALL) for by in LEVELS}
    store.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--months", type=int, default=12, help="simulated months (2..12)")
    args = ap.parse_args()
    if not 2 <= args.months <= 12:
        ap.error("--months must lie in 2..12")
    site = load_site(SITE)
    daily = simulated_daily(site, args.months)
    results, seconds = {}, {}
    for by in LEVELS:
        t = time.perf_counter()
        results[by] = backtest(daily[by], site, by, args.months)
        seconds[by] = time.perf_counter() - t
    last = args.months - 1
    print(f"\nbacktest: fit on months 1..k, predict month k+1, k = 1..{last}\n")
    print("| group level | group-days | MAPE | naive MAPE | 80 % interval coverage "
          "| naive interval coverage | mean width (naive) | mean peak | s |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for by in LEVELS:
        r = scores(results[by])
        print(f"| {by} | {r['n']:.0f} | {r['mape']:.1%} | {r['naive']:.1%} | "
              f"{r['coverage']:.1%} | {r['naive_coverage']:.1%} | "
              f"{r['width']:.1f} ({r['naive_width']:.1f}) | {r['peak']:.1f} | "
              f"{seconds[by]:.1f} |")  # fmt: skip
    print("\nper k (months of history): coverage / MAPE / naive MAPE\n")
    print("| k | " + " | ".join(LEVELS) + " |")
    print("|---:|" + "---|" * len(LEVELS))
    for k in range(1, args.months):
        cells = []
        for by in LEVELS:
            r = scores(results[by][results[by]["k"] == k])
            cells.append(f"{r['coverage']:.0%} / {r['mape']:.1%} / {r['naive']:.1%}")
        print(f"| {k} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
