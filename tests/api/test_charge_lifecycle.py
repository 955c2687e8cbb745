"""A month's life cycle through the API (issue 16): draft -> approve -> lock ->
late data -> pending difference -> correction, with the refusals on the way.

The store holds the hand-worked day of tests/api/scenario.py (Mon 2.11.2026)
and nothing else of November, so most lines have a coverage of about 1/21:
below the 80 % approval threshold, which only an override with a reason lets
through. The tariff recovers 3 000.00 EUR (tests/api/data/tariff.yaml), so
whatever the data, an issue's debits sum to 3 000.00.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from charging.reference import is_rf_reference
from core.messages import Presence
from storage import StoreSettings
from storage.points import presence_point
from tests.api.conftest import Api, make_api
from webhooks.events import CHARGES_APPROVED, Event

DATA = Path(__file__).parent / "data"
BASE = "/v1/sites/pieni/charges"
HEL = ZoneInfo("Europe/Helsinki")


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def publish(self, event: Event) -> None:
        self.events.append(event)


@pytest.fixture
def api(tmp_path: Path, records_url: str) -> Iterator[Api]:
    # the records on SQLite and on a real PostgreSQL (the records_url fixture)
    yield from make_api(
        StoreSettings(url=f"sqlite:///{tmp_path}/store.db"),
        tmp_path,
        tariffs=DATA / "tariff.yaml",
        records_url=records_url,
    )


def _late_sensor_data(api: Api) -> None:
    """b1 (agency B's desk) reports Tue 3.11 09:00-12:00 occupied, late."""
    points = []
    for seq, (h, occupied, kind) in enumerate(
        [(8, False, "heartbeat"), (9, True, "change"), (10, True, "heartbeat"),
         (11, True, "heartbeat"), (12, False, "change"), (13, False, "heartbeat"),
         (14, False, "heartbeat"), (15, False, "heartbeat"), (16, False, "heartbeat")],
        start=1000,
    ):  # fmt: skip
        msg = Presence(
            space_id="b1",
            agent_id="ag",
            sensor_id="s-b1",
            occupied=occupied,
            event_time=datetime(2026, 11, 3, h, tzinfo=HEL),
            seq=seq,
            kind=kind,  # type: ignore[arg-type]
            heartbeat_interval_s=3600,
        )
        points.append(presence_point(api.site, msg))
    api.store.write(points)


def _post(api: Api, path: str, role: str = "finance", **body: object):  # type: ignore[no-untyped-def]
    return api.post(f"{BASE}/{path}", role, json=body)


def _eur(text: str) -> Decimal:
    return Decimal(text)


def test_the_whole_life_cycle(api: Api) -> None:
    sink = Recorder()
    api.client.app.state.ctx.events = sink  # type: ignore[attr-defined]

    # a draft: no number, recomputed at will
    draft = api.get(f"{BASE}/2026-11", "agency:aa").json()
    assert draft["statement"]["state"] == "draft" and draft["statement"]["number"] is None
    first = api.post(f"{BASE}/2026-11/run", "finance")
    second = api.post(f"{BASE}/2026-11/run", "finance")
    assert (first.json()["revision"], second.json()["revision"]) == (1, 2)

    # approval: finance only, and the low coverage needs a recorded override
    assert _post(api, "2026-11/approve", "agency:aa", reason="x").status_code == 403
    assert _post(api, "2026-11/approve", "facility", reason="x").status_code == 403
    blocked = _post(api, "2026-11/approve", reason="November")
    assert blocked.status_code == 422
    assert "sensor coverage below 80 % on" in blocked.json()["detail"]
    # aa's desk line: a1..a5 and the 3 shared desks, observed on 2.11 only:
    # (8 x 8 h - 1.5 h of a5's silence) / (8 x 21 x 8 h) = 62.5 / 1344 = 4.65 %
    assert "aa desk 4.65 %" in blocked.json()["detail"]
    assert "override reason (coverage_override)" in blocked.json()["detail"]
    approved = _post(
        api, "2026-11/approve", reason="November", coverage_override="sensors installed 2.11"
    )
    assert approved.status_code == 200, approved.text
    issued = {s["agency"]: s for s in approved.json()["statements"]}
    year = datetime.now(HEL).year
    assert sorted(s["number"] for s in issued.values()) == [f"{year}-000001", f"{year}-000002"]
    for s in issued.values():
        assert is_rf_reference(s["reference"])
        assert date.fromisoformat(s["due_date"]) - date.fromisoformat(s["issue_date"]) == (
            timedelta(days=14)
        )
        assert s["approved_by"] == "finance (finance)" and s["kind"] == "debit"
    assert sum(_eur(s["amount_eur"]) for s in issued.values()) == Decimal("3000.00")
    assert [(e.type, e.agency, e.data["number"]) for e in sink.events] == [
        (CHARGES_APPROVED, a, issued[a]["number"]) for a in ("aa", "bb")
    ]
    assert sink.events[0].data["month"] == "2026-11"
    assert sink.events[0].data["amount_eur"] == issued["aa"]["amount_eur"]

    # frozen: no recompute, no second approval
    assert api.post(f"{BASE}/2026-11/run", "finance").status_code == 409
    again = _post(api, "2026-11/approve", reason="again", coverage_override="x")
    assert again.status_code == 409 and "already approved" in again.json()["detail"]
    original = issued["aa"]["number"]
    before = {
        fmt: api.get(f"{BASE}/2026-11/statements/{original}", "agency:aa", format=fmt).content
        for fmt in ("json", "csv", "pdf", "xlsx")
    }
    mine = api.get(f"{BASE}/2026-11", "agency:aa")
    assert mine.content == before["json"]
    assert mine.json()["statement"]["number"] == original

    assert _post(api, "2026-11/lock", reason="books closed").status_code == 200

    # late data: a booking (r1 on 2.11 11:00-12:00, free then: a no-show) and sensor data
    booking = {
        "space": "r1", "agency": "aa", "title": "late",
        "start": "2026-11-02T11:00:00+02:00", "end": "2026-11-02T12:00:00+02:00",
    }  # fmt: skip
    assert api.post("/v1/sites/pieni/bookings", "facility", json=booking).status_code == 201
    _late_sensor_data(api)
    still = api.get(f"{BASE}/2026-11", "agency:aa")
    assert still.content == before["json"]  # as issued; the difference is beside it
    assert still.headers["Occupancy-Month-State"] == "locked"

    history = api.get(f"{BASE}/2026-11/history", "finance").json()
    assert history["state"] == "locked"
    pending = history["pending_difference"]
    assert pending["inputs_changed"] and pending["issuable"]
    diff = pending["agencies"]
    for row in diff.values():
        assert _eur(row["difference_eur"]) == _eur(row["now_eur"]) - _eur(row["issued_eur"])
    assert sum(_eur(r["now_eur"]) for r in diff.values()) == Decimal("3000.00")
    assert _eur(diff["aa"]["difference_eur"]) != 0
    assert still.headers["Occupancy-Pending-Difference"] == diff["aa"]["difference_eur"]
    own = api.get(f"{BASE}/2026-11/history", "agency:bb").json()
    assert set(own["pending_difference"]["agencies"]) == {"bb"}
    assert {s["agency"] for s in own["statements"]} == {"bb"}
    assert '"aa"' not in api.get(f"{BASE}/2026-11/history", "agency:bb").text

    # the correction: per changed agency a credit note and a new debit
    assert _post(api, "2026-11/correct", "agency:aa", reason="x").status_code == 403
    corrected = _post(api, "2026-11/correct", reason="late booking", coverage_override="as before")
    assert corrected.status_code == 200, corrected.text
    new = corrected.json()["statements"]
    assert [s["number"] for s in new] == [f"{year}-{n:06d}" for n in range(3, 3 + len(new))]
    by_agency: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    for s in new:
        by_agency.setdefault(s["agency"], []).append(s)
    assert set(by_agency) == {a for a, r in diff.items() if _eur(r["difference_eur"])}
    for a, (credit, debit) in by_agency.items():
        assert (credit["kind"], debit["kind"]) == ("credit", "debit")
        assert credit["references"] == debit["references"] == issued[a]["number"]
        assert _eur(credit["amount_eur"]) == -_eur(issued[a]["amount_eur"])
        # credit + debit = the difference, to the cent
        assert _eur(credit["amount_eur"]) + _eur(debit["amount_eur"]) == _eur(
            diff[a]["difference_eur"]
        )
        assert _eur(debit["amount_eur"]) == _eur(diff[a]["now_eur"])
    for fmt, body in before.items():  # the original renders byte for byte as issued
        got = api.get(f"{BASE}/2026-11/statements/{original}", "agency:aa", format=fmt)
        assert got.content == body, fmt
    credit_note = api.get(
        f"{BASE}/2026-11/statements/{by_agency['aa'][0]['number']}", "agency:aa"
    ).json()
    assert credit_note["statement"]["kind"] == "credit"
    assert credit_note["statement"]["references_number"] == original
    assert credit_note["statement"]["amount_eur"] == f"-{issued['aa']['amount_eur']}"
    assert (
        api.get(f"{BASE}/2026-11", "agency:aa").json()["statement"]["number"]
        == (by_agency["aa"][1]["number"])
    )

    after = api.get(f"{BASE}/2026-11/history", "finance").json()
    assert after["state"] == "corrected" and not after["pending_difference"]["issuable"]
    moves = [(t["from"], t["to"], t["by"]["role"], t["reason"]) for t in after["transitions"]]
    assert moves == [
        (None, "draft", "finance", "recomputed"),
        ("draft", "draft", "finance", "recomputed"),
        ("draft", "approved", "finance", "November"),
        ("approved", "locked", "finance", "books closed"),
        ("locked", "corrected", "finance", "late booking"),
    ]
    assert after["transitions"][2]["coverage_override"] == "sensors installed 2.11"
    assert after["frozen"]["revision"] == 4 and after["frozen"]["bookings"][0]["space"] == "r1"

    runs = api.get(f"{BASE}/runs", "agency:aa").json()["runs"]
    assert [r["kind"] for r in runs] == ["draft", "draft", "approval", "correction"]
    assert all(set(r["amounts_eur"]) == {"aa"} for r in runs)
    assert runs[2]["created_by"] == {"name": "finance", "role": "finance"}
    everyone = api.get(f"{BASE}/runs", "finance").json()["runs"]
    assert set(everyone[2]["amounts_eur"]) == {"aa", "bb"}
    foreign = api.get(f"{BASE}/2026-11/statements/{issued['bb']['number']}", "agency:aa")
    assert foreign.status_code == 403
    assert len(sink.events) == 2 + len(new)


def test_refusals(api: Api) -> None:
    future = api.post(f"{BASE}/2099-05/run", "finance")
    assert future.status_code == 422
    assert "2099-05 has not begun at pieni" in future.json()["detail"]
    assert api.get(f"{BASE}/2099-05", "finance").status_code == 422
    now = datetime.now(HEL).strftime("%Y-%m")
    running = api.get(f"{BASE}/{now}", "agency:aa").json()
    assert running["provisional"] is True and running["statement"]["provisional"] is True
    assert running["notes"][0].startswith("PROVISIONAL: the month is in progress")
    assert _eur(running["totals"]["cost_eur"]) < Decimal("3000.00")
    refused = _post(api, f"{now}/approve", reason="early", coverage_override="x")
    assert refused.status_code == 422
    assert f"{now} is in progress: it can only be a provisional draft" in refused.json()["detail"]
    not_approved = _post(api, "2026-11/lock", reason="x")
    assert not_approved.status_code == 409
    assert "only an approved month can be locked" in not_approved.json()["detail"]
    nothing = _post(api, "2026-11/correct", reason="x")
    assert nothing.status_code == 409 and "is not approved" in nothing.json()["detail"]
    no_reason = _post(api, "2026-11/approve", reason="")
    assert no_reason.status_code == 422
    bad = api.get(f"{BASE}/2026-13/history", "finance")
    assert bad.status_code == 422 and "2026-13" in bad.json()["detail"]
    assert api.get(f"{BASE}/2026-11/statements/2026-999999", "finance").status_code == 404
