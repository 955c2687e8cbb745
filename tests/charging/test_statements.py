"""Statements an agency accepts: PDF text in Finnish, Swedish and English, the
header's number, dates and reference, drafts and credit notes marked as such,
local times with their zone, XLSX cell formats, CSV in both dialects.

The amounts are the hand-worked month of test_hand_month (agency bb: base
750.00, desks 1427.98, meeting rooms 1057.33, in all 3235.31 of 10 000.00);
booking k2 (bb's no-show in m1) starts 5.11.2026 13:00 Helsinki time (EET).
"""

from __future__ import annotations

import csv
import io
import re
import string
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction as F
from pathlib import Path

import pytest
import yaml

from charging.charges import BASE_LINE, MonthCharges, compute_month
from charging.header import MonthState, StatementHeader, StatementKind
from charging.statements import render
from charging.statements.figures import week_weighted_hours, zone_weighted_hours
from charging.statements.messages import LANGS, keys, t, translations
from charging.tariff import Tariff
from core.registry import Site, load_site
from tests.charging.conftest import DATA
from tests.charging.test_hand_month import BOOKINGS, month_intervals

BB = {"base": Decimal("750.00"), "desk": Decimal("1427.98"), "meeting_room": Decimal("1057.33")}

APPROVED = StatementHeader(
    month="2026-11",
    agency="bb",
    state=MonthState.APPROVED,
    number="2026-000017",
    issue_date=date(2026, 12, 3),
    due_date=date(2027, 1, 2),
    reference="RF39 1234 5678",
    run_id="run-7",
    revision=2,
)
CREDIT = StatementHeader(
    month="2026-11",
    agency="bb",
    state=MonthState.CORRECTED,
    kind=StatementKind.CREDIT,
    number="2026-000031",
    issue_date=date(2027, 1, 12),
    due_date=date(2027, 2, 11),
    reference="RF83 1234 5679",
    references_number="2026-000017",
    amount_eur=Decimal("-3235.31"),
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The hand-worked site with names in three languages, a Y-tunnus and a cost centre."""
    data = yaml.safe_load((DATA / "pieni.yaml").read_text(encoding="utf-8"))
    bb = next(a for a in data["agencies"] if a["id"] == "bb")
    bb.update(business_id="0245458-3", cost_centre="KP-42")
    zones = {z["id"]: z for z in data["zones"]}
    zones["zb"].update(name_sv="Ö:s zon", name_en="Zone of Ö")
    zones["zs"].update(name_sv="Gemensamt", name_en="Shared area")
    m1 = next(s for s in data["spaces"] if s["id"] == "m1")
    m1.update(name="Neuvotteluhuone Kuu", name_sv="Mötesrum Månen", name_en="Meeting room Moon")
    path: Path = tmp_path_factory.mktemp("site") / "pieni.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_site(path)


@pytest.fixture(scope="module")
def mc(site: Site, pieni_tariff: Tariff) -> MonthCharges:
    return compute_month(
        site=site,
        month="2026-11",
        intervals=month_intervals(),
        bookings=BOOKINGS,
        tariff=pieni_tariff,
    )


def pdf_text(data: bytes) -> tuple[list[str], list[str]]:
    """Each page's text (whitespace collapsed) and every link's URI."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    pages = [re.sub(r"\s+", " ", p.extract_text().replace("\xa0", " ")) for p in reader.pages]
    uris = [
        a.get_object()["/A"]["/URI"]
        for p in reader.pages
        for a in p.get("/Annots", [])
        if "/A" in a.get_object()
    ]
    return pages, uris


EXPECTED = {
    "fi": [
        "Käyttöveloitus marraskuu 2026",
        "LUONNOS - EI LASKU",
        "Y-tunnus 0245458-3",
        "Kustannuspaikka KP-42",
        "Jakso 1.11.2026 - 30.11.2026",
        "Maksettava: 3 235,31 EUR",
        "Ajat paikallista aikaa (Europe/Helsinki)",
        "Ö:n vyöhyke",
        "Painotetut tunnit viikoittain",
        "vk 45",
        "2.-8.11.",  # the week's days in the month
        "Neuvotteluhuone Kuu 5.11.2026 13:00 EET",
        "Työpisteet 4,44 1,00 4,44 1 427,98 EUR",
        "sivu 1 / 2",
        "sivu 2 / 2",
    ],
    "sv": [
        "Användningsbaserad debitering november 2026",
        "UTKAST - INTE EN FAKTURA",
        "FO-nummer 0245458-3",
        "Kostnadsställe KP-42",
        "Att betala: 3 235,31 EUR",
        "Tiderna i lokal tid (Europe/Helsinki)",
        "Ö:s zon",
        "Gemensamt",
        "v. 45",
        "Mötesrum Månen 5.11.2026 13:00 EET",
        "Arbetsplatser 4,44 1,00 4,44 1 427,98 EUR",
        "sida 1 / 2",
    ],
    "en": [
        "Usage-based charge November 2026",
        "DRAFT - NOT AN INVOICE",
        "Business ID 0245458-3",
        "Cost centre KP-42",
        "Period 2026-11-01 - 2026-11-30",
        "Amount due: 3,235.31 EUR",
        "Times are local time (Europe/Helsinki)",
        "Zone of Ö",
        "Shared area",
        "wk 45",
        "11-02..08",
        "Meeting room Moon 2026-11-05 13:00 EET",
        "Desks 4.44 1.00 4.44 1,427.98 EUR",
        "page 2 / 2",
    ],
}


@pytest.mark.parametrize("lang", LANGS)
def test_pdf_draft_in_each_language(mc: MonthCharges, site: Site, lang: str) -> None:
    data = render(mc, "pdf", agency="bb", lang=lang, site=site, api_url="https://occ.example/")
    pages, uris = pdf_text(data)
    text = " ".join(pages)
    assert len(pages) == 2
    for needle in EXPECTED[lang]:
        assert needle in text, needle
    banner = EXPECTED[lang][1]
    assert all(banner in page for page in pages)  # on every page: not an invoice
    assert "UTC" not in text
    # an agency's statement names no other agency
    assert "Agency Ä" not in text and "Agency C" not in text
    raw = [u for u in uris if "source=raw" in u]
    assert raw and all(u.startswith("https://occ.example/v1/sites/pieni/") for u in raw)
    assert (
        "https://occ.example/v1/sites/pieni/utilisation?month=2026-11&source=raw&by=space&format=csv"
        in raw
    )
    assert any("by=agency&agency=bb" in u for u in raw)
    assert (
        render(mc, "pdf", agency="bb", lang=lang, site=site, api_url="https://occ.example/") == data
    )


def test_pdf_audit_explains_each_line_in_words(mc: MonthCharges, site: Site) -> None:
    text = " ".join(pdf_text(render(mc, "pdf", agency="bb", lang="en", site=site))[0])
    # base: 2500.00 (25 % of 10 000) x 6 htv / 20 htv = 750.00
    assert "base pot 2,500.00 EUR × your headcount 6.0 / all 20.0 = 750.00 EUR" in text
    assert "rounded to the cent 1,427.98 EUR" in text
    assert "largest fractional parts" in text


def test_pdf_approved_statement_is_an_invoice(mc: MonthCharges, site: Site) -> None:
    pages, _ = pdf_text(render(mc, "pdf", header=APPROVED, lang="fi", site=site))
    text = " ".join(pages)
    for needle in (
        "Laskun numero 2026-000017",
        "Laskun päivä 3.12.2026",
        "Eräpäivä 2.1.2027",
        "Viitenumero RF39 1234 5678",
        "hyväksytty, versio 2",
        "Maksettava: 3 235,31 EUR",
    ):
        assert needle in text, needle
    assert "EI LASKU" not in text


def test_pdf_credit_note_names_what_it_credits(mc: MonthCharges, site: Site) -> None:
    text = " ".join(pdf_text(render(mc, "pdf", header=CREDIT, lang="en", site=site))[0])
    for needle in (
        "CREDIT NOTE - credits statement 2026-000017",
        "Credit note November 2026",
        "Statement number 2026-000031",
        "Credits statement 2026-000017",
        "Amount credited: -3,235.31 EUR",
        "-1,427.98 EUR",
    ):
        assert needle in text, needle


def test_pdf_correction_debit_names_the_statement_it_replaces(mc: MonthCharges, site: Site) -> None:
    debit = StatementHeader(
        month="2026-11",
        agency="bb",
        state=MonthState.CORRECTED,
        number="2026-000032",
        issue_date=date(2027, 1, 12),
        due_date=date(2027, 2, 11),
        reference="RF56 1234 5680",
        references_number="2026-000017",
        run_id="run-9",
        revision=3,
    )
    text = " ".join(pdf_text(render(mc, "pdf", header=debit, lang="en", site=site))[0])
    for needle in (
        "Corrected statement, replaces statement 2026-000017",
        "Replaces statement 2026-000017",
        "Charge run run-9",
        "corrected, revision 3",
        "Amount due: 3,235.31 EUR",
    ):
        assert needle in text, needle
    assert "NOT AN INVOICE" not in text and "CREDIT NOTE" not in text


def test_pdf_provisional_draft(mc: MonthCharges, site: Site) -> None:
    header = StatementHeader(month="2026-11", agency="bb", state=MonthState.DRAFT, provisional=True)
    pages, _ = pdf_text(render(mc, "pdf", header=header, lang="sv", site=site))
    assert all("PRELIMINÄRT UTKAST, MÅNADEN PÅGÅR - INTE EN FAKTURA" in p for p in pages)
    assert "pro rata" not in pages[0] and "proportion till den förflutna öppettiden" in pages[0]


def test_summary_figures_add_up_to_the_lines(mc: MonthCharges) -> None:
    for agency in mc.agency_ids:
        usage = sum(
            (ln.weighted_hours for ln in mc.lines if ln.agency == agency and ln.line != BASE_LINE),
        )
        assert sum(wh for _, wh in zone_weighted_hours(mc, agency)) == usage
        weeks = week_weighted_hours(mc, agency)
        assert sum(wh for *_, wh in weeks) == usage
        # 1.11.2026 is a Sunday (ISO week 44), 30.11.2026 a Monday (week 49)
        assert [w for w, *_ in weeks] == [f"2026-W{n}" for n in range(44, 50)]
        assert weeks[0][1] == date(2026, 10, 26)
    # By hand (test_hand_month: pool shares aa 29/63, bb 4/21, cc 22/63; bb's desk
    # line scaled by 21/16): week 45 is 2.-8.11, week 46 9.-15.11.
    # bb: b1 3 h x 21/16; m1 pool 1/2 h x 3 x 4/21; no-show k2 1 h x 3 | s1 pool 2 h x 4/21 x 21/16
    # aa: a1 5 h; m1 booked 3/4 h x 3 and pool 1/2 x 3 x 29/63 | s1 pool 2 x 29/63
    # cc: m1 booked 11/6 h x 3 and pool 1/2 x 3 x 22/63 | s1 pool 2 x 22/63
    want = {
        "bb": (F(63, 16) + F(2, 7) + 3, F(1, 2)),
        "aa": (5 + F(9, 4) + F(29, 42), F(58, 63)),
        "cc": (F(11, 2) + F(11, 21), F(44, 63)),
    }
    for agency, (w45, w46) in want.items():
        got = {w: wh for w, _, wh in week_weighted_hours(mc, agency)}
        assert (got.pop("2026-W45"), got.pop("2026-W46")) == (w45, w46)
        assert set(got.values()) == {0}
    # bb's zones: its own zb (b1) and the shared zs (m1, s1)
    assert zone_weighted_hours(mc, "bb") == [("zb", F(63, 16)), ("zs", F(2, 7) + 3 + F(1, 2))]


@pytest.mark.parametrize("lang", LANGS)
def test_xlsx_formats_widths_and_frozen_header(mc: MonthCharges, site: Site, lang: str) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(render(mc, "xlsx", header=APPROVED, lang=lang, site=site)))
    summary, lines, spaces, no_shows = (wb[n] for n in wb.sheetnames)
    assert wb.sheetnames[0] == {"fi": "Yhteenveto", "sv": "Sammanfattning", "en": "Summary"}[lang]
    by_key = {row[0].value: row[1] for row in summary.iter_rows(max_col=2) if row[0].value}
    issue = next(c for c in by_key.values() if c.value == datetime(2026, 12, 3))
    assert issue.is_date
    assert issue.number_format == ("yyyy-mm-dd" if lang == "en" else "d.m.yyyy")
    assert "0245458-3" in [c.value for c in by_key.values()]
    amount = next(c for c in by_key.values() if c.value == Decimal("3235.31") or c.value == 3235.31)
    assert amount.number_format.startswith("#,##0.00")

    header = [c.value for c in lines[1]]
    amount_col = header.index({"fi": "summa", "sv": "belopp", "en": "amount"}[lang]) + 1
    cells = [lines.cell(row=r, column=amount_col) for r in range(2, lines.max_row + 1)]
    assert sorted(Decimal(str(c.value)) for c in cells) == sorted(BB.values())
    assert all(c.number_format.startswith("#,##0.00") for c in cells)
    coverage_col = header.index({"fi": "kattavuus", "sv": "täckning", "en": "coverage"}[lang]) + 1
    assert lines.cell(row=2, column=coverage_col).number_format == "0.0%"
    for ws in (lines, spaces, no_shows):
        assert ws.freeze_panes == "A2"
        assert ws.cell(row=1, column=1).font.bold
    from openpyxl.utils import get_column_letter

    assert lines.column_dimensions[get_column_letter(amount_col)].width >= 10
    hash_col = header.index(header[-1]) + 1
    assert lines.column_dimensions[get_column_letter(hash_col)].width >= 60

    nh = [c.value for c in no_shows[1]]
    start_col = next(i for i, v in enumerate(nh, start=1) if "(Europe/Helsinki)" in v)
    start = no_shows.cell(row=2, column=start_col)
    assert start.value == datetime(2026, 11, 5, 13, 0)  # local wall time, zone in the header
    assert start.is_date and "hh:mm" in start.number_format
    assert summary["A1"].value == t(lang, "site")  # an approved statement: no banner


