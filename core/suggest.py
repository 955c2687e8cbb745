""" "Did you mean …": the nearest known name for a misspelt key or id."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def nearest(word: str, known: Iterable[str]) -> str | None:
    """The known name closest to ``word``, if one is close enough to be a typo."""
    choices = [k for k in known if k != word]
    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.5)
    if not match:
        # a different case ("fi" for "FI") is a typo difflib scores low
        match = [k for k in choices if k.lower() == word.lower()][:1]
    return match[0] if match else None


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` or empty: ready to append to a message."""
    hit = nearest(word, known)
    return f" (did you mean {hit!r}?)" if hit else ""
