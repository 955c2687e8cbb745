"""GET /v1/sites/{site}/forecast over the hand-worked day of tests/api/scenario.py.

The store holds one measured day, Monday 2 November 2026; "today" is set to
Monday 9 November. Every other day of the history has no measurements and is
no evidence, so each Monday ahead is forecast at that Monday's peak (one
point: no trend), the other weekdays get no row, and each key sees the groups
and figures /peaks shows it for that day. One day leaves no error to size the
interval with (docs/metrics.md, "Forecast"): it is the whole group, [0,
spaces].
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.routes import reports as reports_routes
from tests.api.conftest import Api

NOW = datetime(2026, 11, 9, 8, 0, tzinfo=UTC)  # 10:00 in Helsinki
MONDAYS = ["2026-11-09T00:00:00", "2026-11-16T00:00:00", "2026-11-23T00:00:00",
           "2026-11-30T00:00:00"]  # fmt: skip


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reports_routes, "utcnow", lambda: NOW)


@pytest.mark.parametrize("role", ["facility", "agency:aa", "agency:bb"])
@pytest.mark.parametrize("by", ["zone", "floor", "agency"])
def test_each_key_gets_what_peaks_gives_it(api: Api, role: str, by: str) -> None:
    peaks = api.get("/v1/sites/pieni/peaks", role, by=by, daily="true",
                    **{"from": "2026-11-02", "to": "2026-11-03"})  # fmt: skip
    assert peaks.status_code == 200, peaks.text
    want = {r[by]: (r["peak"], r["spaces"]) for r in peaks.json()["rows"]}
    r = api.get("/v1/sites/pieni/forecast", role, by=by, weeks=4)
    assert r.status_code == 200, r.text
    body = r.json()
    got: dict[str, set[tuple[str, float, float, float]]] = {}
    for row in body["rows"]:
        got.setdefault(row[by], set()).add(
            (row["day"], row["forecast"], row["lower"], row["upper"])
        )
    assert got == {g: {(d, p, 0, n) for d in MONDAYS} for g, (p, n) in want.items()}
    if role == "facility":
        assert len(got) == {"zone": 3, "floor": 1, "agency": 3}[by]  # aa, bb and _shared
    elif by == "agency":
        assert set(got) <= {role.removeprefix("agency:")}
    meta = body["meta"]
    assert meta["history_days_measured"] == 1
    assert meta["from"] == "2026-05-11" and meta["to"] == "2026-11-09"
    assert meta["forecast_from"] == "2026-11-09" and meta["forecast_to"] == "2026-12-07"
    assert meta["parameters"]["level_weeks"] == 6 and "median" in meta["model"]


def test_csv_export(api: Api) -> None:
    r = api.get("/v1/sites/pieni/forecast", by="zone", format="csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.text.splitlines()[0] == "zone,day,weekday,forecast,lower,upper,history_days"


@pytest.mark.parametrize(
    "params",
    [{"weeks": 0}, {"weeks": 13}, {"weeks": "four"}, {"by": "space"}, {"history_weeks": 1},
     {"history_weeks": 53}],
)  # fmt: skip
def test_bad_params_are_422(api: Api, params: dict[str, object]) -> None:
    r = api.get("/v1/sites/pieni/forecast", **params)
    assert r.status_code == 422, r.text
