"""Forecast of daily peaks: a weekday level with a linear trend, and an
empirical 80 % interval from the past residuals (docs/metrics.md, "Forecast").

Per group, on its open history days only:

1. trend ``b`` (peak per week): least squares of peak on time with one
   intercept per weekday (the slope of the weekday-centred values), over the
   last ``trend_weeks`` weeks;
2. level of weekday ``w``: median of the detrended peaks ``y - b * t`` of that
   weekday over the last ``level_weeks`` weeks;
3. forecast on day ``d`` (weekday ``w``, time ``t`` in weeks):
   ``level_w + b * t``, clipped to [0, spaces in the group];
4. interval: forecast + the 10th and 90th percentiles of that weekday's
   one-week-ahead residuals (each detrended peak less the median of the
   same-weekday values before it: the fit's own residuals are too small),
   all weekdays pooled when a weekday has fewer than ``min_residuals``,
   clipped the same.

A median and a straight line can be checked by hand and do not chase a single
odd day; statsmodels is not a dependency, and the backtest
(benchmarks/forecast.py) measures what this simple model misses.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from core.calendar import is_closed
from core.registry import Site

MODEL = "weekday median level + linear trend, 10/90 % of one-week-ahead residuals"
LEVEL_WEEKS, TREND_WEEKS, MIN_RESIDUALS = 6, 13, 8
DEFAULTS = {
    "level_weeks": LEVEL_WEEKS,
    "trend_weeks": TREND_WEEKS,
    "min_residuals": MIN_RESIDUALS,
    "quantiles": [0.1, 0.9],
}
COLUMNS = ("day", "weekday", "forecast", "lower", "upper", "history_days")


def _trend_per_week(t: np.ndarray, y: np.ndarray, wd: np.ndarray) -> float:
    """OLS slope of y on t with weekday dummies (0 when t does not vary)."""
    tc = t.astype(float).copy()
    yc = y.astype(float).copy()
    for w in np.unique(wd):
        m = wd == w
        tc[m] -= tc[m].mean()
        yc[m] -= yc[m].mean()
    den = float((tc * tc).sum())
    return float((tc * yc).sum() / den) if den > 0 else 0.0


def _ahead_residuals(z: np.ndarray, wd: np.ndarray, level_weeks: int) -> dict[int, np.ndarray]:
    """Per weekday, each detrended peak less the median of the (up to
    ``level_weeks``) same-weekday values before it: the errors of the level
    when it was not yet known (from the third occurrence on)."""
    out = {}
    for w in np.unique(wd):
        zw = z[wd == w]
        r = [zw[j] - np.median(zw[max(0, j - level_weeks) : j]) for j in range(2, len(zw))]
        if r:
            out[int(w)] = np.array(r)
    return out


def _weeks(days: pd.Series, origin: date) -> np.ndarray:
    return ((days - pd.Timestamp(origin)).dt.days / 7.0).to_numpy()


def fit_group(
    *,
    history: pd.DataFrame,
    level_weeks: int,
    trend_weeks: int,
    min_residuals: int,
) -> tuple[float, dict[int, float], dict[int, tuple[float, float]], date] | None:
    """Trend per week, level per weekday, one-week-ahead residual 10/90 % per weekday and the
    time origin, from one group's ``day``/``peak`` rows (open days only)."""
    if history.empty:
        return None
    hist = history.sort_values("day")
    origin = hist["day"].iloc[0].date()
    last = hist["day"].iloc[-1]
    t = _weeks(hist["day"], origin)
    y = hist["peak"].to_numpy(dtype=float)
    wd = hist["day"].dt.day_of_week.to_numpy()
    recent = (hist["day"] > last - pd.Timedelta(weeks=trend_weeks)).to_numpy()
    b = _trend_per_week(t[recent], y[recent], wd[recent])
    z = y - b * t
    in_level = (hist["day"] > last - pd.Timedelta(weeks=level_weeks)).to_numpy()
    levels = {int(w): float(np.median(z[in_level & (wd == w)])) for w in np.unique(wd[in_level])}
    # a weekday seen only before the level window still gets its latest level
    for w in np.unique(wd):
        levels.setdefault(int(w), float(np.median(z[wd == w][-level_weeks:])))
    ahead = _ahead_residuals(z, wd, level_weeks)
    if not ahead:  # too short a history to score: the fit's own residuals
        ahead = {int(w): z[wd == w] - levels[int(w)] for w in np.unique(wd)}
    every = np.concatenate(list(ahead.values()))
    pooled = (float(np.quantile(every, 0.1)), float(np.quantile(every, 0.9)))
    bands = {}
    for w in levels:
        r = ahead.get(w, np.array([]))
        bands[w] = (
            (float(np.quantile(r, 0.1)), float(np.quantile(r, 0.9)))
            if len(r) >= min_residuals
            else pooled
        )
    return b, levels, bands, origin


def forecast_peaks(
    *,
    daily: pd.DataFrame,
    site: Site,
    by: str,
    start: date,
    days: int,
    level_weeks: int = LEVEL_WEEKS,
    trend_weeks: int = TREND_WEEKS,
    min_residuals: int = MIN_RESIDUALS,
) -> pd.DataFrame:
    """Forecast rows (``by``, ``COLUMNS``) for every open day in
    [start, start + days) and every group of ``daily`` (rows as
    ``PeriodData.daily_peaks`` gives them: ``by``, day, spaces, peak). History
    rows on closed days are ignored; a weekday never seen gets no row."""
    open_hist = (
        daily[[not is_closed(site, d.date()) for d in daily["day"]]] if len(daily) else daily
    )
    targets = [
        start + timedelta(days=i)
        for i in range(days)
        if not is_closed(site, start + timedelta(days=i))
    ]
    rows = []
    for group, hist in open_hist.groupby(by, sort=True):
        fit = fit_group(
            history=hist,
            level_weeks=level_weeks,
            trend_weeks=trend_weeks,
            min_residuals=min_residuals,
        )
        if fit is None:
            continue
        b, levels, bands, origin = fit
        cap = float(hist["spaces"].iloc[-1])
        for d in targets:
            w = d.weekday()
            if w not in levels:
                continue
            t = (d - origin).days / 7.0
            f = levels[w] + b * t
            lo, hi = f + bands[w][0], f + bands[w][1]
            rows.append(
                {
                    by: group,
                    "day": pd.Timestamp(d),
                    "weekday": w,
                    "forecast": round(min(max(f, 0.0), cap), 3),
                    "lower": round(min(max(lo, 0.0), cap), 3),
                    "upper": round(min(max(hi, 0.0), cap), 3),
                    "history_days": len(hist),
                }
            )
    if not rows:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in (by, *COLUMNS)})
    return pd.DataFrame(rows, columns=[by, *COLUMNS])
