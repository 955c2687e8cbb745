"""GET /v1/sites/{site}/replay over the hand-worked day (tests/api/scenario.py):
the intervals agree with /utilisation of the same day and with the hand-worked
figures, an agency replays only what it sees live, and bad dates are 422."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import pytest

from tests.api.conftest import Api

DAY = "2026-11-02"
H = 3600.0
OPEN = (8 * H, 16 * H)  # 08:00-16:00 local, seconds after local midnight


def occupied_in_opening(intervals: Iterable[list], opening: list[list[float]]) -> float:  # type: ignore[type-arg]
    total = 0.0
    for start, end, state, _count in intervals:
        if state != "occupied":
            continue
        for lo, hi in opening:
            total += max(0.0, min(end, hi) - max(start, lo))
    return total


def test_replay_agrees_with_utilisation_and_the_hand_worked_day(sqlite_api: Api) -> None:
    resp = sqlite_api.get("/v1/sites/pieni/replay", date=DAY)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["opening"] == [list(OPEN)]
    assert body["duration_s"] == 24 * H
    report = sqlite_api.get("/v1/sites/pieni/utilisation", **{"from": DAY, "to": "2026-11-03"})
    by_space = {r["space"]: r for r in report.json()["rows"]}
    for space, intervals in body["spaces"].items():
        # every space's intervals cover the day without gap or overlap
        assert intervals[0][0] == 0 and intervals[-1][1] == 24 * H
        assert all(a[1] == b[0] for a, b in itertools.pairwise(intervals))
        got = occupied_in_opening(intervals, body["opening"])
        assert got == pytest.approx(by_space[space]["occupied_s"], abs=1e-3), space
    # by hand: a2 occupied 07:30-16:30, 8 h of it in opening hours; r1 3 people 13-15
    assert occupied_in_opening(body["spaces"]["a2"], body["opening"]) == 8 * H
    assert [7.5 * H, 16.5 * H, "occupied", None] in body["spaces"]["a2"]
    assert [13 * H, 15 * H, "occupied", 3] in body["spaces"]["r1"]
    # a5: silent after its 12:00 heartbeat, unknown from 14:30
    assert [14.5 * H, 24 * H, "unknown", None] in body["spaces"]["a5"]


def test_agency_replays_only_its_own_spaces(sqlite_api: Api) -> None:
    body = sqlite_api.get("/v1/sites/pieni/replay", role="agency:aa", date=DAY).json()
    live = sqlite_api.get("/v1/sites/pieni/live", role="agency:aa").json()
    assert set(body["spaces"]) == {s["space"] for s in live["spaces"]}
    assert set(body["spaces"]) == {s.id for s in sqlite_api.site.spaces if s.zone == "za"}


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"date": "2026-13-01"}, "date"),
        ({}, "date"),
        ({"date": "2100-01-01"}, "not started"),
        ({"date": "2199-12-31"}, "date must lie between"),
    ],
)
def test_bad_dates_are_422_with_a_message(sqlite_api: Api, params: dict, fragment: str) -> None:  # type: ignore[type-arg]
    resp = sqlite_api.get("/v1/sites/pieni/replay", **params)
    assert resp.status_code == 422, resp.text
    assert fragment in resp.text


def test_replay_needs_a_live_role(sqlite_api: Api) -> None:
    assert sqlite_api.get("/v1/sites/pieni/replay", role="finance", date=DAY).status_code == 403
    assert sqlite_api.get("/v1/sites/pieni/replay", role=None, date=DAY).status_code == 401


def test_plan_image_is_served_with_its_placement(sqlite_api: Api) -> None:
    # small.yaml: floor f1 (30 m x 10 m) has a 300 x 100 px PNG at 0.1 m/px, origin (0, 0)
    site = sqlite_api.get("/v1/sites/pieni").json()
    image = site["floors"][0]["image"]
    assert image["url"] == "/v1/sites/pieni/floors/f1/plan"
    assert (image["width_px"], image["height_px"]) == (300, 100)
    assert (image["x"], image["y"], image["width"], image["height"]) == (0, 0, 30, 10)
    assert "file" not in image
    resp = sqlite_api.get("/v1/sites/pieni/floors/f1/plan", role="agency:aa")
    assert resp.status_code == 200 and resp.headers["content-type"] == "image/png"
    assert resp.content.startswith(b"\x89PNG")
    missing = sqlite_api.get("/v1/sites/pieni/floors/nope/plan")
    assert missing.status_code == 404 and "no floor 'nope'" in missing.json()["detail"]
    assert sqlite_api.get("/v1/sites/pieni/floors/f1/plan", role=None).status_code == 401
