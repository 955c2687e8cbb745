"""Time helpers: every timestamp in the contract is timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_ns(ts: datetime) -> int:
    """Nanoseconds since the epoch, exact (no float rounding)."""
    if ts.tzinfo is None:
        raise ValueError("naive datetime: contract timestamps must carry a time zone")
    delta = ts - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def from_ns(ns: int) -> datetime:
    seconds, rest = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest // 1_000)


def _require_aware(ts: datetime) -> datetime:
    # A naive time would be ambiguous: the sensor's clock, the server's, or local?
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError(
            "a time must carry a time zone (UTC, e.g. '2026-01-05T08:00:00Z', "
            "or an offset, e.g. '+02:00')"
        )
    return ts.astimezone(UTC)


#: A pydantic field type: a timezone-aware time, normalised to UTC.
UtcDatetime = Annotated[datetime, AfterValidator(_require_aware)]
