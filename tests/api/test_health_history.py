"""Sensor health over time (``/sensors/health/history``) on the hand-worked
day of tests/api/scenario.py: 11 sensors, open 08:00-16:00; a5 is heard
until its 12:00 heartbeat and counts as unknown from 14:30 (2.5 x 3,600 s)."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api

PATH = "/v1/sites/pieni/sensors/health/history"
Q = {"from": "2026-11-02", "to": "2026-11-03"}


def test_day_counts_the_partly_silent_sensor(sqlite_api: Api) -> None:
    body = sqlite_api.get(PATH, **Q).json()
    assert body["meta"]["bucket"] == "day" and body["meta"]["ok_coverage"] == 0.95
    [day] = body["rows"]
    assert day["bucket"].startswith("2026-11-02")
    # a5: observed 6.5 h of 8 h (0.8125 < 0.95): partial; the other ten all day
    assert (day["sensors"], day["reporting"], day["partial"], day["silent"]) == (11, 10, 1, 0)
    assert day["unknown_s"] == 1.5 * 3600
    assert day["coverage"] == pytest.approx((11 * 8 - 1.5) / (11 * 8))


def test_hours_show_when_the_sensor_went_silent(sqlite_api: Api) -> None:
    rows = {r["bucket"][11:13]: r for r in sqlite_api.get(PATH, bucket="hour", **Q).json()["rows"]}
    assert sorted(rows) == [f"{h:02d}" for h in range(8, 16)]  # opening hours only
    assert (rows["13"]["reporting"], rows["13"]["partial"], rows["13"]["silent"]) == (11, 0, 0)
    # 14:00-15:00: a5 heard until 14:30, half the hour
    assert (rows["14"]["reporting"], rows["14"]["partial"], rows["14"]["silent"]) == (10, 1, 0)
    assert rows["14"]["coverage"] == pytest.approx((10 + 0.5) / 11)
    assert (rows["15"]["reporting"], rows["15"]["partial"], rows["15"]["silent"]) == (10, 0, 1)


def test_exports_and_errors(sqlite_api: Api) -> None:
    csv = sqlite_api.get(PATH, format="csv", **Q)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    header, line = csv.text.splitlines()
    assert header.split(",")[:5] == ["bucket", "sensors", "reporting", "partial", "silent"]
    assert line.split(",")[1:5] == ["11", "10", "1", "0"]
    bad = sqlite_api.get(PATH, bucket="minute", **Q)
    assert bad.status_code == 422 and "bucket" in bad.text
    assert sqlite_api.get(PATH, **{"from": "2026-11-03", "to": "2026-11-02"}).status_code == 422
    # Sensors are the facility's business, as /sensors/health.
    assert sqlite_api.get(PATH, role="agency:aa", **Q).status_code == 403
    assert sqlite_api.get(PATH, role="finance", **Q).status_code == 403


def test_a_day_without_data_has_every_sensor_silent(sqlite_api: Api) -> None:
    [day] = sqlite_api.get(PATH, **{"from": "2026-11-03", "to": "2026-11-04"}).json()["rows"]
    assert (day["sensors"], day["reporting"], day["silent"], day["coverage"]) == (11, 0, 11, 0)
