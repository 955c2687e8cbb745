"""The hand-worked service day (tests/metrics/service_day.py, docs/metrics.md)
through a real store (SQLite and InfluxDB): the counts are written as the
ingest writes them (``counts_point``), read back, checked and turned into
the service-point figures. Expected values are the hand-worked ones."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.calendar import local_day_bounds
from core.registry import OpeningHours, ServiceClasses
from metrics import service as sm
from metrics.cells import hour_cells
from metrics.service_quality import checked_counts, coverage
from storage import ENTRANCE_COUNTS, Store, StoreSettings, open_store
from summaries.raw import read_opening_intervals
from tests.metrics import service_day as day


@pytest.fixture(params=["sqlite", "influx"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        settings = StoreSettings(url=f"sqlite:///{tmp_path}/store.db")
    else:
        influx = request.getfixturevalue("influx")
        settings = StoreSettings(url=influx.url, database=f"svc_{uuid.uuid4().hex[:8]}")
    s = open_store(settings)
    yield s
    s.close()


def _day_bounds():  # type: ignore[no-untyped-def]
    from datetime import date

    return local_day_bounds(day.site(), date(2026, 11, 2))


def _checked(store: Store):  # type: ignore[no-untyped-def]
    site = day.site()
    store.write(day.counts_points(site))
    start, end = _day_bounds()
    raw = store.read(ENTRANCE_COUNTS, start=start, end=end, where={"site": site.id})
    rows, flags = checked_counts(counts=raw, site=site, start=start, end=end)
    return site, start, end, rows, flags


def test_worked_day_visits_peak_and_building_count(store: Store) -> None:
    site, start, end, rows, flags = _checked(store)
    assert flags.empty, flags
    cov = coverage(rows=rows, site=site, start=start, end=end)
    assert cov["covered_s"].tolist() == [7 * 3600.0, 7 * 3600.0]  # both doors cover 09-16

    daily = sm.daily_visits(rows=rows, flags=flags, coverage=cov, site=site, by="entrance")
    ovi = daily[daily["entrance"] == "ovi"].iloc[0]
    assert (ovi["visits"], ovi["exits"], ovi["coverage"], ovi["flags"]) == (47, 47, 1.0, "")

    hourly = sm.hourly_visits(rows=rows, site=site, by="entrance")
    ovi_h = hourly[hourly["entrance"] == "ovi"]
    assert [b.hour for b in ovi_h["bucket"]] == [h for h, _, _ in day.OVI]
    assert ovi_h["visits"].tolist() == [i for _, i, _ in day.OVI]

    peaks = sm.peak_hours(hourly=hourly, daily=daily, by="entrance").set_index("entrance")
    assert peaks.loc["ovi", "peak_hour"] == pd.Timestamp(f"{day.DAY} 11:00")
    assert peaks.loc["ovi", "peak_visits"] == day.PEAK_VISITS
    assert peaks.loc["ovi", "peak_hour_of_day"] == day.PEAK_HOUR
    assert peaks.loc["ovi", "peak_hour_mean"] == 12.0

    series, drift = sm.in_building(rows=rows, site=site, start=start, end=end)
    asiakas = series[series["zone"] == "asiakas"]
    assert asiakas["in_building"].tolist() == day.IN_BUILDING
    assert [t.tz_convert(day.TZ).hour for t in asiakas["time"]] == [h + 1 for h, _, _ in day.OVI]
    d = drift.set_index("zone").loc["asiakas"]
    assert (d["drift"], d["unmatched_out"]) == (day.DRIFT, day.UNMATCHED_OUT)
    assert d["closing"] == pd.Timestamp(day.local(16))
    # the back door: 3 in and 3 out in one interval ending at closing
    assert drift.set_index("zone").loc["za", "drift"] == 0


def test_worked_day_share_and_class_fit(store: Store) -> None:
    site, start, end, rows, flags = _checked(store)
    hours = OpeningHours(mon=["10:00-14:00"])
    share = sm.opening_share(rows=rows, site=site, hours=hours, start=start, end=end, by="zone")
    s = share.set_index("zone").loc["asiakas"]
    assert (s["visits"], s["inside"]) == (47, day.INSIDE_10_14)
    assert s["share"] == pytest.approx(35 / 47, rel=1e-12)

    cov = coverage(rows=rows, site=site, start=start, end=end)
    daily = sm.daily_visits(rows=rows, flags=flags, coverage=cov, site=site, by="zone")
    fit = sm.class_fit(daily=daily, classes=site.service.classes, by="zone").set_index("zone")
    assert fit.loc["asiakas", "busy_day"] == 47.0
    assert fit.loc["asiakas", "size_class"] == "M"  # the site's thresholds: M from 40
    assert fit.loc["za", "size_class"] == "XS"  # 3 visits
    defaults = sm.class_fit(daily=daily, classes=ServiceClasses(), by="zone")
    assert defaults.set_index("zone").loc["asiakas", "size_class"] == "S"  # defaults: S from 20


def test_worked_day_counter_utilisation(store: Store) -> None:
    site = day.site()
    store.write(day.presence_points(site))
    start, end = _day_bounds()
    iv = read_opening_intervals(
        store=store, site=site, start=start, end=end, silence_factor=2.5, merge_gap_s=0
    )
    table = sm.counter_utilisation(cells=hour_cells(intervals=iv, site=site), site=site)
    row = table.set_index("zone").loc["asiakas"]
    assert row["counters"] == 2
    assert (row["observed_s"], row["occupied_s"]) == (14 * 3600.0, 3 * 3600.0)
    assert row["utilisation"] == pytest.approx(day.COUNTER_UTILISATION, rel=1e-12)
    assert "za" not in table["zone"].tolist()  # a desk is no counter


def test_size_class_thresholds() -> None:
    c = ServiceClasses(l=100, m=40, s=10)
    assert [sm.size_class(v, c) for v in (100, 99.9, 40, 39, 10, 9.99, 0)] == [
        "L", "M", "M", "S", "S", "XS", "XS"]  # fmt: skip
    assert sm.size_class(math.nan, c) is None
    with pytest.raises(ValueError, match="fall from L to S"):
        ServiceClasses(l=10, m=40, s=5)


def test_clamp_equals_the_step_by_step_rule() -> None:
    """S - min(0, min S) against max(0, n + x) step by step, on random walks."""
    site = day.site()
    rng = np.random.default_rng(7)
    n = 500
    ins, outs = rng.integers(0, 6, n), rng.integers(0, 7, n)
    t = pd.Timestamp(day.local(9)) + pd.to_timedelta(np.arange(n) * 50, unit="s")
    rows = pd.DataFrame(
        {"entrance": "ovi", "zone": "asiakas", "start": t, "end": t + pd.Timedelta(seconds=50),
         "day": pd.Timestamp(day.DAY), "in_count": ins, "out_count": outs, "reset": False}
    )  # fmt: skip
    start, end = _day_bounds()
    series, _ = sm.in_building(rows=rows, site=site, start=start, end=end)
    want, c = [], 0
    closing = pd.Timestamp(day.local(16))
    for i, o, e in zip(ins, outs, rows["end"], strict=True):
        c = max(0, c + int(i) - int(o))
        want.append(c)
        if e == closing:
            c = 0
    assert series["in_building"].tolist() == want
