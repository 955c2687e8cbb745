"""Errors are problem+json, always (issue 14), and extreme dates are a bad
request, not a server error (issue 20)."""

from __future__ import annotations

import logging

import pytest

from api import reports
from charging.bookings import CSV_COLUMNS
from tests.api.conftest import Api

PROBLEM = "application/problem+json"


@pytest.mark.parametrize(
    "params",
    [
        {"month": "0001-01"},
        {"month": "9999-12"},
        {"month": "0000-01"},
        {"month": "２０２６-１１"},  # full-width digits: int() would take them
        {"month": "2026-1"},
        {"month": "+2026-11"},
        {"month": "2026-13"},
        {"from": "0001-01-01", "to": "0001-01-02"},
        {"from": "9999-12-30", "to": "9999-12-31"},
        {"from": "２０２６-１１-０１"},
    ],
)
@pytest.mark.parametrize("route", ["utilisation", "heatmap", "peaks", "efficiency"])
def test_extreme_or_odd_dates_answer_422(sqlite_api: Api, route: str, params: dict) -> None:
    resp = sqlite_api.get(f"/v1/sites/pieni/{route}", **params)
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("month", ["0001-01", "9999-12", "２０２６-１１"])
def test_extreme_charge_months_answer_422(sqlite_api: Api, month: str) -> None:
    resp = sqlite_api.get(f"/v1/sites/pieni/charges/{month}", role="finance")
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"] == PROBLEM


def test_an_ordinary_month_still_works(sqlite_api: Api) -> None:
    assert sqlite_api.get("/v1/sites/pieni/utilisation", month="2026-11").status_code == 200


def test_an_unexpected_error_is_problem_json_with_an_id_in_the_log(
    sqlite_api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_a: object, **_k: object) -> None:
        raise RuntimeError("a bug")

    # a defect stands in for any bug a route may have
    monkeypatch.setattr(reports, "period_data", broken)
    with caplog.at_level(logging.ERROR, logger="api.problems"):
        resp = sqlite_api.get("/v1/sites/pieni/utilisation", month="2026-11")
    assert resp.status_code == 500
    assert resp.headers["content-type"] == PROBLEM
    body = resp.json()
    assert body["status"] == 500 and len(body["id"]) == 32 and body["id"] in body["detail"]
    assert "a bug" not in resp.text  # internals stay in the log
    logged = [r for r in caplog.records if body["id"] in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is not None


def test_a_bad_import_answers_a_short_summarised_detail(sqlite_api: Api) -> None:
    rows = "\n".join(f"b{i},nosuch,not-a-time,never,x" for i in range(20_000))
    body = ",".join(CSV_COLUMNS) + "\n" + rows + "\n"
    resp = sqlite_api.post(
        "/v1/sites/pieni/bookings/import", content=body, headers={"Content-Type": "text/csv"}
    )
    assert resp.status_code == 422
    assert resp.headers["content-type"] == PROBLEM
    assert len(resp.content) < 2_000, len(resp.content)
    detail = resp.json()["detail"]
    assert "upload.csv:2:" in detail and "more problem(s)" in detail
    # the whole text, once more, for the same key only
    report = resp.json()["report"]
    whole = sqlite_api.get(report)
    assert whole.status_code == 200 and whole.headers["content-type"].startswith("text/plain")
    assert whole.text.count("upload.csv:") >= 20_000 and "upload.csv:20001:" in whole.text
    assert sqlite_api.get(report, role="finance").status_code == 404
    assert sqlite_api.get(report, role=None).status_code == 401


def test_many_invalid_parameters_are_capped() -> None:
    from fastapi.exceptions import RequestValidationError

    from api.problems import MAX_ERRORS, validation_errors

    exc = RequestValidationError(
        [{"loc": ("body", f"p{i}"), "msg": "m" * 5000, "type": "x"} for i in range(500)]
    )
    _detail, errors, total = validation_errors(exc)
    assert total == 500 and len(errors) == MAX_ERRORS
    assert all(len(e["msg"]) <= 200 for e in errors)


def test_cap_detail_keeps_short_details_and_counts_cut_problems() -> None:
    from api.problems import MAX_DETAIL, cap_detail

    assert cap_detail("short") == "short"
    capped = cap_detail("; ".join(f"row {i}: bad" for i in range(1000)))
    assert len(capped) <= MAX_DETAIL and capped.endswith("more problem(s)")
    assert len(cap_detail("x" * 100_000)) <= MAX_DETAIL


@pytest.mark.parametrize("params", [{"from": "0001-01-01"}, {"to": "9999-12-31"}])
def test_extreme_booking_dates_answer_422(sqlite_api: Api, params: dict) -> None:
    resp = sqlite_api.get("/v1/sites/pieni/bookings", **params)
    assert resp.status_code == 422, resp.text
    resp = sqlite_api.post(
        "/v1/sites/pieni/bookings/import",
        params={"from": "2026-11-01", "to": "2026-12-01", **params},
        content=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
        headers={"Content-Type": "text/calendar"},
    )
    assert resp.status_code == 422, resp.text
