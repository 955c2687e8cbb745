"""Forecast of daily peaks: a weekday level with a linear trend, and an 80 %
interval from the model's own out-of-sample errors at the forecast's horizon
(docs/metrics.md, "Forecast").

Per group, on its open history days only:

1. trend ``b`` (peak per week): least squares of peak on time with one
   intercept per weekday, over the last ``trend_weeks`` weeks, and only when
   the history touches at least ``min_trend_weeks`` weeks (else 0);
2. level of weekday ``w``: median of the detrended peaks ``y - b * t`` of that
   weekday over the last ``level_weeks`` weeks;
3. forecast on day ``d``: ``level_w + b * t_d``, clipped to [0, spaces];
4. interval, split-conformal by horizon: the same fit is repeated from
   rolling origins inside the history (every 7 days back from the forecast's
   start, up to ``score_weeks``), each forecasting the history days after it;
   its errors (actual - forecast) at horizon ``h`` weeks give the band of
   horizon ``h``: the order statistics ``floor(0.1 (n + 1))`` and
   ``ceil(0.9 (n + 1))`` of the ``n`` errors (infinite when n is too small,
   i.e. clipped to the group); errors are scaled by their weekday's mean
   absolute error first, and the band by the forecast weekday's.

Closed days (holidays, closures, no opening hours) are neither history nor
forecast: they get no row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from core.calendar import is_closed
from core.registry import Site

MODEL = (
    "weekday median level + linear trend; 80 % interval: split-conformal quantiles of "
    "rolling-origin out-of-sample errors per horizon week"
)
LEVEL_WEEKS, TREND_WEEKS, MIN_TREND_WEEKS = 6, 13, 8
SCORE_WEEKS, MIN_FIT_DAYS, MIN_ERRORS = 26, 5, 10
QUANTILES = (0.1, 0.9)
DEFAULTS = {
    "level_weeks": LEVEL_WEEKS,
    "trend_weeks": TREND_WEEKS,
    "min_trend_weeks": MIN_TREND_WEEKS,
    "score_weeks": SCORE_WEEKS,
    "min_fit_days": MIN_FIT_DAYS,
    "min_errors": MIN_ERRORS,
    "quantiles": list(QUANTILES),
}
COLUMNS = ("day", "weekday", "forecast", "lower", "upper", "history_days")
_DAY = np.timedelta64(1, "D")


@dataclass(frozen=True)
class Params:
    level_weeks: int = LEVEL_WEEKS
    trend_weeks: int = TREND_WEEKS
    min_trend_weeks: int = MIN_TREND_WEEKS
    score_weeks: int = SCORE_WEEKS
    min_fit_days: int = MIN_FIT_DAYS
    min_errors: int = MIN_ERRORS


@dataclass(frozen=True)
class Fit:
    """Slope per week, level per weekday (NaN: never seen) and time origin."""

    slope: float
    levels: np.ndarray
    origin: np.datetime64

    def predict(self, days: np.ndarray, cap: float) -> np.ndarray:
        """Clipped forecasts on ``days`` (datetime64[D]); NaN on unseen weekdays."""
        t = (days - self.origin) / _DAY / 7.0
        raw = self.levels[weekday(days)] + self.slope * t
        return np.clip(raw, 0.0, cap)


def weekday(days: np.ndarray) -> np.ndarray:
    """0 = Monday, for datetime64[D] (1970-01-01 was a Thursday)."""
    return ((days.astype("datetime64[D]").astype(np.int64) + 3) % 7).astype(int)


def _slope(t: np.ndarray, y: np.ndarray, wd: np.ndarray) -> float:
    """OLS slope of y on t with one intercept per weekday (0 if t is constant)."""
    tc, yc = t.astype(float).copy(), y.astype(float).copy()
    for w in np.unique(wd):
        m = wd == w
        tc[m] -= tc[m].mean()
        yc[m] -= yc[m].mean()
    den = float((tc * tc).sum())
    return float((tc * yc).sum() / den) if den > 0 else 0.0


def fit(days: np.ndarray, y: np.ndarray, p: Params) -> Fit:
    """The model on sorted, non-empty history ``days`` (datetime64[D]) and peaks ``y``."""
    origin = days[0]
    t = (days - origin) / _DAY / 7.0
    wd = weekday(days)
    last = days[-1]
    slope = 0.0
    # calendar weeks the history touches: 8 weeks Monday to Friday count 8
    if int((last - origin) / _DAY) // 7 + 1 >= p.min_trend_weeks:
        recent = days > last - 7 * p.trend_weeks * _DAY
        slope = _slope(t[recent], y[recent], wd[recent])
    z = y - slope * t
    levels = np.full(7, np.nan)
    window = days > last - 7 * p.level_weeks * _DAY
    for w in np.unique(wd):
        m = wd == w
        # a weekday seen only before the window keeps its latest values
        zw = z[m & window] if (m & window).any() else z[m][-p.level_weeks :]
        levels[w] = float(np.median(zw))
    return Fit(slope, levels, origin)


def horizon_weeks(days: np.ndarray, start: np.datetime64) -> np.ndarray:
    """1 for the first 7 days from ``start``, 2 for the next 7, ..."""
    return ((days - start) / _DAY).astype(int) // 7 + 1


def ahead_errors(
    days: np.ndarray, y: np.ndarray, *, start: np.datetime64, cap: float, p: Params
) -> pd.DataFrame:
    """Out-of-sample errors (``error`` = actual - forecast), with the
    ``horizon`` in weeks and the ``weekday`` of the day scored: the model
    fitted on the history before each origin ``start - 7 j`` (j = 1 ..
    score_weeks, with at least ``min_fit_days`` days before it) forecasts the
    history days from that origin to ``start``."""
    parts = []
    for j in range(1, p.score_weeks + 1):
        o = start - 7 * j * _DAY
        n_fit = int(np.searchsorted(days, o))
        if n_fit < p.min_fit_days:
            break
        ahead = days[n_fit:]
        f = fit(days[:n_fit], y[:n_fit], p).predict(ahead, cap)
        ok = ~np.isnan(f)
        parts.append(
            pd.DataFrame(
                {
                    "error": y[n_fit:][ok] - f[ok],
                    "horizon": horizon_weeks(ahead[ok], o),
                    "weekday": weekday(ahead[ok]),
                }
            )
        )
    if not parts:
        return pd.DataFrame({"error": [], "horizon": [], "weekday": []})
    return pd.concat(parts, ignore_index=True)


def weekday_scales(errors: pd.DataFrame, *, min_errors: int) -> np.ndarray:
    """Mean absolute error per weekday (all horizons), the pooled one for a
    weekday with fewer than ``min_errors``: the spread differs by weekday (a
    zone full on Tuesdays hardly varies then, and varies on Fridays)."""
    pooled = float(errors["error"].abs().mean()) if len(errors) else 0.0
    scales = np.full(7, pooled)
    wd = errors["weekday"].to_numpy(dtype=int)
    err = np.abs(errors["error"].to_numpy(dtype=float))
    for w in np.unique(wd):
        if (wd == w).sum() >= min_errors:
            scales[w] = float(err[wd == w].mean())
    return scales


def conformal_band(errors: np.ndarray) -> tuple[float, float]:
    """The split-conformal 10 % and 90 % error quantiles: order statistics
    floor(0.1 (n+1)) and ceil(0.9 (n+1)) (1-based), -inf / +inf when they
    fall outside the sample, so that a new error lies at or above the lower
    one with probability >= 0.9, likewise below the upper one."""
    e = np.sort(errors)
    n = len(e)
    lo_i = math.floor(QUANTILES[0] * (n + 1))
    hi_i = math.ceil(QUANTILES[1] * (n + 1))
    lo = float(e[lo_i - 1]) if lo_i >= 1 else -math.inf
    hi = float(e[hi_i - 1]) if hi_i <= n else math.inf
    return lo, hi


def horizon_bands(
    errors: np.ndarray, horizons: np.ndarray, *, weeks: int, min_errors: int
) -> list[tuple[float, float]]:
    """Band of horizon h = 1..weeks: the conformal band of the errors of
    horizon h when there are at least ``min_errors`` of them, else that of
    the nearest shorter horizon that has (the whole group, -inf/+inf, when
    none has). The band widens with h as far as the errors do."""
    bands: list[tuple[float, float]] = []
    band = (-math.inf, math.inf)
    for h in range(1, weeks + 1):
        e = errors[horizons == h]
        if len(e) >= min_errors:
            band = conformal_band(e)
        bands.append(band)
    return bands


def _group_rows(
    hist: pd.DataFrame, targets: np.ndarray, start: date, p: Params
) -> list[tuple[date, int, float, float, float]]:
    """(day, weekday, forecast, lower, upper) of one group's target days."""
    hist = hist.sort_values("day")
    days = hist["day"].to_numpy().astype("datetime64[D]")
    y = hist["peak"].to_numpy(dtype=float)
    cap = float(hist["spaces"].iloc[-1])
    t0 = np.datetime64(start, "D")
    f = fit(days, y, p).predict(targets, cap)
    errors = ahead_errors(days, y, start=t0, cap=cap, p=p)
    scales = weekday_scales(errors, min_errors=p.min_errors)
    s_err = scales[errors["weekday"].to_numpy(dtype=int)]
    # errors in units of their weekday's scale (0 where that scale is 0: a
    # weekday the model never missed)
    z = np.divide(errors["error"].to_numpy(dtype=float), s_err, out=np.zeros(len(s_err)),
                  where=s_err > 0)  # fmt: skip
    hz = horizon_weeks(targets, t0)
    bands = horizon_bands(
        z, errors["horizon"].to_numpy(dtype=int), weeks=int(hz.max()), min_errors=p.min_errors
    )
    out = []
    for d, fd, h in zip(targets, f, hz, strict=True):
        if np.isnan(fd):
            continue
        s = scales[d.astype(date).weekday()]
        lo, hi = (b * s if s > 0 else (b if math.isinf(b) else 0.0) for b in bands[h - 1])
        day = d.astype(date)
        out.append((day, day.weekday(), fd, min(max(fd + lo, 0.0), cap), min(fd + hi, cap)))
    return out


