"""The message catalogue both reports wrap (core/catalogue.py)."""

from __future__ import annotations

import pytest

from core.catalogue import LANGS, Catalogue

CAT = Catalogue(
    {
        "page": ("sivu {n} / {total}", "sida {n} / {total}", "page {n} / {total}"),
        "total": ("yhteensä", "totalt", "total"),
    }
)


def test_a_message_in_each_language_with_its_fields() -> None:
    assert LANGS == ("fi", "sv", "en")
    assert CAT.t("fi", "page", n=2, total=3) == "sivu 2 / 3"
    assert CAT.t("sv", "page", n=2, total=3) == "sida 2 / 3"
    assert CAT.t("en", "total") == "total"
    # no fields: the text as written, braces and all
    assert CAT.t("en", "page") == "page {n} / {total}"


def test_keys_and_translations_in_table_order() -> None:
    assert CAT.keys() == ["page", "total"]
    assert CAT.translations("total") == ("yhteensä", "totalt", "total")


def test_an_unknown_language_or_key_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown language 'de' \\(use fi, sv, en\\)"):
        CAT.t("de", "total")
    with pytest.raises(KeyError, match="nope"):
        CAT.t("fi", "nope")