def test_xlsx_draft_and_credit_note_are_marked(mc: MonthCharges, site: Site) -> None:
    from openpyxl import load_workbook

    draft = load_workbook(io.BytesIO(render(mc, "xlsx", agency="bb", lang="fi", site=site)))
    assert draft["Yhteenveto"]["A1"].value == "LUONNOS - EI LASKU"
    credit = load_workbook(io.BytesIO(render(mc, "xlsx", header=CREDIT, lang="en", site=site)))
    ws = credit["Summary"]
    assert ws["A1"].value == "CREDIT NOTE - credits statement 2026-000017"
    values = {r[0].value: r[1].value for r in ws.iter_rows(max_col=2) if r[0].value}
    assert Decimal(str(values["Amount credited"])) == Decimal("-3235.31")
    assert values["Credits statement"] == "2026-000017"
    lines = list(credit["Lines"].iter_rows(values_only=True))
    amounts = [row[lines[0].index("amount")] for row in lines[1:]]
    assert sum(Decimal(str(a)) for a in amounts) == Decimal("-3235.31")


def _csv_amounts(data: bytes, *, delimiter: str, comma: bool) -> dict[str, Decimal]:
    text = data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))
    out = {}
    for row in rows:
        raw = row["amount_eur"]
        assert re.fullmatch(r"-?\d+[.,]\d{2}", raw), raw  # two decimals
        assert ("," in raw) == comma
        out[row["line"]] = Decimal(raw.replace(",", "."))
    return out


