"""Portfolio maths by hand (docs/metrics.md, "Portfolio"): the worked day's
sums, the worked day at two sites, sums past int64, and efficiency rows of
two sites combined."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.registry import Site
from metrics.cells import day_cells, hour_cells
from metrics.efficiency import EFFICIENCY_COLUMNS
from metrics.intervals import clip_to_opening, state_intervals
from metrics.portfolio import add_up, combine_efficiency, group_sums, utilisation_figures
from metrics.utilisation import utilisation_from_cells
from tests.metrics import worked_day


@pytest.fixture
def worked() -> tuple[Site, pd.DataFrame]:
    site = worked_day.site()
    iv = state_intervals(
        presence=worked_day.presence_frame(site),
        status=worked_day.status_frame(site),
        site=site,
        start=worked_day.DAY_START,
        end=worked_day.DAY_END,
    )
    clipped = clip_to_opening(
        intervals=iv, site=site, start=worked_day.DAY_START, end=worked_day.DAY_END
    )
    return site, day_cells(cells=hour_cells(intervals=clipped, site=site), site=site)


def test_worked_day_sums(worked: tuple[Site, pd.DataFrame]) -> None:
    """Agency a (d1, d2): opening 2 x 28,800 s, unknown 10,800 s (d2), occupied
    17,820 + 9,000 = 26,820 s; both desks used at least 15 minutes: 2 of 2
    space-days. The site adds d3 (unknown 1,800 s, occupied 6,600 s)."""
    site, cells = worked
    a = group_sums(cells=cells, site=site, by="agency").set_index("agency").loc["a"]
    assert a["opening_ns"] == 57_600 * 10**9 and a["unknown_ns"] == 10_800 * 10**9
    assert a["occupied_ns"] == 26_820 * 10**9
    assert (a["spaces"], a["open_days"], a["space_days"], a["used_days"]) == (2, 1, 2, 2)
    s = utilisation_figures(group_sums(cells=cells, site=site, by="site"), keys=["site"])
    assert s.iloc[0]["utilisation"] == 33_420 / 73_800
    assert s.iloc[0]["coverage"] == 73_800 / 86_400


@pytest.mark.parametrize("by", ["site", "agency"])
@pytest.mark.parametrize("bucket", [None, "day", "week", "month"])
def test_figures_of_one_site_are_utilisation_from_cells(
    worked: tuple[Site, pd.DataFrame], by: str, bucket: str | None
) -> None:
    site, cells = worked
    keys = [by, "bucket"] if bucket else [by]
    got = utilisation_figures(
        group_sums(cells=cells, site=site, by=by, bucket=bucket),  # type: ignore[arg-type]
        keys=keys,
    )
    want = utilisation_from_cells(cells=cells, site=site, by=by, bucket=bucket)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_the_worked_day_at_two_sites(worked: tuple[Site, pd.DataFrame]) -> None:
    """The same day at a second site: agency a's seconds double, its ratios
    stay; ``sites`` counts 2, spaces 4, open days 2 (site-days)."""
    site, cells = worked
    other = Site.model_validate({**site.model_dump(mode="python"), "id": "other"})
    parts = [
        group_sums(cells=cells, site=site, by="agency"),
        group_sums(cells=cells, site=other, by="agency"),
    ]
    a = utilisation_figures(add_up(parts, keys=["agency"]), keys=["agency"]).set_index("agency")
    assert a.at["a", "sites"] == 2 and a.at["a", "spaces"] == 4 and a.at["a", "open_days"] == 2
    assert a.at["a", "occupied_s"] == 2 * 26_820.0 and a.at["a", "observed_s"] == 2 * 46_800.0
    assert a.at["a", "utilisation"] == 26_820 / 46_800
    assert a.at["_shared", "occupied_s"] == 2 * 6_600.0


def test_add_up_is_exact_past_int64() -> None:
    """Two sites of 5 x 10^18 + 1 ns (about a year of a 500-space site's
    opening time each): int64 would wrap; the sum is exact."""
    big = 5 * 10**18 + 1
    part = pd.DataFrame(
        {
            "agency": ["a"],
            "spaces": [1],
            "open_days": [1],
            "space_days": [1],
            "used_days": [0],
            "opening_ns": np.array([big], dtype=np.int64),
            "unknown_ns": np.array([0], dtype=np.int64),
            "occupied_ns": np.array([big - 1], dtype=np.int64),
            "people_s": [0.0],
            "seat_s": [0.0],
        }
    )
    total = add_up([part, part], keys=["agency"]).iloc[0]
    assert total["opening_ns"] == 10 * 10**18 + 2 and total["occupied_ns"] == 10 * 10**18
    fig = utilisation_figures(add_up([part, part], keys=["agency"]), keys=["agency"]).iloc[0]
    assert fig["opening_s"] == 1e10 and fig["utilisation"] == 1e10 / (float(10 * 10**18 + 2) / 1e9)
    assert math.isnan(fig["intensity"])


def eff_row(**values: float) -> dict[str, float]:
    return {c: values.get(c, 0.0) for c in EFFICIENCY_COLUMNS} | values


def test_efficiency_of_two_sites_by_hand() -> None:
    """Site A (the worked efficiency example's agency a): 8 htv, 3 desks (15 m²),
    159 m², peak 2, p90 1.9, 1 releasable desk (5 m²), target 10; occupied
    28,800 s of 86,400 observed. Site B: 2 htv, 1 desk (5 m²), 41 m², peak 1,
    p90 0.9, none releasable, target 12; 7,200 s of 28,800.

    Portfolio: 10 htv, 4 desks, 200 m², 20 m²/htv against (10 x 8 + 12 x 2) / 10
    = 10.4 (not met); peak 2 + 1 = 3 (each site's own peak, not one moment),
    desk sharing 2.5, p90 2.8, 1 releasable desk, 5 m², after 19.5 m²/htv;
    utilisation 36,000 / 115,200 = 0.3125. Presence: mean daily peaks 1.5 and
    0.5 sum to 2: use rate (mean) 2 / 10 = 0.2, p90 2.8 / 10, max 3 / 10; desks
    needed 3 + 2 = 5, held 3.8 + 1.2 = 5."""
    a = eff_row(
        agency="a", headcount_htv=8, desks=3, desk_area_m2=15, area_m2=159,
        target_m2_per_htv=10, peak_desks=2, p90_peak_desks=1.9, releasable_desks=1,
        peak_presence_mean=1.5, peak_presence_p90=1.9, peak_presence_max=2, open_days=2,
        desks_held=3.8, desks_needed=3, releasable_m2=5,
        opening_ns=86_400 * 10**9, unknown_ns=0, occupied_ns=28_800 * 10**9,
    )  # fmt: skip
    b = eff_row(
        agency="a", headcount_htv=2, desks=1, desk_area_m2=5, area_m2=41,
        target_m2_per_htv=12, peak_desks=1, p90_peak_desks=0.9, releasable_desks=0,
        peak_presence_mean=0.5, peak_presence_p90=0.9, peak_presence_max=1, open_days=2,
        desks_held=1.2, desks_needed=2, releasable_m2=0,
        opening_ns=28_800 * 10**9, unknown_ns=0, occupied_ns=7_200 * 10**9,
    )  # fmt: skip
    got = combine_efficiency(pd.DataFrame([a, b]))
    assert got["sites"] == 2 and got["headcount_htv"] == 10 and got["desks"] == 4
    assert got["area_m2"] == 200 and got["m2_per_htv"] == 20
    assert got["target_m2_per_htv"] == pytest.approx(10.4) and got["meets_target"] is False
    assert got["peak_desks"] == 3 and got["use_rate"] == pytest.approx(0.2)
    assert got["use_rate_max"] == pytest.approx(0.3) and got["use_rate_p90"] == pytest.approx(0.28)
    assert (got["desks_needed"], got["desks_held"]) == (5, 5.0)
    assert got["p90_peak_desks"] == pytest.approx(2.8) and got["desk_sharing_ratio"] == 2.5
    assert (got["releasable_desks"], got["releasable_m2"]) == (1, 5)
    assert got["m2_per_htv_after"] == 19.5
    assert got["utilisation"] == 36_000 / 115_200 and got["coverage"] == 1.0
    # an agency without desks at either site has no peak, not a peak of 0
    no_peak = {"peak_desks": math.nan, "peak_presence_mean": math.nan}
    none = combine_efficiency(pd.DataFrame([a | no_peak] * 2))
    assert math.isnan(none["peak_desks"]) and math.isnan(none["use_rate"])
    # one site alone: its own figures, its own target
    one = combine_efficiency(pd.DataFrame([b]))
    assert one["target_m2_per_htv"] == 12 and one["m2_per_htv"] == 20.5
