"""summaries.day_closed: announced once per day, when the day is first summarised."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from core.messages import Presence
from core.registry import load_site
from storage import StoreSettings, open_store
from storage.marks import MarkingStore
from storage.points import presence_point
from summaries.summariser import Summariser, SummaryParams
from tests.api import scenario
from tests.webhooks.test_no_shows import Collected
from webhooks.events import SUMMARIES_DAY_CLOSED

SMALL = Path(__file__).parents[1] / "api" / "data" / "small.yaml"


def test_each_day_announced_once_when_first_summarised(tmp_path: Path) -> None:
    site = load_site(SMALL)
    # as the ingest writes: every write marks its local days dirty
    store = MarkingStore(
        open_store(StoreSettings(url=f"sqlite:///{tmp_path}/store.db")), {site.id: site.tz}
    )
    store.write(scenario.points(site))  # 2026-11-02 (Helsinki)
    sink = Collected()
    summariser = Summariser(store, [site], SummaryParams(), events=sink)
    summariser.cycle(now=scenario.DAY + timedelta(days=3, hours=12))  # today: 11-05
    assert [(e.type, e.site, e.data["day"]) for e in sink.events] == [
        (SUMMARIES_DAY_CLOSED, "pieni", "2026-11-02"),
        (SUMMARIES_DAY_CLOSED, "pieni", "2026-11-03"),
        (SUMMARIES_DAY_CLOSED, "pieni", "2026-11-04"),
    ]
    summariser.cycle(now=scenario.DAY + timedelta(days=3, hours=13))
    assert len(sink.events) == 3
    # a late point makes 11-02 dirty: recomputed, not announced again
    late = Presence(
        space_id="a1",
        agent_id="ag",
        sensor_id="s-a1",
        occupied=True,
        event_time=scenario.local(12.5),
        seq=999,
        kind="change",
        heartbeat_interval_s=3600,
    )
    store.write([presence_point(site, late)])
    rewritten = summariser.cycle(now=scenario.DAY + timedelta(days=3, hours=14))
    assert rewritten >= 1 and len(sink.events) == 3
    store.close()
