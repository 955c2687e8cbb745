"""The /service reports over the hand-worked service day
(tests/metrics/service_day.py) once the day is summarised: every endpoint,
grouping, bucket and table answers the same from the summaries (the default)
as from ``source=raw``, the figures are still the hand-worked ones, and the
metadata says the day came from its summary. On SQLite and the real InfluxDB."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from api.config import ApiSettings
from storage import StoreSettings
from summaries.summariser import SummaryParams, refresh_site
from tests.api.conftest import Api
from tests.api.test_service import DAY, make_service_api
from tests.metrics import service_day as day

#: every report of the day (path, query)
ASKS: list[tuple[str, dict[str, Any]]] = [
    *(
        ("visits", {"bucket": bucket, "by": by})
        for bucket in ("hour", "day", "weekday")
        for by in ("entrance", "zone")
    ),
    ("occupancy", {"table": "series"}),
    ("occupancy", {"table": "drift"}),
    ("summary", {}),
    ("summary", {"hours": "10:00-14:00"}),
    ("summary", {"hours": "mon=09:30-11:15,13:00-15:00"}),
]
#: the metadata keys that say where the days came from (they differ by design)
SOURCE_KEYS = {
    "source", "days_from_summaries", "days_from_raw", "stale_days", "held_days",
    "missing_days", "counters",
}  # fmt: skip


@pytest.fixture(params=["sqlite", "influx"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    if request.param == "sqlite":
        settings = StoreSettings(url=f"sqlite:///{tmp_path}/store.db")
    else:
        influx = request.getfixturevalue("influx")
        settings = StoreSettings(url=influx.url, database=f"svcs_{uuid.uuid4().hex[:8]}")
    yield from make_service_api(settings, tmp_path)


def _params() -> SummaryParams:
    fields = ApiSettings.model_fields
    return SummaryParams(
        silence_factor=fields["silence_factor"].default, merge_gap_s=fields["merge_gap_s"].default
    )


def _ask(api: Api, path: str, query: dict[str, Any], role: str = "facility") -> dict[str, Any]:
    r = api.get(f"/v1/sites/palvelu/service/{path}", role, **query, **DAY)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_summaries_equal_raw_on_the_hand_worked_day(api: Api) -> None:
    # the day before, the day and the day after (the day beyond is read too)
    days = [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]
    assert refresh_site(api.store, api.site, _params(), days=days) == days
    for role in ("facility", "agency:bb"):
        for path, query in ASKS:
            summ = _ask(api, path, query, role)
            raw = _ask(api, path, {**query, "source": "raw"}, role)
            assert summ["rows"] == raw["rows"], (path, query, role)
            strip = {k: v for k, v in summ["meta"].items() if k not in SOURCE_KEYS}
            assert strip == {k: v for k, v in raw["meta"].items() if k not in SOURCE_KEYS}
            assert summ["meta"]["source"] == "summaries" and raw["meta"]["source"] == "raw"
            assert summ["meta"]["days_from_summaries"] == 1, summ["meta"]
            assert summ["meta"]["days_from_raw"] == [] and summ["meta"]["stale_days"] == []
    # still the hand-worked figures, now from the summary
    hours = _ask(api, "visits", {"bucket": "hour", "by": "zone"})["rows"]
    assert [(r["bucket"][11:13], r["visits"]) for r in hours if r["zone"] == "asiakas"] == [
        (f"{h:02d}", i) for h, i, _ in day.OVI
    ]
    series = _ask(api, "occupancy", {"table": "series"})["rows"]
    assert [r["in_building"] for r in series if r["zone"] == "asiakas"] == day.IN_BUILDING
    row = {x["zone"]: x for x in _ask(api, "summary", {"hours": "10:00-14:00"})["rows"]}["asiakas"]
    assert (row["visits"], row["max_drift"], row["unmatched_out"]) == (
        day.VISITS, day.DRIFT, day.UNMATCHED_OUT,
    )  # fmt: skip
    assert row["visits_inside_hours"] == day.INSIDE_10_14 and row["size_class"] == "M"


def test_unsummarised_day_is_raw(api: Api) -> None:
    body = _ask(api, "visits", {})
    assert body["meta"]["source"] == "summaries"
    assert body["meta"]["days_from_summaries"] == 0
    assert body["meta"]["days_from_raw"] == ["2026-11-02"]
    assert {r["entrance"]: r["visits"] for r in body["rows"]} == {"ovi": 47, "takaovi": 3}
