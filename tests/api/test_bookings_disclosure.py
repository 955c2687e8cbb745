"""Bookings under the disclosure rule (issue 20, item 1): an agency cannot book
another agency's dedicated space, a clash with another agency's booking names
neither its id nor its times, and ids are scoped per agency."""

from __future__ import annotations

from tests.api.conftest import Api

URL = "/v1/sites/pieni/bookings"
AT = {"start": "2026-11-04T09:00:00+02:00", "end": "2026-11-04T10:00:00+02:00"}


def test_an_agency_cannot_book_another_agencys_dedicated_space(sqlite_api: Api) -> None:
    r = sqlite_api.post(URL, "agency:aa", json={"space": "b1", "agency": "aa", **AT})
    assert r.status_code == 422
    assert r.json()["detail"].endswith("space 'b1' is not bookable by aa")
    # its own dedicated desk and a shared room are fine
    for space in ("a1", "r1"):
        ok = sqlite_api.post(URL, "agency:aa", json={"space": space, "agency": "aa", **AT})
        assert ok.status_code == 201, ok.text


def test_a_clash_reveals_nothing_of_another_agencys_booking(sqlite_api: Api) -> None:
    theirs = {
        "space": "r1", "agency": "bb", "id": "bb-secret-42",
        "start": "2026-11-04T08:47:00+02:00", "end": "2026-11-04T09:13:00+02:00",
    }  # fmt: skip
    assert sqlite_api.post(URL, "agency:bb", json=theirs).status_code == 201
    r = sqlite_api.post(URL, "agency:aa", json={"space": "r1", "agency": "aa", "id": "m1", **AT})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert detail == "booking 'aa:m1': space 'r1' is already booked at an overlapping time"
    for secret in ("secret", "08:47", "09:13", "06:47", "07:13", "bb"):
        assert secret not in detail


def test_booking_ids_are_scoped_per_agency(sqlite_api: Api) -> None:
    a = sqlite_api.post(URL, "agency:aa", json={"space": "s1", "agency": "aa", "id": "x", **AT})
    b = sqlite_api.post(URL, "agency:bb", json={"space": "s2", "agency": "bb", "id": "x", **AT})
    assert (a.status_code, b.status_code) == (201, 201), b.text
    assert (a.json()["ids"], b.json()["ids"]) == (["aa:x"], ["bb:x"])
    again = sqlite_api.post(URL, "agency:aa", json={"space": "s3", "agency": "aa", "id": "x", **AT})
    assert again.status_code == 422
    assert again.json()["detail"] == "booking 'aa:x': this id is already used"
    seen = sqlite_api.get(URL, "agency:bb", **{"from": "2026-11-04", "to": "2026-11-05"})
    assert [x["id"] for x in seen.json()] == ["bb:x"]
