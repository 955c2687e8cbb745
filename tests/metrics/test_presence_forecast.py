"""The forecast of agency presence, worked by hand (docs/metrics.md, "Forecast
of agency presence").

The site of tests/metrics/test_presence.py: agency a has desks a1..a4 (zone
za), agency b desk b1 (zone zb), desks s1..s3 are shared. The presence pairs
below are one moment a day, Monday to Friday for 8 weeks from Monday 9
November 2026 (holidays skipped), the same every week:

| | a (A, P) | b (A, P) | attributed desk time a / b |
|---|---|---|---|
| Monday | (2, 2) | (1, 2) | 1 h / 3 h |
| Tuesday-Thursday | (1, 2) | (1, 2) | 1 h / 3 h |
| Friday | (1, 0) | (1, 0) | 1 h / 3 h |

Pool shares by attributed time: a 1/4, b 3/4. Daily peaks of presence A + s P:
a Monday 2 + 2/4 = 2.5, Tuesday-Thursday 1.5, Friday 1; b Monday 1 + 6/4 =
2.5, Tuesday-Thursday 2.5, Friday 1. (Of its dedicated desks alone a would
be forecast 2 / 1 / 1; with the whole pool 4 / 3 / 1.) Every week is the
same, so the trend is 0, each weekday's level is its value, every origin
inside the history forecasts the days after it exactly and the 80 % band has
zero width: the week of 4 January 2027 is a Mon 2.5, Tue 1.5, Thu 1.5, Fri 1
(Wednesday 6 January is Epiphany: no row), each [f, f].

The most desks presence can count: a 4 + 3 = 7, b 1 + 3 = 4. With one week
of history there is no out-of-sample error to size the band with: it is the
whole group, [0, 7] for a and [0, 4] for b.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from core.calendar import is_closed
from metrics.presence import PAIR_COLUMNS
from metrics.presence_forecast import forecast_presence, presence_desks, presence_history
from tests.metrics.test_presence import _site

FIRST = date(2026, 11, 9)
HOUR_NS = 3600 * 10**9
#: weekday -> agency -> (a, p)
PAIRS = {
    0: {"a": (2, 2), "b": (1, 2)},
    1: {"a": (1, 2), "b": (1, 2)},
    2: {"a": (1, 2), "b": (1, 2)},
    3: {"a": (1, 2), "b": (1, 2)},
    4: {"a": (1, 0), "b": (1, 0)},
}
USE_H = {"a": 1, "b": 3}


def pairs(weeks: int) -> pd.DataFrame:
    site = _site()
    rows = []
    for i in range(7 * weeks):
        d = FIRST + timedelta(days=i)
        if d.weekday() > 4 or is_closed(site, d):
            continue
        at = pd.Timestamp(f"{d.isoformat()} 10:00", tz="Europe/Helsinki").tz_convert("UTC")
        for agency, (a, p) in PAIRS[d.weekday()].items():
            rows.append((agency, pd.Timestamp(d), a, p, at, USE_H[agency] * HOUR_NS))
    frame = pd.DataFrame(rows, columns=list(PAIR_COLUMNS))
    frame["day"] = frame["day"].astype("datetime64[ns]")
    frame["at"] = frame["at"].astype("datetime64[ns, UTC]")
    return frame


def rows(out: pd.DataFrame) -> dict[tuple[str, date], tuple[float, float, float]]:
    return {(r.agency, r.day.date()): (r.forecast, r.lower, r.upper) for r in out.itertuples()}


def test_the_desks_presence_can_count() -> None:
    site = _site()
    assert presence_desks(site, "a") == 7 and presence_desks(site, "b") == 4


def test_history_is_the_daily_peak_of_presence_with_the_period_share() -> None:
    hist = presence_history(pairs=pairs(1), site=_site()).set_index(["agency", "day"])
    mon, fri = pd.Timestamp("2026-11-09"), pd.Timestamp("2026-11-13")
    assert hist.at[("a", mon), "peak"] == 2.5 and hist.at[("a", fri), "peak"] == 1.0
    assert (
        hist.at[("b", mon), "peak"] == 2.5
        and hist.at[("b", pd.Timestamp("2026-11-10")), "peak"] == 2.5
    )
    assert set(hist.loc["a", "spaces"]) == {7} and set(hist.loc["b", "spaces"]) == {4}


def test_forecast_of_presence_by_hand() -> None:
    out = forecast_presence(pairs=pairs(8), site=_site(), start=date(2027, 1, 4), days=7)
    want_a = {4: 2.5, 5: 1.5, 7: 1.5, 8: 1.0}
    want_b = {4: 2.5, 5: 2.5, 7: 2.5, 8: 1.0}
    want = {("a", date(2027, 1, d)): (f, f, f) for d, f in want_a.items()}
    want |= {("b", date(2027, 1, d)): (f, f, f) for d, f in want_b.items()}
    assert rows(out) == want


def test_one_week_of_history_gives_the_whole_group() -> None:
    out = forecast_presence(pairs=pairs(1), site=_site(), start=date(2026, 11, 16), days=7)
    got = rows(out)
    assert got[("a", date(2026, 11, 16))] == (2.5, 0.0, 7.0)
    assert got[("b", date(2026, 11, 20))] == (1.0, 0.0, 4.0)
    assert len(got) == 10  # Mon-Fri for each of the two


def test_one_agency_keeps_the_share_of_all() -> None:
    # a alone: the same rows as a's of all, its share still 1/4 (b's pairs count)
    everyone = forecast_presence(pairs=pairs(8), site=_site(), start=date(2027, 1, 4), days=7)
    alone = forecast_presence(
        pairs=pairs(8), site=_site(), start=date(2027, 1, 4), days=7, agencies=["a"]
    )
    assert rows(alone) == {k: v for k, v in rows(everyone).items() if k[0] == "a"}
    assert rows(alone)[("a", date(2027, 1, 4))] == (2.5, 2.5, 2.5)


def test_pairs_from_the_start_on_are_not_used() -> None:
    # the week after the start, with the whole pool to a (b attributed nothing),
    # changes neither the history's share nor the forecast
    late = pairs(2)
    late = late[late["day"] >= pd.Timestamp("2026-11-16")].copy()
    late.loc[late["agency"] == "b", "use_ns"] = 0
    both = pd.concat([pairs(1), late], ignore_index=True)
    start = date(2026, 11, 16)
    a = forecast_presence(pairs=pairs(1), site=_site(), start=start, days=7)
    b = forecast_presence(pairs=both, site=_site(), start=start, days=7)
    assert rows(a) == rows(b)


def test_no_pairs_no_rows() -> None:
    empty = pairs(1).iloc[0:0]
    out = forecast_presence(pairs=empty, site=_site(), start=date(2026, 11, 16), days=7)
    assert len(out) == 0 and np.array_equal(
        out.columns, ["agency", "day", "weekday", "forecast", "lower", "upper", "history_days"]
    )
