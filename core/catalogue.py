"""A table of printed texts in Finnish, Swedish and English, and the lookups
every renderer needs of it.

Each report keeps its own table (charging/statements/messages.py,
api/agency_report/messages.py); this is the one type both wrap, in ``core``
because the charging package must not depend on ``api``.
"""

from __future__ import annotations

from collections.abc import Mapping

LANGS = ("fi", "sv", "en")

#: One message in every language, in ``LANGS`` order.
Texts = tuple[str, str, str]


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r} (use {', '.join(LANGS)})")
    return lang


class Catalogue:
    """Messages by key; placeholders are str.format fields."""

    def __init__(self, table: Mapping[str, Texts]) -> None:
        self._table = dict(table)

    def t(self, lang: str, key: str, **fields: object) -> str:
        """The message ``key`` in ``lang``, its placeholders filled from ``fields``."""
        text = self._table[key][LANGS.index(check_lang(lang))]
        return text.format(**fields) if fields else text

    def keys(self) -> list[str]:
        return list(self._table)

    def translations(self, key: str) -> Texts:
        """The message in every language, in ``LANGS`` order."""
        return self._table[key]
