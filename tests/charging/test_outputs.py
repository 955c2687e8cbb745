"""Statements and points: byte-identical reruns, agency views, PDF text, Grafana points."""

from __future__ import annotations

import io
import json

import pytest

from charging.charges import compute_month
from charging.points import charge_points
from charging.statements import FORMATS, render
from storage.base import CHARGES
from tests.charging.test_hand_month import BOOKINGS, month_intervals


def _compute(pieni, tariff, intervals=None, bookings=None):
    return compute_month(
        site=pieni,
        month="2026-11",
        intervals=month_intervals() if intervals is None else intervals,
        bookings=BOOKINGS if bookings is None else bookings,
        tariff=tariff,
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_inputs_give_byte_identical_output(pieni, pieni_tariff, fmt: str) -> None:
    first = _compute(pieni, pieni_tariff)
    # the same facts in another row order, with the bookings from another source
    shuffled = month_intervals().sample(frac=1, random_state=7).reset_index(drop=True)
    resourced = [b.model_copy(update={"source": "api"}) for b in reversed(BOOKINGS)]
    second = _compute(pieni, pieni_tariff, shuffled, resourced)
    assert first.inputs_hash == second.inputs_hash
    for agency in (None, "bb"):
        assert render(first, fmt, agency=agency) == render(second, fmt, agency=agency)


def test_inputs_hash_changes_with_any_input(pieni, pieni_tariff) -> None:
    base = _compute(pieni, pieni_tariff).inputs_hash
    ivs = month_intervals()
    ivs.loc[0, "end"] = ivs.loc[0, "end"] - __import__("pandas").Timedelta(seconds=1)
    ivs.loc[1, "start"] = ivs.loc[0, "end"]
    assert _compute(pieni, pieni_tariff, intervals=ivs).inputs_hash != base
    moved = [BOOKINGS[0].model_copy(update={"agency": "aa"}), *BOOKINGS[1:]]
    assert _compute(pieni, pieni_tariff, bookings=moved).inputs_hash != base


def test_json_statement(pieni, pieni_tariff) -> None:
    mc = _compute(pieni, pieni_tariff)
    d = json.loads(render(mc, "json"))
    assert d["totals"]["cost_eur"] == "10000.00"
    assert [a["amount_eur"] for a in d["agencies"]] == ["4101.49", "3235.31", "2663.20"]
    m1 = next(s for s in d["spaces"] if s["space"] == "m1")
    assert m1["booked_hours"] == {"aa": "0.7500", "cc": "1.8333"}
    assert m1["pool_hours"] == "0.5000"
    assert m1["no_show_hours"] == {"bb": "1.0000"}
    assert m1["opening_hours"] == "168.0000"


def test_agency_view_hides_other_agencies(pieni, pieni_tariff) -> None:
    mc = _compute(pieni, pieni_tariff)
    d = json.loads(render(mc, "json", agency="aa"))
    assert {ln["agency"] for ln in d["lines"]} == {"aa"}
    assert [a["agency"] for a in d["agencies"]] == ["aa"]
    assert d["no_shows"] == []  # the no-show was bb's
    m1 = next(s for s in d["spaces"] if s["space"] == "m1")
    assert m1["booked_hours"] == {"aa": "0.7500"}  # not cc's booking
    assert all(s["dedicated_to"] in (None, "aa") for s in d["spaces"])  # not b1
    csv_rows = render(mc, "csv", agency="aa", csv_dialect="rfc4180").decode().splitlines()
    assert len(csv_rows) == 1 + 3 and all(",aa," in r for r in csv_rows[1:])
    with pytest.raises(KeyError):
        render(mc, "json", agency="vero")


def test_pdf_statement_reads_like_a_statement(pieni, pieni_tariff) -> None:
    from pypdf import PdfReader

    mc = _compute(pieni, pieni_tariff)
    data = render(mc, "pdf", agency="bb", lang="en", site=pieni)
    assert data.startswith(b"%PDF-")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    text = text.replace("\xa0", " ")
    assert "Usage-based charge November 2026" in text
    for needle in (
        "Agency Ö",  # Latin-1 letter, core font
        "1. What was measured",
        "2. How it was priced",
        "3. What was estimated",
        "4. Bookings and no-shows",
        "5. Audit: how to recompute each line",
        "1,427.98 EUR",
        "coverage 76.2 %",
        mc.inputs_hash[:40],
    ):
        assert needle in text, needle
    everyone = PdfReader(io.BytesIO(render(mc, "pdf", lang="en", site=pieni)))
    titles = [p.extract_text().count("Usage-based charge November 2026") for p in everyone.pages]
    assert sum(titles) == 3  # one statement per agency after the site page


def test_xlsx_workbook(pieni, pieni_tariff) -> None:
    from openpyxl import load_workbook

    mc = _compute(pieni, pieni_tariff)
    wb = load_workbook(io.BytesIO(render(mc, "xlsx", lang="en", site=pieni)))
    assert wb.sheetnames == ["Summary", "Lines", "Spaces", "No-shows"]
    lines = list(wb["Lines"].iter_rows(values_only=True))
    header = lines[0]
    amounts = [row[header.index("amount")] for row in lines[1:]]
    assert sum(amounts) == 10000  # numbers, not text, for the finance sheet


def test_charge_points(pieni, pieni_tariff) -> None:
    mc = _compute(pieni, pieni_tariff)
    points = charge_points(mc)
    assert len(points) == 9
    assert {p.measurement for p in points} == {CHARGES}
    # local month start 1.11.2026 00:00 EET = 31.10.2026 22:00 UTC
    assert {p.time_ns for p in points} == {1793484000 * 10**9}
    bb_desk = next(p for p in points if p.tags["agency"] == "bb" and p.tags["line"] == "desk")
    assert dict(bb_desk.tags) == {
        "site": "pieni",
        "agency": "bb",
        "month": "2026-11",
        "line": "desk",
    }
    assert bb_desk.fields["amount_eur"] == 1427.98
    assert bb_desk.fields["estimated"] == 1
    assert bb_desk.fields["tariff_version"] == "t1"
    assert round(sum(float(p.fields["amount_eur"]) for p in points), 2) == 10000.00
