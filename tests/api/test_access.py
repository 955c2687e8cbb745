"""Roles on every endpoint; an agency key never sees another agency's figures."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from storage import StoreSettings
from tests.api.conftest import Api, make_api

DATA = Path(__file__).parent / "data"
Q = {"from": "2026-11-02", "to": "2026-11-03"}
BOOKING = {
    "space": "r1", "agency": "aa", "title": "Weekly",
    "start": "2026-11-02T11:00:00+02:00", "end": "2026-11-02T12:00:00+02:00",
}  # fmt: skip

# (method, path, query or body, roles that may use it; "agency" = both agency keys)
ENDPOINTS = [
    ("GET", "/v1/sites", {}, {"admin", "facility", "finance", "agency"}),
    ("GET", "/v1/sites/pieni", {}, {"admin", "facility", "finance", "agency"}),
    ("GET", "/v1/sites/pieni/live", {}, {"admin", "facility", "agency"}),
    ("GET", "/v1/sites/pieni/sensors/health", {}, {"admin", "facility"}),
    ("GET", "/v1/sites/pieni/sensors/health/history", Q, {"admin", "facility"}),
    ("GET", "/v1/sites/pieni/utilisation", Q, {"admin", "facility", "finance", "agency"}),
    ("GET", "/v1/sites/pieni/heatmap", Q, {"admin", "facility", "finance", "agency"}),
    ("GET", "/v1/sites/pieni/peaks", Q, {"admin", "facility", "finance", "agency"}),
    ("GET", "/v1/sites/pieni/efficiency", Q, {"admin", "facility", "finance", "agency"}),
    ("GET", "/v1/sites/pieni/forecast", {}, {"admin", "facility", "finance", "agency"}),
    ("GET", "/v1/portfolio/utilisation", Q, {"admin", "facility", "finance", "agency"}),
    ("GET", "/v1/portfolio/efficiency", Q, {"admin", "facility", "finance", "agency"}),
    ("POST", "/v1/sites/pieni/rollups", Q, {"admin", "facility"}),
    ("GET", "/v1/sites/pieni/bookings", Q, {"admin", "facility", "finance", "agency"}),
    ("GET", "/v1/sites/pieni/charges/2026-11", {}, {"admin", "finance", "agency"}),
    ("POST", "/v1/sites/pieni/charges/2026-11/run", {}, {"admin", "finance"}),
    ("GET", "/v1/sites/pieni/charges/runs", {}, {"admin", "finance", "agency"}),
    ("GET", "/v1/sites/pieni/charges/2026-11/history", {}, {"admin", "finance", "agency"}),
]
ROLES = ["admin", "facility", "finance", "agency:aa", "agency:bb"]


@pytest.fixture(scope="module")
def app_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    tmp = tmp_path_factory.mktemp("access")
    yield from make_api(
        StoreSettings(url=f"sqlite:///{tmp}/store.db"), tmp, tariffs=DATA / "tariff.yaml"
    )


def call(api: Api, method: str, path: str, params: dict, role: str | None):  # type: ignore[no-untyped-def,type-arg]
    if method == "GET":
        return api.get(path, role, **params)
    return api.post(path, role, params=params)


@pytest.mark.parametrize(("method", "path", "params", "allowed"), ENDPOINTS)
def test_every_endpoint_needs_a_key(app_api: Api, method, path, params, allowed) -> None:  # type: ignore[no-untyped-def]
    resp = call(app_api, method, path, params, None)
    assert resp.status_code == 401
    assert resp.headers["content-type"] == "application/problem+json"
    bad = app_api.client.request(
        method, path, params=params, headers={"Authorization": "Bearer occ_nope_nope"}
    )
    assert bad.status_code == 401


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "params", "allowed"), ENDPOINTS)
def test_roles(app_api: Api, method, path, params, allowed, role) -> None:  # type: ignore[no-untyped-def]
    resp = call(app_api, method, path, params, role)
    kind = "agency" if role.startswith("agency:") else role
    if kind in allowed:
        assert resp.status_code in (200, 201), (role, path, resp.text)
    else:
        assert resp.status_code == 403, (role, path, resp.text)
        assert resp.headers["content-type"] == "application/problem+json"


def test_health_and_metrics_are_open(app_api: Api) -> None:
    assert app_api.client.get("/health").json()["status"] == "ok"
    assert "python_info" in app_api.client.get("/metrics").text


@pytest.mark.parametrize(
    "path",
    [
        "/v1/sites/pieni/utilisation?by=agency&agency=bb",
        "/v1/sites/pieni/efficiency?agency=bb",
        "/v1/portfolio/utilisation?by=agency&agency=bb",
        "/v1/portfolio/efficiency?agency=bb",
        "/v1/sites/pieni/heatmap?zone=zb",
        "/v1/sites/pieni/charges/2026-11?agency=bb",
    ],
)
def test_agency_asking_for_another_agency_is_refused(app_api: Api, path: str) -> None:
    resp = app_api.client.get(
        path, headers={"Authorization": f"Bearer {app_api.keys['agency:aa']}"}
    )
    assert resp.status_code == 403


def test_agency_sees_only_its_own_figures(app_api: Api) -> None:
    own = {"a1", "a2", "a3", "a4", "a5"}
    spaces = app_api.get("/v1/sites/pieni/utilisation", "agency:aa", by="space", **Q).json()["rows"]
    assert {r["space"] for r in spaces} == own
    zones = app_api.get("/v1/sites/pieni/utilisation", "agency:aa", by="zone", **Q).json()["rows"]
    # zb is agency B's; zs has only 4 spaces (< 5): both hidden
    assert {r["zone"] for r in zones} == {"za"}
    agencies = app_api.get("/v1/sites/pieni/utilisation", "agency:aa", by="agency", **Q).json()
    assert {r["agency"] for r in agencies["rows"]} == {"aa"}
    eff = app_api.get("/v1/sites/pieni/efficiency", "agency:aa", **Q).json()["rows"]
    assert {r["agency"] for r in eff} == {"aa", "_site"}
    live = app_api.get("/v1/sites/pieni/live", "agency:aa").json()
    assert {s["space"] for s in live["spaces"]} == own
    assert set(live["zones"]) == {"za"} and live["agents"] == []
    # agency B sees its own 2-desk zone, but no other group of fewer than 5
    live_b = app_api.get("/v1/sites/pieni/live", "agency:bb").json()
    assert {s["space"] for s in live_b["spaces"]} == {"b1", "b2"}
    assert set(live_b["zones"]) == {"zb"} and "f1" in live_b["floors"]


def test_agency_statement_holds_nothing_of_another_agency(app_api: Api) -> None:
    mine = app_api.get("/v1/sites/pieni/charges/2026-11", "agency:aa")
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert {line["agency"] for line in body["lines"]} == {"aa"}
    assert '"bb"' not in mine.text
    everyone = app_api.get("/v1/sites/pieni/charges/2026-11", "finance").json()
    assert {line["agency"] for line in everyone["lines"]} == {"aa", "bb"}
    total = sum(Decimal(line["amount_eur"]) for line in everyone["lines"])
    assert total == Decimal("3000.00")  # the whole cost, to the cent
    pdf = app_api.get("/v1/sites/pieni/charges/2026-11", "agency:aa", format="pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_bookings_agency_scoped_and_validated(app_api: Api) -> None:
    created = app_api.post("/v1/sites/pieni/bookings", "agency:aa", json=BOOKING)
    assert created.status_code == 201, created.text
    clash = app_api.post("/v1/sites/pieni/bookings", "facility", json={**BOOKING, "agency": "bb"})
    assert clash.status_code == 422 and "overlap" in clash.json()["detail"]
    other = app_api.post("/v1/sites/pieni/bookings", "agency:aa", json={**BOOKING, "agency": "bb"})
    assert other.status_code == 403
    assert app_api.get("/v1/sites/pieni/bookings", "agency:bb", **Q).json() == []
    seen = app_api.get("/v1/sites/pieni/bookings", "agency:aa", **Q).json()
    assert [b["space"] for b in seen] == ["r1"]
    csv = (
        "booking_id,space_id,agency_id,start,end,title\n"
        "x1,nowhere,aa,2026-11-03T09:00:00+02:00,2026-11-03T10:00:00+02:00,t\n"
    )
    bad = app_api.post(
        "/v1/sites/pieni/bookings/import",
        "facility",
        content=csv,
        headers={"content-type": "text/csv"},
    )
    assert bad.status_code == 422 and "upload.csv:2" in bad.json()["detail"]
