"""Bad entrance counts (issue 19, item 5) become flags on the figures, never a
crash or a silent wrong number. Points go through a real SQLite store; the
bad ones are written as raw points (the ingest would dead-letter most of
them, but a store can still hold them: an older ingest, a manual import)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from core.calendar import local_day_bounds
from core.timeutil import to_ns
from metrics import service as sm
from metrics.service_quality import checked_counts, coverage
from storage import ENTRANCE_COUNTS, Point, Store, StoreSettings, open_store
from storage.points import counts_point
from tests.metrics import service_day as day


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(StoreSettings(url=f"sqlite:///{tmp_path}/store.db"))


def _raw(entrance: str, start_hour: float, fields: dict[str, object], hours: float = 1) -> Point:
    return Point(
        ENTRANCE_COUNTS,
        # the tags counts_point gives (an entrance's registry zone): the same point identity
        {
            "site": "palvelu",
            "entrance": entrance,
            "zone": "za" if entrance == "takaovi" else "asiakas",
        },
        {
            "interval_s": hours * 3600.0,
            "seq": 0,
            "sensor": "c-ovi",
            "agent": "ag",
            "hb": hours * 3600.0,
            **fields,
        },  # type: ignore[dict-item]
        to_ns(day.local(start_hour + hours)),
    )


def _run(store: Store):  # type: ignore[no-untyped-def]
    site = day.site()
    start, end = local_day_bounds(site, date(2026, 11, 2))
    raw = store.read(ENTRANCE_COUNTS, start=start, end=end, where={"site": site.id})
    rows, flags = checked_counts(counts=raw, site=site, start=start, end=end)
    cov = coverage(rows=rows, site=site, start=start, end=end)
    daily = sm.daily_visits(rows=rows, flags=flags, coverage=cov, site=site, by="entrance")
    return rows, flags, daily.set_index("entrance")


def _flags(flags: pd.DataFrame) -> set[tuple[str, str, float]]:
    return {(r.entrance, r.flag, r.value) for r in flags.itertuples()}


def _hourly(site, entrance: str, pairs: list[tuple[int, int]], first: int = 9) -> list[Point]:  # type: ignore[no-untyped-def]
    return [
        counts_point(site, day.count_msg(entrance, first + k, i, o, seq=k,
                                         sensor="c-ovi" if entrance == "ovi" else "c-taka"))
        for k, (i, o) in enumerate(pairs)
    ]  # fmt: skip


def test_absurd_and_negative_counts_are_left_out_and_flagged(store: Store) -> None:
    site = day.site()
    store.write(_hourly(site, "ovi", [(5, 5)] * 7) + _hourly(site, "takaovi", [(1, 1)] * 7))
    # 10,000 people a minute (the example) and a negative count, over 09-10:
    # the counters' own rows of that hour, rewritten (same identity)
    store.write([_raw("ovi", 9, {"in_count": 600_000, "out_count": 0}),
                 _raw("takaovi", 9, {"in_count": -3, "out_count": 0})])  # fmt: skip
    _rows, flags, daily = _run(store)
    assert _flags(flags) == {
        ("ovi", "absurd_count", 1.0), ("takaovi", "absurd_count", 1.0),
        # the refused interval leaves its hour uncovered: visits are undercounted
        ("ovi", "gap", 3600.0), ("takaovi", "gap", 3600.0),
    }  # fmt: skip
    assert daily.loc["ovi", "visits"] == 30  # 6 good hours of 5, not 600,030
    assert daily.loc["ovi", "coverage"] == pytest.approx(6 / 7)
    assert daily.loc["ovi", "flags"] == "absurd_count;gap"


def test_out_exceeding_in_and_reset_are_flagged(store: Store) -> None:
    site = day.site()
    store.write(_hourly(site, "ovi", [(5, 6)] * 7) + _hourly(site, "takaovi", [(1, 1)] * 7))
    store.write([_raw("takaovi", 12, {"in_count": 1, "out_count": 1, "reset": 1})])
    rows, flags, daily = _run(store)
    assert _flags(flags) == {("ovi", "out_exceeds_in", 7.0), ("takaovi", "counter_reset", 1.0)}
    assert daily.loc["ovi", "flags"] == "out_exceeds_in"
    assert daily.loc["takaovi", "visits"] == 7  # a reset row's interval counts are still counts
    _, drift = sm.in_building(rows=rows, site=site, start=rows["start"].min().floor("D"),
                              end=rows["end"].max() + pd.Timedelta(hours=1))  # fmt: skip
    assert drift.set_index("zone").loc["asiakas", "unmatched_out"] == 7


def test_silent_counter_and_unknown_entrance(store: Store) -> None:
    site = day.site()
    store.write(_hourly(site, "ovi", [(2, 2)] * 3))  # 09-12 only; takaovi silent all day
    store.write([_raw("sivuovi", 10, {"in_count": 4, "out_count": 4})])
    rows, flags, daily = _run(store)
    assert _flags(flags) == {("ovi", "gap", 4 * 3600.0), ("takaovi", "gap", 7 * 3600.0),
                             ("sivuovi", "unknown_entrance", 1.0)}  # fmt: skip
    # a silent day is 0 visits *with* coverage 0 and a flag, never a bare 0
    assert (daily.loc["takaovi", "visits"], daily.loc["takaovi", "coverage"]) == (0, 0.0)
    assert daily.loc["takaovi", "flags"] == "gap"
    assert "sivuovi" not in rows["entrance"].tolist()
    fit = sm.class_fit(daily=daily.reset_index(), classes=site.service.classes, by="entrance")
    assert fit["entrance"].tolist() == ["ovi"]  # a day without counts is no demand measure
    assert fit["flagged_days"].tolist() == [1]


def test_missing_fields_do_not_crash(store: Store) -> None:
    site = day.site()
    store.write([_raw("ovi", 9, {"in_count": 3}), _raw("ovi", 10, {"in_count": 2, "out_count": 1})])
    _rows, flags, daily = _run(store)
    assert ("ovi", "absurd_count", 1.0) in _flags(flags)  # no out count: not a number to use
    assert daily.loc["ovi", "visits"] == 2
    assert site.has_entrance("ovi")


@pytest.mark.parametrize("day_text", ["2026-11-07", "2026-11-02"])  # a Saturday, a Monday
def test_no_counts_at_all(store: Store, day_text: str) -> None:
    """No rows (found by the fuzzing of /service/now): every figure is empty or
    flagged, none crashes."""
    site = day.site()
    start, end = day.local(0, day_text), day.local(24, day_text)
    raw = store.read(ENTRANCE_COUNTS, start=start, end=end, where={"site": site.id})
    rows, flags = checked_counts(counts=raw, site=site, start=start, end=end)
    cov = coverage(rows=rows, site=site, start=start, end=end)
    for by in ("zone", "entrance"):
        daily = sm.daily_visits(rows=rows, flags=flags, coverage=cov, site=site, by=by)
        hourly = sm.hourly_visits(rows=rows, site=site, by=by)
        assert hourly.empty and sm.peak_hours(hourly=hourly, daily=daily, by=by).empty
        assert sm.class_fit(daily=daily, classes=site.service.classes, by=by).empty
        assert (daily["visits"] == 0).all() and (
            daily["flags"] == ("gap" if daily["open"].any() else "")
        ).all()
    series, drift = sm.in_building(rows=rows, site=site, start=start, end=end)
    assert series.empty and drift["drift"].isna().all()
    assert len(flags) == (2 if day_text == "2026-11-02" else 0)  # a gap per entrance when open
