"""Re-importing a bookings file is idempotent and answers a summary (issue 16,
item 4): unchanged rows are no error, changed ones are updates, bad rows are
rejected alone, named by their line, and a huge bad file answers briefly."""

from __future__ import annotations

from tests.api.conftest import Api

URL = "/v1/sites/pieni/bookings"
HEADER = "booking_id,space_id,agency_id,start,end,title\n"
ROWS = [
    "b1,r1,aa,2026-11-03T09:00:00+02:00,2026-11-03T10:00:00+02:00,Standup",
    "b2,s1,bb,2026-11-03T09:00:00+02:00,2026-11-03T12:00:00+02:00,Desk",
    "b3,s2,aa,2026-11-03T13:00:00+02:00,2026-11-03T15:00:00+02:00,Desk",
]
CSV_TYPE = {"Content-Type": "text/csv"}
ICS_DAYS = {"from": "2026-11-01", "to": "2026-12-01"}


def _import(api: Api, text: str, role: str = "facility"):  # type: ignore[no-untyped-def]
    return api.post(f"{URL}/import", role, content=text.encode(), headers=CSV_TYPE)


def test_the_same_csv_twice_is_unchanged_then_a_change_is_an_update(sqlite_api: Api) -> None:
    first = _import(sqlite_api, HEADER + "\n".join(ROWS) + "\n")
    assert first.status_code == 200, first.text
    assert first.json() == {
        "created": 3, "updated": 0, "unchanged": 0, "cancelled": 0,
        "rejected": 0, "problems": [], "problems_omitted": 0,
    }  # fmt: skip
    again = _import(sqlite_api, HEADER + "\n".join(ROWS) + "\n")
    assert again.status_code == 200, again.text
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 3)
    # b2 ends an hour later, b4 is new; the same instant in UTC is no change
    rows = [
        ROWS[0].replace("09:00:00+02:00", "07:00:00Z").replace("10:00:00+02:00", "08:00:00Z"),
        ROWS[1].replace("12:00:00+02:00", "13:00:00+02:00"),
        ROWS[2],
        "b4,s3,aa,2026-11-04T09:00:00+02:00,2026-11-04T10:00:00+02:00,New",
    ]
    third = _import(sqlite_api, HEADER + "\n".join(rows) + "\n").json()
    assert (third["created"], third["updated"], third["unchanged"]) == (1, 1, 2)
    hist = sqlite_api.get(f"{URL}/b2/history").json()
    assert [h["action"] for h in hist] == ["created", "updated"]
    assert hist[1]["via"] == "import:upload.csv"
    assert hist[1]["changes"] == {
        "end": {"old": "2026-11-03T10:00:00+00:00", "new": "2026-11-03T11:00:00+00:00"}
    }
    stored = sqlite_api.get(URL, **{"from": "2026-11-03", "to": "2026-11-05"}).json()
    assert sorted(b["id"] for b in stored) == ["b1", "b2", "b3", "b4"]


def test_bad_rows_are_rejected_with_their_line_and_the_rest_stored(sqlite_api: Api) -> None:
    rows = [
        ROWS[0],  # line 2
        "b5,nosuch,aa,2026-11-03T09:00:00+02:00,2026-11-03T10:00:00+02:00,x",  # 3
        "b6,s1,aa,2026-11-03T09:00:00,2026-11-03T10:00:00+02:00,x",  # 4: no offset
        "b7,r1,bb,2026-11-03T09:30:00+02:00,2026-11-03T10:30:00+02:00,x",  # 5: overlaps b1
        "b1,s3,aa,2026-11-05T09:00:00+02:00,2026-11-05T10:00:00+02:00,x",  # 6: id of line 2
        "b8,s3,aa",  # 7
        ROWS[2],  # 8
    ]
    r = _import(sqlite_api, HEADER + "\n".join(rows) + "\n")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["created"], body["rejected"]) == (2, 5)
    got = sorted((p["row"], p["id"]) for p in body["problems"])
    assert got == [(3, "b5"), (4, "b6"), (5, "b7"), (6, "b1"), (7, None)]
    reasons = {p["row"]: p["reason"] for p in body["problems"]}
    assert "unknown space 'nosuch'" in reasons[3]
    assert "has no UTC offset" in reasons[4]
    assert "overlaps booking 'b1'" in reasons[5]
    assert "is also used by booking 'b1' (csv:upload.csv:2)" in reasons[6]
    assert reasons[7] == "upload.csv:7: 3 fields, the header has 6"
    # a stored booking is never displaced by a clashing row of a later file
    clash = _import(sqlite_api, HEADER + rows[3] + "\n" + ROWS[1] + "\n").json()
    assert (clash["created"], clash["rejected"]) == (1, 1)
    assert "overlaps" in clash["problems"][0]["reason"] and clash["problems"][0]["row"] == 2


def test_a_huge_file_with_bad_rows_answers_a_capped_summary(sqlite_api: Api) -> None:
    bad = [
        f"x{i},nosuch{i},aa,2026-11-03T09:00:00+02:00,2026-11-03T10:00:00+02:00,"
        for i in range(3000)
    ]
    r = _import(sqlite_api, HEADER + ROWS[0] + "\n" + "\n".join(bad) + "\n")
    assert r.status_code == 200
    assert len(r.content) < 20_000, len(r.content)
    body = r.json()
    assert (body["created"], body["rejected"]) == (1, 3000)
    assert len(body["problems"]) == 50 and body["problems_omitted"] == 2950
    assert [p["row"] for p in body["problems"][:3]] == [3, 4, 5]


def test_a_cancelled_booking_is_not_brought_back_by_an_import(sqlite_api: Api) -> None:
    assert _import(sqlite_api, HEADER + ROWS[0] + "\n" + ROWS[2] + "\n").status_code == 200
    headers = {"Authorization": f"Bearer {sqlite_api.keys['facility']}"}
    assert sqlite_api.client.delete(f"{URL}/b1", headers=headers).status_code == 200
    again = _import(sqlite_api, HEADER + ROWS[0] + "\n" + ROWS[2] + "\n").json()
    assert (again["unchanged"], again["rejected"]) == (1, 1)
    assert again["problems"][0]["row"] == 2 and "is cancelled" in again["problems"][0]["reason"]


def test_the_same_ics_twice_is_unchanged(sqlite_api: Api) -> None:
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
        "BEGIN:VEVENT\r\nUID:ev-1\r\nDTSTAMP:20261001T000000Z\r\n"
        "DTSTART:20261103T070000Z\r\nDTEND:20261103T080000Z\r\n"
        "LOCATION:r1\r\nCATEGORIES:aa\r\nSUMMARY:Weekly\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\n"
        "END:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:ev-2\r\nDTSTAMP:20261001T000000Z\r\n"
        "DTSTART;VALUE=DATE:20261104\r\nLOCATION:r1\r\nCATEGORIES:aa\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )
    headers = {"Content-Type": "text/calendar"}
    first = sqlite_api.post(f"{URL}/import", content=ics, headers=headers, params=ICS_DAYS)
    assert first.status_code == 200, first.text
    # ev-2 is all-day with no end: one event rejected, with its two problems
    assert (first.json()["created"], first.json()["rejected"]) == (3, 1)
    assert [p["event"] for p in first.json()["problems"]] == ["ev-2", "ev-2"]
    again = sqlite_api.post(f"{URL}/import", content=ics, headers=headers, params=ICS_DAYS)
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 3)
