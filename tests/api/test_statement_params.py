"""The charges route's statement options: ``lang`` and ``csv_dialect``, the
audit links pointing at this server, and an agency's PDF naming no other agency."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage import StoreSettings
from tests.api.conftest import Api, make_api

DATA = Path(__file__).parent / "data"
URL = "/v1/sites/pieni/charges/2026-11"


@pytest.fixture(scope="module")
def stmt_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    tmp = tmp_path_factory.mktemp("statements")
    yield from make_api(
        StoreSettings(url=f"sqlite:///{tmp}/store.db"), tmp, tariffs=DATA / "tariff.yaml"
    )


def test_pdf_in_the_asked_language_with_links_to_this_server(stmt_api: Api) -> None:
    from pypdf import PdfReader

    resp = stmt_api.get(URL, "agency:aa", format="pdf", lang="sv")
    assert resp.status_code == 200, resp.text
    assert 'filename="charges-pieni-2026-11-aa-sv.pdf"' in resp.headers["content-disposition"]
    reader = PdfReader(io.BytesIO(resp.content))
    text = " ".join(p.extract_text() for p in reader.pages)
    assert "Användningsbaserad debitering november 2026" in text
    assert "UTKAST - INTE EN FAKTURA" in text
    assert "Agency B" not in text  # an agency's statement names no other agency
    uris = [a.get_object()["/A"]["/URI"] for p in reader.pages for a in p.get("/Annots", [])]
    assert (
        "http://testserver/v1/sites/pieni/utilisation?month=2026-11&source=raw&by=space&format=csv"
        in uris
    )


def test_csv_follows_the_language_or_rfc4180(stmt_api: Api) -> None:
    fi = stmt_api.get(URL, "finance", format="csv")
    assert fi.status_code == 200
    assert fi.content.startswith("\ufeffsite;month;agency;line;".encode())
    plain = stmt_api.get(URL, "finance", format="csv", csv_dialect="rfc4180")
    assert plain.content.startswith(b"site,month,agency,line,")
    en = stmt_api.get(URL, "finance", format="csv", lang="en")
    assert en.content.startswith("\ufeffsite,month,agency,line,".encode())


@pytest.mark.parametrize(
    ("params", "field"), [({"lang": "de"}, "lang"), ({"csv_dialect": "excel"}, "csv_dialect")]
)
def test_unknown_options_are_refused(stmt_api: Api, params: dict[str, str], field: str) -> None:
    resp = stmt_api.get(URL, "finance", format="pdf", **params)
    assert resp.status_code == 422
    assert field in resp.text
