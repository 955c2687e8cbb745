"""Time helpers: every timestamp in the contract is timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime


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
