"""Report tables kept between requests (``PeriodData.memo``): a second ask is
answered without recomputing, the caller gets its own copy, and a late point
(its day summarised again under a new generation) is reflected at once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd

from core.calendar import local_day_bounds
from core.registry import load_site
from metrics.utilisation import utilisation_from_cells
from simulators.backfill import backfill
from simulators.scenario import Scenario
from storage import StoreSettings, open_store
from storage.base import PRESENCE, Point
from storage.marks import MarkingStore
from summaries.reader import PeriodData, clear_cache
from summaries.summariser import SummaryParams, refresh_site
from tests.api.conftest import SMALL_SITE

FIRST, LAST = date(2026, 3, 2), date(2026, 3, 4)
NOW = datetime(2026, 3, 9, 12, tzinfo=UTC)


def test_memo_recomputes_only_for_new_generations(tmp_path: Path) -> None:
    clear_cache()
    site = load_site(SMALL_SITE)
    store = MarkingStore(
        open_store(StoreSettings(url=f"sqlite:///{tmp_path}/occ.db")), {site.id: site.tz}
    )
    start, end = local_day_bounds(site, FIRST)[0], local_day_bounds(site, LAST)[1]
    backfill(site, Scenario(seed=3), store, start, end, collect=False)
    days = [FIRST + timedelta(days=i) for i in range(3)]
    refresh_site(store, site, SummaryParams(), days=days, now=NOW)

    calls = []

    def period() -> PeriodData:
        return PeriodData(store, site, start, end, SummaryParams(), now=NOW)

    def table(data: PeriodData) -> pd.DataFrame:
        def compute() -> pd.DataFrame:
            calls.append(1)
            return utilisation_from_cells(
                cells=data.day_cells(), site=site, by="zone", bucket="day"
            )

        return data.memo(("test", "zone"), compute)

    first = table(period())
    first.loc[0, "occupied_s"] = -1.0  # the caller's copy: the kept table is not touched
    again = table(period())
    assert len(calls) == 1 and again.loc[0, "occupied_s"] != -1.0

    # a late occupied hour on the first day: summarised again, a new generation
    space = next(s for s in site.spaces if s.sensor is not None)
    at = local_day_bounds(site, FIRST)[0] + timedelta(hours=10)
    store.write([Point(PRESENCE, site.space_tags(space.id), {"occupied": 1, "hb": 300.0},
                       int(at.timestamp() * 1e9))])  # fmt: skip
    refresh_site(store, site, SummaryParams(), now=NOW)
    later = table(period())
    assert len(calls) == 2
    assert not later.equals(again)
    pd.testing.assert_frame_equal(later, table(period()))  # kept again
    assert len(calls) == 2
