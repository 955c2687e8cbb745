"""Schemathesis against the real app (a SQLite store with the scenario day, a
SQLite records DB) with every role's key (issue 14): no request, however odd,
may get a 5xx, and every answer must match the published OpenAPI description.

Each generated case (valid and invalid inputs) is sent once per role, so every
role meets every case. The event stream is left out: it never ends by itself
(tests/api/test_keys.py covers it over real HTTP).
"""

from __future__ import annotations

from pathlib import Path

import hypothesis.strategies as st
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from storage import StoreSettings
from tests.api.conftest import ROLES, make_api

EXAMPLES_PER_ROUTE = 50  # x 5 roles = 250 requests per route (+ edge dates); ~30 s in all
TARIFF = Path(__file__).parent / "data" / "tariff.yaml"
SKIP = ("/live/stream",)
# Values at the calendar's edges, which random generation seldom meets: each
# date or month parameter gets each of them once, besides the generated cases.
EDGE_MONTHS = ["0001-01", "9999-12", "0000-01", "２０２６-１１", "2026-11"]
# a booking that exists, stored before the fuzzing (tests/api/data/small.yaml)
BOOKING_ID = "aa:fuzz"
EDGE_DAYS = ["0001-01-01", "9999-12-31", "２０２６-１１-０１", "2026-11-02"]


def _edge_cases(operation: schemathesis.APIOperation, site_id: str) -> list[schemathesis.Case]:
    path = {"site_id": site_id} if "{site_id}" in operation.path else {}
    if "{number}" in operation.path:  # a statement number, for .../statements/{number}
        path["number"] = "2026-000001"
    if "{agency}" in operation.path:  # an agency of the site, for its report
        path["agency"] = "aa"
    cases = []
    names = {p.name for p in operation.query}
    if "month" in names:
        cases += [operation.Case(path_parameters=path, query={"month": m}) for m in EDGE_MONTHS]
    for name in sorted(names & {"from", "to"}):
        cases += [operation.Case(path_parameters=path, query={name: d}) for d in EDGE_DAYS]
    if {"from", "to"} <= names:  # a short period at each edge: past the span check
        cases += [
            operation.Case(path_parameters=path, query={"from": a, "to": b})
            for a, b in [("0001-01-01", "0001-01-02"), ("9999-12-30", "9999-12-31")]
        ]
    if "{month}" in operation.path:
        cases += [operation.Case(path_parameters={**path, "month": m}) for m in EDGE_MONTHS]
    if "{floor_id}" in operation.path:  # a real floor: past the floor lookup
        cases += [operation.Case(path_parameters={**path, "floor_id": "f1"})]
    if "date" in names:
        cases += [operation.Case(path_parameters=path, query={"date": d}) for d in EDGE_DAYS]
    if "{booking_id}" in operation.path:  # a random id only ever meets a 404
        cases.append(operation.Case(path_parameters={**path, "booking_id": BOOKING_ID}))
    return cases


def _call(case: schemathesis.Case, keys: dict[str, str], statuses: set[int]) -> None:
    for role in ROLES:
        response = case.call(headers={"Authorization": f"Bearer {keys[role]}"})
        statuses.add(response.status_code)
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])


def _fuzz(
    operation: schemathesis.APIOperation, keys: dict[str, str], site_id: str, statuses: set[int]
) -> None:
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(cases)
    @settings(
        max_examples=EXAMPLES_PER_ROUTE,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        if case.path_parameters and "site_id" in case.path_parameters:
            # a random site id only ever meets the 404 of get_site
            case.path_parameters["site_id"] = site_id
        _call(case, keys, statuses)

    for edge in _edge_cases(operation, site_id):
        _call(edge, keys, statuses)
    run()


def test_no_5xx_and_no_schema_breaking_answer(tmp_path: Path) -> None:
    failures: dict[str, str] = {}
    statuses: dict[str, set[int]] = {}
    store = StoreSettings(url=f"sqlite:///{tmp_path}/store.db")
    for api in make_api(store, tmp_path, tariffs=TARIFF):
        at = {"start": "2026-11-04T09:00:00+02:00", "end": "2026-11-04T10:00:00+02:00"}
        made = api.post("/v1/sites/pieni/bookings", "agency:aa",
                        json={"space": "s1", "agency": "aa", "id": "fuzz", **at})  # fmt: skip
        assert made.json()["ids"] == [BOOKING_ID], made.text
        schema = schemathesis.openapi.from_asgi("/openapi.json", api.client.app)
        operations = [r.ok() for r in schema.get_all_operations()]
        assert len(operations) > 10
        for operation in operations:
            if operation.path.endswith(SKIP):
                continue
            try:
                _fuzz(operation, api.keys, api.site.id, statuses.setdefault(operation.label, set()))
            except Exception as exc:  # gather every route's failure, not only the first
                failures[operation.label] = str(exc)[:2000]
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
    # the cases reached the routes' logic, not only the key check or the site lookup
    site_routes = {k: v for k, v in statuses.items() if "{site_id}" in k}
    assert all(codes - {401, 404} for codes in site_routes.values()), site_routes
