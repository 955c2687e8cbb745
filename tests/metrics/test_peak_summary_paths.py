"""``peak_summary`` of integer peaks (the path efficiency takes, without a sort
of the frame) against a hand-worked case and against the general path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metrics.peaks import peak_summary


def test_hand_worked_integer_peaks() -> None:
    daily = pd.DataFrame(
        {
            "agency": np.array(["b", "a", "a", "a"], dtype=object),
            "day": pd.to_datetime(["2026-03-02", "2026-03-04", "2026-03-03", "2026-03-02"]),
            "peak": np.array([1, 5, 5, 3], dtype=np.int64),
        }
    )
    out = peak_summary(daily=daily, by="agency")
    assert out["agency"].tolist() == ["a", "b"]
    assert out["days"].tolist() == [3, 1]
    assert out["max_peak"].tolist() == [5, 1]
    # the first day with the maximum: 3 March, not 4 March
    assert out["max_day"].tolist() == [pd.Timestamp("2026-03-03"), pd.Timestamp("2026-03-02")]
    # sorted 3, 5, 5: rank (3 - 1) x 0.9 = 1.8 -> 5 + 0.8 x (5 - 5) = 5
    assert out["p90_peak"].tolist() == [5.0, 1.0]
    assert out["mean_peak"].tolist() == [13 / 3, 1.0]


@pytest.mark.parametrize("strings", [False, True])
def test_integer_path_equals_the_general_path(strings: bool) -> None:
    rng = np.random.default_rng(3)
    for _ in range(100):
        n = int(rng.integers(1, 300))
        daily = pd.DataFrame(
            {
                "agency": rng.choice(np.array(["b", "a", "_shared", "zz"], dtype=object), n),
                "day": pd.to_datetime("2025-01-01")
                + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
                "peak": rng.integers(0, 60, n).astype(np.int64),
            }
        ).drop_duplicates(["agency", "day"])
        if strings:
            daily["agency"] = daily["agency"].astype("str")
        fast = peak_summary(daily=daily, by="agency")
        general = peak_summary(daily=daily.assign(peak=daily["peak"].astype(float)), by="agency")
        general["max_peak"] = general["max_peak"].astype(int)
        pd.testing.assert_frame_equal(fast, general, check_exact=True)
