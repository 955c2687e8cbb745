"""Query arguments, checked the same way by both stores: time bounds in exact
nanoseconds and tag filters as lists of strings."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from core.timeutil import to_ns as _datetime_to_ns


def to_ns(when: datetime) -> int:
    """Nanoseconds since the epoch, exact for ``datetime`` and ``pandas.Timestamp``.
    Naive times are refused: a store's times are UTC, and a naive one would
    silently mean the machine's local zone to someone."""
    if when.tzinfo is None:
        raise ValueError(f"naive datetime {when!r}: give query bounds a time zone (UTC)")
    value = getattr(when, "value", None)  # pandas.Timestamp keeps its nanoseconds here
    if isinstance(value, int) and type(when).__module__.startswith("pandas"):
        return value
    return _datetime_to_ns(when)


def filter_values(key: str, wanted: str | Iterable[str]) -> list[str]:
    """The values a tag filter accepts: one string, or any of a list (deduplicated,
    in order). An empty list accepts nothing."""
    if isinstance(wanted, str):
        return [wanted]
    if not isinstance(wanted, Iterable):
        raise TypeError(f"tag filter {key!r}: give a string or a list of strings, not {wanted!r}")
    values = list(dict.fromkeys(wanted))
    for v in values:
        if not isinstance(v, str):
            raise TypeError(f"tag filter {key!r}: values must be strings, not {v!r}")
    return values
