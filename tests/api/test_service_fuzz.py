"""Schemathesis against the /service routes of the real app over the
hand-worked service day (tests/metrics/service_day.py), with every role's
key: no request, however odd (dates at the calendar's edges, malformed
``hours``, unknown buckets), may get a 5xx, and every answer must match the
published OpenAPI description. The fuzzing of tests/api/test_fuzz_openapi.py
runs on a site without entrances, where these routes only answer 404."""

from __future__ import annotations

from pathlib import Path

import schemathesis

from storage import StoreSettings
from tests.api.test_fuzz_openapi import _fuzz
from tests.api.test_service import make_service_api


def test_service_routes_never_answer_5xx(tmp_path: Path) -> None:
    failures: dict[str, str] = {}
    statuses: dict[str, set[int]] = {}
    store = StoreSettings(url=f"sqlite:///{tmp_path}/store.db")
    for api in make_service_api(store, tmp_path):
        schema = schemathesis.openapi.from_asgi("/openapi.json", api.client.app)
        operations = [r.ok() for r in schema.get_all_operations()]
        operations = [o for o in operations if "/service/" in o.path]
        assert len(operations) == 4
        for operation in operations:
            try:
                _fuzz(operation, api.keys, api.site.id, statuses.setdefault(operation.label, set()))
            except Exception as exc:  # every route's failure, not only the first
                failures[operation.label] = str(exc)[:2000]
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
    # the cases reached the routes' logic: every route answered 200 to some, and
    # the routes with parameters refused some with 422 (/now has none: a finance
    # key gets its 403)
    assert all(200 in codes for codes in statuses.values()), statuses
    assert all(422 in codes for label, codes in statuses.items() if not label.endswith("/now"))