def test_csv_in_both_dialects_gives_the_same_amounts(mc: MonthCharges, site: Site) -> None:
    fi = render(mc, "csv", agency="bb", lang="fi", site=site)
    sv = render(mc, "csv", agency="bb", lang="sv", site=site)
    en = render(mc, "csv", agency="bb", lang="en", site=site)
    plain = render(mc, "csv", agency="bb", lang="fi", site=site, csv_dialect="rfc4180")
    assert fi.startswith("\ufeff".encode()) and en.startswith("\ufeff".encode())
    assert not plain.startswith("\ufeff".encode())
    assert fi.decode("utf-8-sig").splitlines()[0].startswith("site;month;agency;line;")
    assert plain.split(b"\r\n")[0].startswith(b"site,month,agency,line,")
    assert sv == fi
    assert _csv_amounts(fi, delimiter=";", comma=True) == BB
    assert _csv_amounts(en, delimiter=",", comma=False) == BB
    assert _csv_amounts(plain, delimiter=",", comma=False) == BB
    # the other numbers convert the same way: the coverage of bb's desks, 0.7619
    fi_row = next(csv.DictReader(io.StringIO(fi.decode("utf-8-sig")), delimiter=";"))
    plain_row = next(csv.DictReader(io.StringIO(plain.decode())))
    assert {k: v.replace(",", ".") for k, v in fi_row.items()} == plain_row


