"""PDF building blocks: Latin-1 text for the core fonts, headings, paragraphs,
tables and the page frame (banner for drafts and credit notes, page numbers)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from fpdf import FPDF

_REPLACE = {"€": "EUR", "–": "-", "—": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "…": "..."}

RED = (170, 30, 30)
INK = (40, 40, 40)
MUTED = (110, 110, 110)
LINK = (20, 70, 150)


def latin1(text: str) -> str:
    """Text the PDF core fonts can draw: they cover Latin-1 (so ä, ö, å, é are
    fine); anything else is transliterated, or '?' as a last resort."""
    out = []
    for ch in str(text):
        if ord(ch) < 256:
            out.append(ch)
        elif ch in _REPLACE:
            out.append(_REPLACE[ch])
        else:
            base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
            out.append(base or "?")
    return "".join(out)


class StatementPDF(FPDF):
    """A4 pages with a footer ('sivu 1 / 3') and, on a statement that is not an
    invoice, the banner on every page, so no page can be mistaken for one.

    Pages are numbered within each section (a statement, or the site page), so
    every agency's statement in the finance view counts its own pages.
    ``section_pages`` (each section's page count) is known only once the
    document has been drawn: draw it once, then again with ``sections`` of the
    first drawing."""

    def __init__(
        self, *, page_label: str, footer_text: str, section_pages: list[int] | None = None
    ) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.page_label = page_label  # "sivu {n} / {total}"
        self.footer_text = footer_text
        self.banner: str | None = None
        self._next: tuple[str | None, str] | None = None
        self.section_pages = section_pages
        self.section_starts: list[int] = []
        self.alias_nb_pages("{nb}")
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(15, 15, 15)

    @property
    def sections(self) -> list[int]:
        """The page count of every section drawn so far."""
        ends = [*self.section_starts[1:], self.page_no() + 1]
        return [end - start for start, end in zip(self.section_starts, ends, strict=True)]

    def new_page(self, *, banner: str | None, footer: str) -> None:
        """A page that starts a statement: its banner and footer apply from
        here on (the page being closed keeps its own footer)."""
        self._next = (banner, footer)
        self.add_page()

    def header(self) -> None:
        if self._next is not None:
            self.banner, self.footer_text = self._next
            self._next = None
            self.section_starts.append(self.page_no())
        if self.banner:
            self.set_fill_color(*RED)
            self.set_text_color(255, 255, 255)
            self.set_font("helvetica", "B", 10)
            self.set_xy(self.l_margin, 8)
            self.cell(self.epw, 7, latin1(self.banner), align="C", fill=True)
            self.set_text_color(*INK)
            self.set_y(19)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("helvetica", "", 7.5)
        self.set_text_color(*MUTED)
        self.cell(self.epw * 0.7, 5, latin1(self.footer_text))
        n = self.page_no() - (self.section_starts[-1] if self.section_starts else 1) + 1
        if self.section_pages is None:
            total = "{nb}"
        else:
            total = str(self.section_pages[len(self.section_starts) - 1])
        label = self.page_label.format(n=n, total=total)
        self.cell(self.epw * 0.3, 5, latin1(label), align="R")
        self.set_text_color(*INK)


def h1(pdf: Any, text: str, size: float = 15) -> None:
    pdf.set_font("helvetica", "B", size)
    pdf.set_text_color(*INK)
    pdf.multi_cell(0, 7, latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def h2(pdf: Any, text: str) -> None:
    pdf.ln(2.5)
    pdf.set_font("helvetica", "B", 11)
    pdf.cell(0, 6, latin1(text), new_x="LMARGIN", new_y="NEXT")


def para(pdf: Any, text: str, *, size: float = 9, colour: tuple[int, int, int] = INK) -> None:
    pdf.set_font("helvetica", "", size)
    pdf.set_text_color(*colour)
    pdf.multi_cell(0, size * 0.5, latin1(text), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*INK)


def link(pdf: Any, label: str, url: str) -> None:
    if pdf.will_page_break(9):
        pdf.add_page()  # the label and its address on the same page
    pdf.set_font("helvetica", "", 8.5)
    pdf.multi_cell(0, 4.3, latin1(f"- {label}:"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("courier", "U", 7.5)
    pdf.set_text_color(*LINK)
    pdf.set_x(pdf.l_margin + 3)
    pdf.multi_cell(0, 3.8, latin1(url), link=url, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*INK)


def key_values(
    pdf: Any, rows: Sequence[tuple[str, str]], *, x: float, w: float, key_w: float
) -> float:
    """A two-column block of 'label  value' rows at ``x``; returns the bottom y."""
    y = pdf.get_y()
    for key, value in rows:
        pdf.set_xy(x, y)
        pdf.set_font("helvetica", "", 8.5)
        pdf.set_text_color(*MUTED)
        pdf.cell(key_w, 4.8, latin1(key))
        pdf.set_font("helvetica", "B", 8.5)
        pdf.set_text_color(*INK)
        pdf.cell(w - key_w, 4.8, latin1(value))
        y += 4.8
    return y


def table(
    pdf: Any,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float],
    *,
    total: Sequence[str] | None = None,
    text_columns: int = 1,
) -> None:
    """A table; the first ``text_columns`` left-aligned, the rest right-aligned (numbers)."""

    def align(i: int) -> str:
        return "L" if i < text_columns else "R"

    def head() -> None:
        pdf.set_font("helvetica", "B", 7.5)
        for i, (text, w) in enumerate(zip(header, widths, strict=True)):
            pdf.cell(w, 5, latin1(text), border="B", align=align(i))
        pdf.ln()

    head()
    pdf.set_font("helvetica", "", 7.5)
    for row in rows:
        if pdf.will_page_break(4.5):
            pdf.add_page()
            head()
            pdf.set_font("helvetica", "", 7.5)
        for i, (text, w) in enumerate(zip(row, widths, strict=True)):
            pdf.cell(w, 4.5, latin1(text), align=align(i))
        pdf.ln()
    if total is not None:
        pdf.set_font("helvetica", "B", 7.5)
        for i, (text, w) in enumerate(zip(total, widths, strict=True)):
            pdf.cell(w, 5, latin1(text), border="T", align=align(i))
        pdf.ln()
