"""Bookings that can be managed (issue 16, item 4): update, cancel, history,
agency keys limited to their own bookings."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from api.bookings import list_bookings
from api.records import make_engine, make_sessionmaker
from core.registry import load_site
from storage import StoreSettings
from tests.api.conftest import SMALL_SITE, Api, make_api

TARIFF = Path(__file__).parent / "data" / "tariff.yaml"

URL = "/v1/sites/pieni/bookings"
AT = {"start": "2026-11-04T09:00:00+02:00", "end": "2026-11-04T10:00:00+02:00"}
DAY = {"from": "2026-11-04", "to": "2026-11-05"}


def _send(api: Api, method: str, path: str, role: str, **kwargs: Any):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {api.keys[role]}"}
    return api.client.request(method, path, headers=headers, **kwargs)


def _book(api: Api, role: str, **body: Any) -> str:
    r = api.post(URL, role, json={**AT, **body})
    assert r.status_code == 201, r.text
    return r.json()["ids"][0]


def test_update_changes_the_booking_and_records_old_and_new(sqlite_api: Api) -> None:
    bid = _book(sqlite_api, "facility", space="r1", agency="aa", id="m1", title="Weekly")
    r = _send(sqlite_api, "PATCH", f"{URL}/{bid}", "facility",
              json={"end": "2026-11-04T11:30:00+02:00", "title": "Weekly, long"})  # fmt: skip
    assert r.status_code == 200, r.text
    # 11:30 at +02:00 is 09:30 UTC
    assert r.json()["end"] == "2026-11-04T09:30:00Z"
    assert r.json()["title"] == "Weekly, long"
    hist = sqlite_api.get(f"{URL}/{bid}/history", "facility").json()
    assert [h["action"] for h in hist] == ["created", "updated"]
    assert hist[0]["who"] == {"name": "facility", "role": "facility"}
    assert hist[0]["changes"]["space"] == {"old": None, "new": "r1"}
    assert hist[1]["changes"] == {
        "end": {"old": "2026-11-04T08:00:00+00:00", "new": "2026-11-04T09:30:00+00:00"},
        "title": {"old": "Weekly", "new": "Weekly, long"},
    }
    # the same values again change nothing and add no history
    same = _send(sqlite_api, "PATCH", f"{URL}/{bid}", "facility", json={"title": "Weekly, long"})
    assert same.status_code == 200
    assert len(sqlite_api.get(f"{URL}/{bid}/history", "facility").json()) == 2


def test_an_update_is_checked_like_a_new_booking(sqlite_api: Api) -> None:
    first = _book(sqlite_api, "facility", space="s1", agency="aa", id="one")
    _book(sqlite_api, "facility", space="s2", agency="aa", id="two")
    clash = _send(sqlite_api, "PATCH", f"{URL}/{first}", "facility", json={"space": "s2"})
    assert clash.status_code == 422
    assert "overlaps" in clash.json()["detail"] and "aa:two" in clash.json()["detail"]
    backwards = _send(sqlite_api, "PATCH", f"{URL}/{first}", "facility",
                      json={"end": "2026-11-04T08:00:00+02:00"})  # fmt: skip
    assert backwards.status_code == 422 and "before it starts" in backwards.json()["detail"]
    unknown = _send(sqlite_api, "PATCH", f"{URL}/{first}", "facility", json={"space": "nosuch"})
    assert unknown.status_code == 422 and "unknown space 'nosuch'" in unknown.json()["detail"]
    empty = _send(sqlite_api, "PATCH", f"{URL}/{first}", "facility", json={})
    assert empty.status_code == 422
    extra = _send(sqlite_api, "PATCH", f"{URL}/{first}", "facility", json={"colour": "red"})
    assert extra.status_code == 422
    missing = _send(sqlite_api, "PATCH", f"{URL}/aa:nosuch", "facility", json={"title": "x"})
    assert missing.status_code == 404
    # nothing of it was stored
    hist = sqlite_api.get(f"{URL}/{first}/history", "facility").json()
    assert [h["action"] for h in hist] == ["created"]


def test_cancel_keeps_the_booking_but_it_no_longer_counts(sqlite_api: Api) -> None:
    bid = _book(sqlite_api, "facility", space="r1", agency="bb", id="c1")
    r = _send(sqlite_api, "DELETE", f"{URL}/{bid}", "facility", params={"reason": "moved online"})
    assert r.status_code == 200, r.text
    assert r.json()["cancelled_at"] and r.json()["cancel_reason"] == "moved online"
    assert sqlite_api.get(URL, "facility", **DAY).json() == []
    listed = sqlite_api.get(URL, "facility", cancelled="true", **DAY).json()
    assert [b["id"] for b in listed] == [bid]
    # the charges read the counting bookings: the cancelled one is not among them
    with sqlite_api.client.app.state.ctx.sessions() as session:  # type: ignore[attr-defined]
        assert list_bookings(session, site=sqlite_api.site) == []
    hist = sqlite_api.get(f"{URL}/{bid}/history", "finance").json()
    assert [h["action"] for h in hist] == ["created", "cancelled"]
    assert hist[1]["changes"]["reason"] == {"old": None, "new": "moved online"}
    again = _send(sqlite_api, "DELETE", f"{URL}/{bid}", "facility")
    assert again.status_code == 409 and "already cancelled" in again.json()["detail"]
    change = _send(sqlite_api, "PATCH", f"{URL}/{bid}", "facility", json={"title": "x"})
    assert change.status_code == 409
    # its slot is free again
    _book(sqlite_api, "facility", space="r1", agency="aa", id="c2")


def test_an_agency_key_changes_only_its_own_bookings(sqlite_api: Api) -> None:
    theirs = _book(sqlite_api, "agency:bb", space="s1", agency="bb", id="t")
    mine = _book(sqlite_api, "agency:aa", space="s2", agency="aa", id="m")
    for method, path, kwargs in (
        ("PATCH", f"{URL}/{theirs}", {"json": {"title": "mine now"}}),
        ("DELETE", f"{URL}/{theirs}", {}),
        ("GET", f"{URL}/{theirs}/history", {}),
    ):
        r = _send(sqlite_api, method, path, "agency:aa", **kwargs)
        # not found, as for an id that does not exist: nothing about bb's booking
        assert r.status_code == 404, (method, r.text)
        assert r.json()["detail"] == f"no booking {theirs!r} in site 'pieni'"
    give = _send(sqlite_api, "PATCH", f"{URL}/{mine}", "agency:aa", json={"agency": "bb"})
    assert give.status_code == 403
    onto = _send(sqlite_api, "PATCH", f"{URL}/{mine}", "agency:aa", json={"space": "s1"})
    assert onto.status_code == 422
    detail = onto.json()["detail"]
    assert detail == f"booking {mine!r}: space 's1' is already booked at an overlapping time"
    dedicated = _send(sqlite_api, "PATCH", f"{URL}/{mine}", "agency:aa", json={"space": "b1"})
    assert dedicated.status_code == 422 and "not bookable by aa" in dedicated.json()["detail"]
    ok = _send(sqlite_api, "DELETE", f"{URL}/{mine}", "agency:aa")
    assert ok.status_code == 200
    hist = sqlite_api.get(f"{URL}/{mine}/history", "agency:aa").json()
    assert [h["who"] for h in hist] == [{"name": "agency:aa", "role": "agency:aa"}] * 2
    # bb's booking is untouched
    assert [h["action"] for h in sqlite_api.get(f"{URL}/{theirs}/history").json()] == ["created"]


def test_a_cancelled_booking_is_no_longer_charged_nor_a_no_show(tmp_path: Path) -> None:
    # r1 is free 09:00-10:00 on the scenario day: booked then, it is a no-show
    for api in make_api(StoreSettings(url=f"sqlite:///{tmp_path}/store.db"), tmp_path,
                        tariffs=TARIFF):  # fmt: skip
        bid = _book(api, "facility", space="r1", agency="bb", id="ns",
                    start="2026-11-02T09:00:00+02:00", end="2026-11-02T10:00:00+02:00")  # fmt: skip
        before = api.get("/v1/sites/pieni/charges/2026-11", "finance").json()
        assert [n["booking_id"] for n in before["no_shows"]] == [bid]
        bb = next(a for a in before["agencies"] if a["agency"] == "bb")
        assert (bb["bookings"], bb["no_shows"]) == (1, 1)
        assert _send(api, "DELETE", f"{URL}/{bid}", "facility").status_code == 200
        after = api.get("/v1/sites/pieni/charges/2026-11", "finance").json()
        assert after["no_shows"] == []
        bb = next(a for a in after["agencies"] if a["agency"] == "bb")
        assert (bb["bookings"], bb["no_shows"]) == (0, 0)


def test_a_records_db_of_an_older_version_keeps_its_bookings(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:  # the bookings table before cancellations existed
        conn.execute(
            "CREATE TABLE bookings (id VARCHAR(200) PRIMARY KEY, site VARCHAR(64), "
            'space VARCHAR(64), agency VARCHAR(64), start DATETIME, "end" DATETIME, '
            "title VARCHAR(500), source VARCHAR(200))"
        )
        conn.execute(
            "INSERT INTO bookings VALUES ('k1', 'pieni', 'r1', 'aa', "
            "'2026-11-04 07:00:00.000000', '2026-11-04 08:00:00.000000', '', 'api')"
        )
    with make_sessionmaker(make_engine(f"sqlite:///{db}"))() as session:
        assert [b.id for b in list_bookings(session, site=load_site(SMALL_SITE))] == ["k1"]
