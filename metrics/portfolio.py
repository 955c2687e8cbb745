"""Figures over several sites (docs/metrics.md, "Portfolio").

A site's figures are ratios of sums over its day cells (``metrics.cells``);
over a portfolio the same sums are added up across sites and the ratios taken
once, never averaged. ``group_sums`` gives one site's sums per group (and
bucket), ``add_up`` adds sums of several sites exactly (integer nanoseconds,
in Python integers: a year of a portfolio's opening time overflows int64),
``utilisation_figures`` turns either into the columns of
``utilisation_from_cells``. ``combine_efficiency`` adds up efficiency rows of
several sites (peaks and right-sizing per site, then summed: desks in
different buildings are never in use "at once").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from core.registry import Site
from metrics.grouping import float_sums, int_sums
from metrics.intervals import space_codes
from metrics.utilisation import FREQUENCY_MIN_S, bucket_of, group_of, ns_to_seconds

Level = Literal["site", "agency"]
PortfolioBucket = Literal["day", "week", "month"]
#: Sums in integer nanoseconds; each is added across sites as seconds + remainder.
NS_SUMS = ("opening_ns", "unknown_ns", "occupied_ns")
COUNT_SUMS = ("spaces", "open_days", "space_days", "used_days")
FLOAT_SUMS = ("people_s", "seat_s")
_NS = 1_000_000_000
#: What a portfolio total row is called (a site's is ``_site``).
PORTFOLIO_ROW = "_portfolio"
UTILISATION_COLUMNS = (
    "spaces",
    "open_days",
    "opening_s",
    "unknown_s",
    "observed_s",
    "occupied_s",
    "coverage",
    "utilisation",
    "frequency",
    "intensity",
)


def _keys(by: str, bucket: str | None) -> list[str]:
    return [by, "bucket"] if bucket is not None else [by]


def group_sums(
    *,
    cells: pd.DataFrame,
    site: Site,
    by: Level,
    bucket: PortfolioBucket | None = None,
    frequency_min_s: float = FREQUENCY_MIN_S,
) -> pd.DataFrame:
    """The sums of the utilisation figures of day cells per group (and bucket).

    Columns: ``by``, [``bucket``], spaces and open_days (as
    ``utilisation_from_cells`` counts them), space_days (cells) and used_days
    (cells with at least ``frequency_min_s`` occupied), opening_ns,
    unknown_ns, occupied_ns, people_s and seat_s (capacity x counted seconds).
    The float sums run in the canonical cell order (``sort_cells``), so a
    site's figures equal ``utilisation_from_cells`` to the last bit.
    """
    if bucket not in (None, "day", "week", "month"):
        raise ValueError(f"bucket must be day, week, month or None; got {bucket!r}")
    groups = group_of(site=site, by=by)
    labels = sorted(set(groups.values()))
    label_code = {g: i for i, g in enumerate(labels)}
    group_code = np.array([label_code[groups[s.id]] for s in site.spaces], dtype=np.int64)
    capacity = np.array([float(s.capacity or 0) for s in site.spaces])
    code = space_codes(site, cells["space"])
    mine = code >= 0
    code = code[mine]
    day = cells["day"].to_numpy(dtype="datetime64[ns]")[mine]
    order = np.lexsort((day, code))
    code, day = code[order], day[order]

    def col(name: str, dtype: Any) -> np.ndarray:
        return cells[name].to_numpy(dtype=dtype)[mine][order]

    occupied = col("occupied_ns", np.int64)
    p = pd.DataFrame(
        {
            "g": group_code[code],
            "space": code,
            "day": day,
            "opening_ns": col("opening_ns", np.int64),
            "unknown_ns": col("unknown_ns", np.int64),
            "occupied_ns": occupied,
            "used_days": (occupied >= round(frequency_min_s * 1e9)).astype(np.int64),
            "people_s": col("people_s", float),
            # the same expression as utilisation_from_cells, so the same floats
            "seat_s": capacity[code] * col("counted_ns", np.int64) / 1e9,
        }
    )
    keys = ["g"]
    if bucket is not None:
        p["bucket"] = np.asarray(bucket_of(p, bucket), dtype="datetime64[ns]")
        keys.append("bucket")
    g = p.groupby(keys, sort=True)
    out = g[["used_days", *NS_SUMS]].sum()
    # floats added in the canonical row order, as utilisation_from_cells adds them
    key = g.ngroup().to_numpy()
    for c in FLOAT_SUMS:
        out[c] = float_sums(p[c].to_numpy(), key, len(out))
    out["spaces"] = g["space"].nunique()
    out["open_days"] = g["day"].nunique()
    out["space_days"] = g.size()
    out = out.reset_index()
    out.insert(0, by, np.asarray(labels, dtype=object)[out["g"].to_numpy(dtype=np.int64)])
    return out[[*_keys(by, bucket), *COUNT_SUMS, *NS_SUMS, *FLOAT_SUMS]]


def add_up(parts: Sequence[pd.DataFrame], *, keys: Sequence[str]) -> pd.DataFrame:
    """Sums of several sites (``group_sums`` frames, possibly restricted) added
    per key, with ``sites``: how many parts have the key. Nanoseconds are added
    exactly (object columns of Python integers)."""
    keys = list(keys)
    frames = [p for p in parts if len(p)]
    if not frames:
        return pd.DataFrame(columns=[*keys, "sites", *COUNT_SUMS, *NS_SUMS, *FLOAT_SUMS])
    p = pd.concat(frames, ignore_index=True)
    split: dict[str, Any] = {}
    for c in NS_SUMS:
        ns = p[c].to_numpy(dtype=np.int64)
        # a site's sum fits int64; whole seconds and remainders of many sites do too
        split[f"{c}_s"], split[f"{c}_r"] = ns // _NS, ns % _NS
    p = p.assign(**split, sites=1)
    g = p.groupby(keys, sort=True)[
        ["sites", *COUNT_SUMS, *FLOAT_SUMS, *(f"{c}_{x}" for c in NS_SUMS for x in "sr")]
    ].sum()
    for c in NS_SUMS:
        whole, rest = g[f"{c}_s"].tolist(), g[f"{c}_r"].tolist()
        g[c] = pd.Series(
            [int(a) * _NS + int(b) for a, b in zip(whole, rest, strict=True)],
            index=g.index,
            dtype=object,
        )
    return g.reset_index()[[*keys, "sites", *COUNT_SUMS, *NS_SUMS, *FLOAT_SUMS]]


def _seconds(values: pd.Series | np.ndarray) -> np.ndarray:
    # Python integers (sums of sites) split into int64 parts; then rounded as
    # utilisation_from_cells rounds them, so one site's figures are the same floats
    arr = np.asarray(values)
    if arr.dtype == np.int64:  # one site's sums: the same parts, without a loop
        return ns_to_seconds(arr // _NS, arr % _NS)
    ints = [int(v) for v in arr]
    return ns_to_seconds(
        np.array([v // _NS for v in ints], dtype=np.int64),
        np.array([v % _NS for v in ints], dtype=np.int64),
    )


def time_figures(sums: pd.DataFrame, *, keys: Sequence[str]) -> pd.DataFrame:
    """The time columns of ``utilisation_figures`` from the nanosecond sums
    alone (``NS_SUMS``, int64 or Python integers; a ``sites`` column is kept):
    opening_s, unknown_s, observed_s, occupied_s, coverage and utilisation,
    the same floats."""
    opening, unknown = sums["opening_ns"].to_numpy(), sums["unknown_ns"].to_numpy()
    kept = [*keys, *(["sites"] if "sites" in sums.columns else [])]
    op, ob = _seconds(opening), _seconds(opening - unknown)
    occupied = _seconds(sums["occupied_ns"].to_numpy())
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.DataFrame(
            {
                **{k: sums[k].to_numpy() for k in kept},
                "opening_s": op,
                "unknown_s": _seconds(unknown),
                "observed_s": ob,
                "occupied_s": occupied,
                "coverage": np.where(op > 0, ob / op, np.nan),
                "utilisation": np.where(ob > 0, occupied / ob, np.nan),
            }
        )


def utilisation_figures(sums: pd.DataFrame, *, keys: Sequence[str]) -> pd.DataFrame:
    """The columns of ``utilisation_from_cells`` from sums (``group_sums`` or
    ``add_up``; a ``sites`` column is kept): seconds, then coverage = observed
    / opening, utilisation = occupied / observed, frequency = used_days /
    space_days, intensity = people_s / seat_s, each a ratio of sums."""
    times = time_figures(sums, keys=keys)
    out = sums[[*keys, *(["sites"] if "sites" in sums.columns else [])]].copy()
    out["spaces"] = sums["spaces"].to_numpy(dtype=np.int64)
    out["open_days"] = sums["open_days"].to_numpy(dtype=np.int64)
    for c in ("opening_s", "unknown_s", "observed_s", "occupied_s", "coverage", "utilisation"):
        out[c] = times[c].to_numpy()
    seats = sums["seat_s"].to_numpy(dtype=float)
    used = sums["used_days"].to_numpy(dtype=np.int64)
    n = sums["space_days"].to_numpy(dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["frequency"] = np.where(n > 0, used / n, np.nan)
        out["intensity"] = np.where(
            seats > 0, sums["people_s"].to_numpy(dtype=float) / seats, np.nan
        )
    return out.reset_index(drop=True)


def group_day_totals(rows: pd.DataFrame, *, by: str) -> pd.DataFrame:
    """Per group, the nanosecond sums (``NS_SUMS``) of per-group daily rows
    (``PeriodData.group_days``: columns group, opening_ns, unknown_ns,
    occupied_ns), added exactly in int64 (one site's period fits); groups
    sorted, in a column named ``by``."""
    labels, key = np.unique(rows["group"].to_numpy(dtype=str), return_inverse=True)
    return pd.DataFrame(
        {
            by: labels.astype(object),
            **{
                c: int_sums(rows[c].to_numpy(dtype=np.int64), key.ravel(), len(labels))
                for c in NS_SUMS
            },
        }
    )


# ---- efficiency ---------------------------------------------------------------
def _total(values: pd.Series) -> float:
    """Sum of the rows' values; NaN when none has one (an agency without desks)."""
    v = values.to_numpy(dtype=float)
    return float(np.nansum(v)) if (~np.isnan(v)).any() else float("nan")


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("nan")


def combine_efficiency(rows: pd.DataFrame) -> dict[str, Any]:
    """One efficiency row of several sites from their rows (``efficiency_from``
    columns plus opening_ns, unknown_ns, occupied_ns of the row's spaces).

    Registry figures and the per-site peaks, p90s, desks needed and
    releasable desks are summed; m²/htv, the use rates (``_combined_presence``),
    desk-sharing ratio and m²/htv after are ratios of the sums; the target is
    the headcount-weighted target (the area every site at its own target would
    give, per htv; the sites' one target when they share it); utilisation and
    coverage are ratios of summed seconds."""
    htv = float(rows["headcount_htv"].sum())
    desks = int(rows["desks"].sum())
    area = float(rows["area_m2"].sum())
    release_m2 = float(rows["releasable_m2"].sum())
    peak = _total(rows["peak_desks"])
    targets = rows["target_m2_per_htv"].to_numpy(dtype=float)
    if len(set(targets.tolist())) == 1:
        target = float(targets[0])
    else:
        target = _ratio(float((targets * rows["headcount_htv"].to_numpy(dtype=float)).sum()), htv)
    opening = sum(int(v) for v in rows["opening_ns"])
    observed = opening - sum(int(v) for v in rows["unknown_ns"])
    occupied = sum(int(v) for v in rows["occupied_ns"])
    m2_per_htv = _ratio(area, htv)
    return {
        "sites": len(rows),
        "headcount_htv": htv,
        "desks": desks,
        "desk_area_m2": float(rows["desk_area_m2"].sum()),
        "area_m2": area,
        "m2_per_htv": m2_per_htv,
        "target_m2_per_htv": target,
        "meets_target": bool(m2_per_htv <= target + 1e-9),
        "peak_desks": peak,
        "p90_peak_desks": _total(rows["p90_peak_desks"]),
        "desk_sharing_ratio": _ratio(htv, float(desks)),
        "utilisation": _ratio(occupied / 1e9, observed / 1e9) if observed > 0 else float("nan"),
        "coverage": _ratio(observed / 1e9, opening / 1e9) if opening > 0 else float("nan"),
        "releasable_desks": int(rows["releasable_desks"].sum()),
        "releasable_m2": release_m2,
        "m2_per_htv_after": _ratio(area - release_m2, htv),
        **_combined_presence(rows, htv),
    }


def _combined_presence(rows: pd.DataFrame, htv: float) -> dict[str, Any]:
    """The presence figures of several sites: each site's daily-peak figures
    (mean, p90, max) summed, and the use rates as those sums / the summed htv.
    An agency's staff in two buildings are different people at different
    desks, so the sums are what right-sizing building by building needs; as a
    use rate across sites they are an upper bound of the peak of the
    time-aligned sum (the what-if, ``metrics.whatif``, computes that one)."""
    out: dict[str, Any] = {
        "open_days": int(rows["open_days"].max()) if len(rows) else 0,
        # a share of one site's pool: no sum across sites
        "pool_share": float(rows["pool_share"].iloc[0]) if len(rows) == 1 else float("nan"),
        "desks_held": float(rows["desks_held"].sum()),
        "desks_needed": int(rows["desks_needed"].sum()),
    }
    for figure in ("mean", "p90", "max"):
        total = _total(rows[f"peak_presence_{figure}"])
        out[f"peak_presence_{figure}"] = total
        out[f"use_rate_{figure}"] = _ratio(total, htv)
    out["use_rate"] = out["use_rate_mean"]
    return out


__all__ = [
    "PORTFOLIO_ROW",
    "UTILISATION_COLUMNS",
    "Level",
    "PortfolioBucket",
    "add_up",
    "combine_efficiency",
    "group_day_totals",
    "group_sums",
    "time_figures",
    "utilisation_figures",
]
