"""The service point's visitors: door counts and counter occupancy agree, the
arrival profile holds, the desks' and rooms' streams are untouched, and the
backfill stores the counts the truth says."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from core.registry import Site, SpaceType
from simulators.backfill import backfill
from simulators.layout import MS, build_layout
from simulators.people import DayPeople, simulate_day
from simulators.publisher import message_stream
from simulators.scenario import Scenario, Visitors
from simulators.truth import collect_truth
from simulators.visits import interval_counts
from storage.base import ENTRANCE_COUNTS
from storage.sqlite import SQLiteStore

MIN = 60 * MS


def test_interval_counts_by_hand() -> None:
    # three visits on a 15-minute grid starting at 0:
    #   in at 1 min (party of 2), out at 20 min; in at 14 min (1), out at 15 min (1)
    #   in at 15 min (1), out at 44:59 (1)
    visits = [(1 * MIN, 20 * MIN, 2), (14 * MIN, 15 * MIN, 1), (15 * MIN, 45 * MIN - 1, 1)]
    ends = np.array([15 * MIN, 30 * MIN, 45 * MIN], np.int64)
    ins, outs = interval_counts(visits, ends, 15 * MIN)
    # [0, 15): in 2 + 1 = 3, out none; [15, 30): in 1 (at 15 exactly), out 1 + 2 = 3
    # [30, 45): out 1
    assert ins.tolist() == [3, 1, 0]
    assert outs.tolist() == [0, 3, 1]


@pytest.fixture(scope="module")
def weeks(example_site: Site) -> list[DayPeople]:
    layout = build_layout(example_site, Scenario(seed=5))
    start = date(2026, 3, 2)  # a Monday
    return [simulate_day(layout, start + timedelta(days=i)) for i in range(28)]


def test_every_visit_is_served_between_its_in_and_out(
    example_site: Site, weeks: list[DayPeople]
) -> None:
    layout = build_layout(example_site, Scenario(seed=5))
    counters = {i for i, t in enumerate(layout.space_types) if t is SpaceType.SERVICE_POINT}
    for dp in weeks:
        at_counter = np.isin(dp.spells.space, list(counters))
        busy_ms = int((dp.spells.end[at_counter] - dp.spells.start[at_counter]).sum())
        served_ends = sorted(dp.spells.end[at_counter].tolist())
        assert len(dp.visits) == dp.visitors
        # out at the door when the service ends: the outs are the counters' spell ends
        # (spells of one counter may merge when service runs back to back)
        assert set(served_ends) <= {out for _, out, _ in dp.visits}
        # the counters are busy no longer than the visits inside the building
        assert busy_ms <= sum(out - inn for inn, out, _ in dp.visits)
        for inn, out, people in dp.visits:
            assert inn < out and people in (1, 2)


def test_arrivals_follow_the_weekday_and_hourly_profile(
    example_site: Site, weeks: list[DayPeople]
) -> None:
    by_weekday: dict[int, list[int]] = {}
    for dp in weeks:
        by_weekday.setdefault(dp.day.weekday(), []).append(dp.visitors)
    # 6 counters x 22 a day x the weekday factor (Monday 1.25, Friday 0.75; a
    # holiday-free March): Monday's mean ~165, Friday's ~99
    assert np.mean(by_weekday[0]) == pytest.approx(6 * 22 * 1.25, rel=0.1)
    assert np.mean(by_weekday[4]) == pytest.approx(6 * 22 * 0.75, rel=0.1)
    assert by_weekday[5] == [0] * 4 and by_weekday[6] == [0] * 4
    tz = example_site.tz
    hours = [datetime.fromtimestamp(inn / MS, tz).hour for dp in weeks for inn, _, _ in dp.visits]
    share = {h: hours.count(h) / len(hours) for h in range(9, 16)}
    # weights 0.9 1.3 1.4 0.9 1.1 1.0 0.7 (sum 7.3): 11-12 gets 19 %, 15-16 gets 10 %
    assert share[11] == pytest.approx(1.4 / 7.3, abs=0.02)
    assert share[15] == pytest.approx(0.7 / 7.3, abs=0.02)
    assert set(hours) <= set(range(9, 16))


def test_visitors_do_not_shift_the_desks_and_rooms(example_site: Site) -> None:
    day = date(2026, 3, 3)
    busy = simulate_day(build_layout(example_site, Scenario(seed=5)), day)
    none = simulate_day(
        build_layout(example_site, Scenario(seed=5, visitors=Visitors(per_counter_day=0))), day
    )
    layout = build_layout(example_site, Scenario(seed=5))
    keep = {
        i
        for i, t in enumerate(layout.space_types)
        if t not in (SpaceType.SERVICE_POINT, SpaceType.LOUNGE)
    }

    def rows(dp: DayPeople) -> list[tuple[int, int, int, int]]:
        s = dp.spells
        return [
            (int(a), int(b), int(c), int(d))
            for a, b, c, d in zip(s.space, s.start, s.end, s.count, strict=True)
            if int(a) in keep
        ]

    assert rows(busy) == rows(none) and len(rows(busy)) > 300
    assert busy.bookings == none.bookings


def test_counts_messages_add_up_to_the_truth(example_site: Site) -> None:
    sc = Scenario(seed=5)
    start, end = datetime(2026, 3, 1, 22, tzinfo=UTC), datetime(2026, 3, 4, 22, tzinfo=UTC)
    msgs = [m for m in message_stream(example_site, sc, start, end) if m.kind == "counts"]
    # a report every 15 min, three whole days: 3 x 96
    assert len(msgs) == 3 * 96
    docs = [json.loads(m.payload) for m in msgs]
    assert [d["seq"] for d in docs] == sorted({d["seq"] for d in docs})
    truth = collect_truth(build_layout(example_site, sc), start, end)
    per_day: dict[str, int] = {}
    for d in docs:
        t = datetime.fromisoformat(d["event_time"].replace("Z", "+00:00"))
        # an interval ending at local midnight belongs to the day before
        key = (t - timedelta(seconds=1)).astimezone(example_site.tz).date().isoformat()
        per_day[key] = per_day.get(key, 0) + d["in_count"]
    visits = truth.visits_per_day()
    # (the report ending at the start, local midnight, covers the day before: zero)
    assert {k: v for k, v in per_day.items() if v} == {k: v for k, v in visits.items() if v}
    assert sum(per_day.values()) == sum(visits.values()) > 300
    # everyone who came in went out the same day
    assert sum(d["in_count"] for d in docs) == sum(d["out_count"] for d in docs)
    busy = truth.counter_busy_seconds()
    assert set(busy["2026-03-03"]) == {f"f1-palvelu-0{i}" for i in range(1, 7)}
    # a busy Tuesday: each of the six counters serves for hours
    assert all(3600 < s < 8 * 3600 for s in busy["2026-03-03"].values())


def test_backfill_stores_the_counts(example_site: Site, tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "sim.db")
    start, end = datetime(2026, 3, 2, 22, tzinfo=UTC), datetime(2026, 3, 3, 22, tzinfo=UTC)
    result = backfill(example_site, Scenario(seed=5).without_faults(), store, start, end)
    assert result.truth is not None and result.counts == 96
    frame = store.read(ENTRANCE_COUNTS, start=start, end=end)
    assert len(frame) == 96
    assert set(frame["entrance"]) == {"f1-palvelu-ovi"}
    assert set(frame["zone"]) == {"f1-asiakas"}
    assert int(frame["in_count"].sum()) == result.truth.visits_per_day()["2026-03-03"]
    assert int(frame["out_count"].sum()) == int(frame["in_count"].sum())
    assert set(frame["reset"].astype(int)) == {0}
    store.close()
