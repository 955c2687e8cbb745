"""Reports over HTTP equal the hand-worked day (tests/api/scenario.py), on
SQLite and on the real InfluxDB alike."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from tests.api.conftest import Api

DAY = {"from": "2026-11-02", "to": "2026-11-03"}
H = 3600.0


def rows(resp) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    assert resp.status_code == 200, resp.text
    return resp.json()["rows"]  # type: ignore[no-any-return]


def test_space_utilisation_matches_the_hand_worked_day(api: Api) -> None:
    by_space = {r["space"]: r for r in rows(api.get("/v1/sites/pieni/utilisation", **DAY))}
    assert by_space["a1"]["occupied_s"] == 2 * H
    assert by_space["a1"]["utilisation"] == pytest.approx(0.25)
    assert by_space["a2"]["utilisation"] == pytest.approx(1.0)
    assert by_space["b1"]["utilisation"] == pytest.approx(2.5 / 8)
    assert by_space["s1"]["utilisation"] == pytest.approx(1 / 8)
    assert by_space["r1"]["utilisation"] == pytest.approx(0.25)
    assert by_space["r1"]["intensity"] == pytest.approx(0.5)
    assert by_space["a5"]["unknown_s"] == 1.5 * H
    assert by_space["a5"]["coverage"] == pytest.approx(6.5 / 8)
    assert by_space["a3"]["utilisation"] == 0 and by_space["a3"]["coverage"] == 1
    assert by_space["a1"]["frequency"] == 1 and by_space["a3"]["frequency"] == 0


def test_group_utilisation_is_sum_over_sum(api: Api) -> None:
    by_zone = {r["zone"]: r for r in rows(api.get("/v1/sites/pieni/utilisation", by="zone", **DAY))}
    assert by_zone["za"]["occupied_s"] == 10 * H
    assert by_zone["za"]["observed_s"] == 38.5 * H
    assert by_zone["za"]["utilisation"] == pytest.approx(10 / 38.5)


def test_peak_is_simultaneous_not_sum_of_peaks(api: Api) -> None:
    summary = rows(api.get("/v1/sites/pieni/peaks", **DAY))
    assert summary[0]["max_peak"] == 3
    desks = rows(api.get("/v1/sites/pieni/peaks", space_type="desk", **DAY))
    assert desks[0]["max_peak"] == 3


def test_heatmap_hours(api: Api) -> None:
    cells = {(r["weekday"], r["hour"]): r for r in rows(api.get("/v1/sites/pieni/heatmap", **DAY))}
    assert set(cells) == {(0, h) for h in range(8, 16)}
    # 10:00-11:00: a1, a2, b1 occupied among 11 spaces, all observed
    assert cells[(0, 10)]["occupied_s"] == 3 * H
    assert cells[(0, 10)]["utilisation"] == pytest.approx(3 / 11)
    # 15:00-16:00: a2 only; a5 unknown -> observed 10 h
    assert cells[(0, 15)]["utilisation"] == pytest.approx(1 / 10)


def test_exports_carry_the_same_figures(sqlite_api: Api) -> None:
    params = {**DAY, "by": "zone"}
    csv = sqlite_api.get("/v1/sites/pieni/utilisation", format="csv", **params)
    assert csv.headers["content-type"].startswith("text/csv")
    frame = pd.read_csv(io.StringIO(csv.text)).set_index("zone")
    assert frame.loc["za", "utilisation"] == pytest.approx(10 / 38.5)
    xlsx = sqlite_api.get("/v1/sites/pieni/utilisation", format="xlsx", **params)
    assert (
        pd.read_excel(io.BytesIO(xlsx.content)).set_index("zone").loc["za", "occupied_s"] == 10 * H
    )
    parquet = sqlite_api.get("/v1/sites/pieni/utilisation", format="parquet", **params)
    assert (
        pd.read_parquet(io.BytesIO(parquet.content)).set_index("zone").loc["za", "observed_s"]
        == 38.5 * H
    )


def test_efficiency_report(sqlite_api: Api) -> None:
    report = {r["agency"]: r for r in rows(sqlite_api.get("/v1/sites/pieni/efficiency", **DAY))}
    # Agency A: 5 desks, 8 htv; its daily peak of desks in use is 2 (a1, a2)
    assert report["aa"]["desks"] == 5 and report["aa"]["peak_desks"] == 2
    assert report["aa"]["use_rate"] == pytest.approx(2 / 8)
    assert report["aa"]["desk_sharing_ratio"] == pytest.approx(8 / 5)
    # the agencies' attributed areas add up to the site's 200 m2
    assert report["aa"]["area_m2"] + report["bb"]["area_m2"] == pytest.approx(200)
    assert report["_site"]["m2_per_htv"] == pytest.approx(200 / 12)


def test_rollups_are_idempotent_and_exact(sqlite_api: Api) -> None:
    first = sqlite_api.post("/v1/sites/pieni/rollups", params=DAY)
    assert first.status_code == 200, first.text
    count = sqlite_api.store.count("utilisation")
    assert sqlite_api.post("/v1/sites/pieni/rollups", params=DAY).status_code == 200
    assert sqlite_api.store.count("utilisation") == count
    from datetime import UTC, datetime

    frame = sqlite_api.store.read(
        "utilisation",
        start=datetime(2026, 11, 2, tzinfo=UTC),
        end=datetime(2026, 11, 3, tzinfo=UTC),
    )
    per_space = frame.groupby("space")[["occupied_s", "observed_s"]].sum()
    assert per_space.loc["a1", "occupied_s"] == 2 * H
    assert per_space.loc["a5", "observed_s"] == 6.5 * H
    # 11 spaces x 32 quarter hours of opening time
    assert count == 11 * 32


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"by": "colour"}, "by"),
        ({"from": "2026-13-01"}, "from"),
        ({"bucket": "fortnight"}, "bucket"),
        ({"format": "docx"}, "format"),
        ({"month": "November"}, "month"),
        ({"from": "2026-11-03", "to": "2026-11-02"}, "to"),
    ],
)
def test_a_bad_parameter_names_itself_as_problem_json(
    sqlite_api: Api, params: dict, name: str
) -> None:  # type: ignore[type-arg]
    resp = sqlite_api.get("/v1/sites/pieni/utilisation", **params)
    assert resp.status_code == 422
    assert resp.headers["content-type"] == "application/problem+json"
    assert name in resp.json()["detail"]


def test_unknown_site_is_404_problem(sqlite_api: Api) -> None:
    resp = sqlite_api.get("/v1/sites/nowhere/utilisation")
    assert resp.status_code == 404 and resp.json()["title"] == "Not found"
