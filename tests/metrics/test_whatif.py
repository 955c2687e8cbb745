"""The what-if overlay on hand-worked days (docs/metrics.md, "Consolidation
what-if"): the combined peak is the peak of the summed series."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from core.calendar import local_day_bounds
from core.registry import Site
from metrics import whatif as wi
from metrics.peaks import daily_peaks
from metrics.whatif import occupied_steps
from simulators.backfill import backfill
from simulators.scenario import Scenario
from storage.sqlite import SQLiteStore
from summaries.raw import read_opening_intervals

TZ = ZoneInfo("Europe/Helsinki")
DAY = "2026-03-02"  # a Monday


def rows(*spells: tuple[str, str, str, str]) -> pd.DataFrame:
    """Clipped intervals from (space, state, start UTC hh:mm, end UTC hh:mm) on DAY."""
    data = [
        {
            "space": sp,
            "state": st,
            "start": pd.Timestamp(f"{DAY} {a}", tz="UTC"),
            "end": pd.Timestamp(f"{DAY} {b}", tz="UTC"),
        }
        for sp, st, a, b in spells
    ]
    frame = pd.DataFrame(data)
    frame["count"] = np.nan
    frame["day"] = pd.Timestamp(DAY)
    return frame


# Agency vero at site a: three desks 06:00-09:00 UTC (08-11 local), peak 3.
VERO = rows(*[(f"v{i}", "occupied", "06:00", "09:00") for i in range(3)])
# Site b's own staff: three desks 09:00-12:00 UTC, peak 3; free before.
OWN = rows(
    *[(f"b{i}", "occupied", "09:00", "12:00") for i in range(3)],
    *[(f"b{i}", "free", "05:00", "09:00") for i in range(3)],
)


def steps(frame: pd.DataFrame, weight: float = 1.0) -> wi.Steps:
    return wi.occupied_steps(intervals=frame, spaces=set(frame["space"]), tz=TZ, weight=weight)


def test_sum_of_peaks_does_not_fit_but_the_aligned_series_does() -> None:
    # 4 desks at b, no margin: 3 + 3 = 6 > 4 by the sum of peaks, but vero's
    # desks are empty from 09:00 (half-open), when b's staff arrive: 3 <= 4.
    days = wi.days_of(intervals=OWN, tz=TZ)
    sources = [steps(VERO), steps(OWN)]
    aligned = wi.summed_daily_peaks(sources=sources, days=days)
    naive = wi.sum_of_daily_peaks(sources=sources, days=days)
    assert aligned["peak"].tolist() == [3.0]
    assert aligned["peak_at"].iloc[0] == pd.Timestamp(f"{DAY} 06:00", tz="UTC")
    assert naive["peak"].tolist() == [6.0]
    fit = wi.fit_by_day_type(peaks=aligned, capacity=4, margin=0.0).set_index("day_type")
    assert bool(fit.loc["all", "fits"]) and fit.loc["all", "headroom"] == 1.0
    assert not wi.fit_by_day_type(peaks=naive, capacity=4, margin=0.0)["fits"].iloc[-1]
    assert list(fit.index) == ["mon", "all"]


def test_overlapping_presence_does_not_fit_with_the_margin() -> None:
    # vero stays until 10:00: 09:00-10:00 has 3 + 3 = 6 desks in use.
    late = rows(*[(f"v{i}", "occupied", "06:00", "10:00") for i in range(3)])
    days = wi.days_of(intervals=OWN, tz=TZ)
    aligned = wi.summed_daily_peaks(sources=[steps(late), steps(OWN)], days=days)
    assert aligned["peak"].tolist() == [6.0]
    # 8 desks, 10 % margin: usable 7.2, 6 fits; 20 % margin: usable 6.4 fits;
    # 30 %: usable 5.6 does not, one day over
    assert wi.fit_by_day_type(peaks=aligned, capacity=8, margin=0.2)["fits"].iloc[-1]
    fit = wi.fit_by_day_type(peaks=aligned, capacity=8, margin=0.3).iloc[-1]
    assert not fit["fits"] and fit["days_over"] == 1
    assert fit["usable"] == pytest.approx(5.6) and fit["headroom"] == pytest.approx(-0.4)


def test_weighted_share_and_empty_days() -> None:
    # a half share of two shared desks in use 07:00-08:00 on top of vero's 3
    shared = rows(("s1", "occupied", "07:00", "08:00"), ("s2", "occupied", "07:30", "08:30"))
    quiet = np.array([np.datetime64("2026-03-03")], dtype="datetime64[D]")
    days = np.concatenate([wi.days_of(intervals=VERO, tz=TZ), quiet])
    aligned = wi.summed_daily_peaks(sources=[steps(VERO), steps(shared, 0.5)], days=days)
    assert aligned["peak"].tolist() == [4.0, 0.0]  # 3 + 0.5 x 2 at 07:30
    assert aligned["peak_at"].iloc[0] == pd.Timestamp(f"{DAY} 07:30", tz="UTC")
    assert pd.isna(aligned["peak_at"].iloc[1])


def test_day_is_the_targets_local_day() -> None:
    # 22:30 UTC on Monday is Tuesday 00:30 in Helsinki
    late = pd.DataFrame(
        {
            "space": ["x"],
            "state": ["occupied"],
            "start": [datetime(2026, 3, 2, 22, 30, tzinfo=ZoneInfo("UTC"))],
            "end": [datetime(2026, 3, 2, 23, 0, tzinfo=ZoneInfo("UTC"))],
        }
    )
    assert str(wi.days_of(intervals=late, tz=TZ)[0]) == "2026-03-03"


def test_margin_must_be_below_one() -> None:
    with pytest.raises(ValueError, match="margin"):
        wi.fit_by_day_type(peaks=wi.summed_daily_peaks(sources=[], days=[]), capacity=1, margin=1)


def test_split_sources_add_up_to_the_sites_own_peak(example_site: Site, tmp_path: Path) -> None:
    # Two simulated days of the example site: the desks split into each
    # agency's dedicated desks and the shared ones, summed in time, give the
    # site's desk peak of the event sweep in metrics.peaks; the sum of the
    # parts' peaks is above it on a busy day.
    site = example_site
    store = SQLiteStore(tmp_path / "occ.db")
    first = date(2025, 1, 7)
    start, end = local_day_bounds(site, first)[0], local_day_bounds(site, first + timedelta(2))[0]
    backfill(site, Scenario(seed=1), store, start, end, collect=False)
    iv = read_opening_intervals(store=store, site=site, start=start, end=end)
    store.close()
    want = daily_peaks(intervals=iv, site=site, by="site", space_types={"desk"})
    owner = {z.id: z.agency for z in site.zones}
    groups: dict[str | None, set[str]] = {}
    for sp in site.spaces:
        if sp.type.value == "desk":
            groups.setdefault(owner[sp.zone], set()).add(sp.id)
    sources = [occupied_steps(intervals=iv, spaces=g, tz=site.tz) for g in groups.values()]
    days = wi.days_of(intervals=iv, tz=site.tz)
    got = wi.summed_daily_peaks(sources=sources, days=days)
    assert got["peak"].tolist() == want["peak"].astype(float).tolist()
    assert (got["peak_at"] == want["peak_at"]).all()
    naive = wi.sum_of_daily_peaks(sources=sources, days=days)
    assert (naive["peak"] >= got["peak"]).all() and (naive["peak"] > got["peak"]).any()