def forecast_peaks(
    *,
    daily: pd.DataFrame,
    site: Site,
    by: str,
    start: date,
    days: int,
    params: Params | None = None,
) -> pd.DataFrame:
    """Forecast rows (``by``, ``COLUMNS``) for every open day in
    [start, start + days) and every group of ``daily`` (rows as
    ``PeriodData.daily_peaks`` gives them: ``by``, day, spaces, peak), from
    its rows before ``start``. History rows on closed days are ignored; a
    closed day and a weekday never seen get no row."""
    p = params or Params()
    hist_all = daily[daily["day"] < pd.Timestamp(start)] if len(daily) else daily
    if len(hist_all):
        hist_all = hist_all[[not is_closed(site, d.date()) for d in hist_all["day"]]]
    open_targets = [
        start + timedelta(days=i)
        for i in range(days)
        if not is_closed(site, start + timedelta(days=i))
    ]
    targets = np.array(open_targets, dtype="datetime64[D]")
    rows = []
    if len(targets):
        for group, hist in hist_all.groupby(by, sort=True):
            for d, w, f, lo, hi in _group_rows(hist, targets, start, p):
                rows.append(
                    {
                        by: group,
                        "day": pd.Timestamp(d),
                        "weekday": w,
                        "forecast": round(f, 3),
                        "lower": round(lo, 3),
                        "upper": round(hi, 3),
                        "history_days": len(hist),
                    }
                )
    if not rows:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in (by, *COLUMNS)})
    return pd.DataFrame(rows, columns=[by, *COLUMNS])