def test_messages_exist_in_every_language_with_the_same_fields() -> None:
    def fields(text: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    for key in keys():
        texts = translations(key)
        assert len(texts) == len(LANGS) and all(texts), key
        assert fields(texts[1]) == fields(texts[0]) == fields(texts[2]), key


def test_bad_arguments_are_refused(mc: MonthCharges, site: Site) -> None:
    with pytest.raises(ValueError, match="unknown language 'de'"):
        render(mc, "pdf", agency="bb", lang="de")
    with pytest.raises(ValueError, match="unknown CSV dialect 'excel'"):
        render(mc, "csv", csv_dialect="excel")
    with pytest.raises(ValueError, match="the header is 'bb''s, the statement 'aa''s"):
        render(mc, "pdf", agency="aa", header=APPROVED)
    with pytest.raises(KeyError):
        render(mc, "xlsx", agency="vero", site=site)


def test_finance_pdf_numbers_each_statement_on_its_own(mc: MonthCharges, site: Site) -> None:
    pages, _ = pdf_text(render(mc, "pdf", lang="en", site=site))
    labels = [m.group() for p in pages if (m := re.search(r"page \d+ / \d+", p))]
    assert labels == ["page 1 / 1"] + ["page 1 / 2", "page 2 / 2"] * 3
    assert "Usage-based charges, Pieni yhteistoimisto, November 2026" in pages[0]
    assert all("DRAFT - NOT AN INVOICE" in p for p in pages)
