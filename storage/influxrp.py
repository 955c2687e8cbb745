"""Raw retention on InfluxDB 1.x: the retention policy the raw measurements
live in (docs/storage.md, "Raw retention").

With ``raw_retention_days`` set, presence and agent-status points are written
to the policy ``RAW_RETENTION_POLICY`` and everything else (summaries, marks,
rollups, charges) to the main one, which keeps it. InfluxDB expires a policy's
data by whole shard groups: a group is dropped once its end is older than the
policy's duration, so a point lives at least the duration and at most the
duration plus one shard group (here a day), plus the retention service's check
interval (30 minutes by default).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from storage.base import RAW_RETENTION_POLICY, StoreError, StoreUnavailable

if TYPE_CHECKING:
    from storage.influx import InfluxStore

log = logging.getLogger(__name__)

# The raw policy keeps points this many days longer than raw_retention_days: a
# local day is up to 25 h long and not aligned with the UTC shard groups, and
# the first kept day starts from the state its spaces were in before it (the
# last point before it), so that much must survive the expiry too.
RAW_MARGIN_DAYS = 2
# Expiry drops whole shard groups: one a day keeps the excess to a day.
RAW_SHARD_DURATION = "1d"
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "h": 3600.0, "m": 60.0, "s": 1.0}


def raw_policy_hours(raw_retention_days: int) -> int:
    """The DURATION (hours) of the raw points' retention policy."""
    return (raw_retention_days + RAW_MARGIN_DAYS) * 24


def go_duration_s(text: str) -> float:
    """Seconds of a duration as InfluxDB shows it (``72h0m0s``; ``0s`` is infinite)."""
    total, number, i = 0.0, "", 0
    while i < len(text):
        if text[i].isdigit() or text[i] == ".":
            number += text[i]
            i += 1
            continue
        unit = next((u for u in _UNITS if text.startswith(u, i)), None)
        if unit is None or not number:
            raise ValueError(f"not an InfluxDB duration: {text!r}")
        total += float(number) * _UNITS[unit]
        number, i = "", i + len(unit)
    if number:
        raise ValueError(f"not an InfluxDB duration: {text!r}")
    return total


def parse_policies(results: Iterable[dict[str, Any]]) -> dict[str, tuple[float, float]]:
    """``SHOW RETENTION POLICIES`` results as name -> (duration, shard group
    duration) in seconds."""
    out = {}
    for result in results:
        for series in result.get("series", []):
            cols = series.get("columns", [])
            for row in series.get("values", []):
                item = dict(zip(cols, row, strict=False))
                out[str(item["name"])] = (
                    go_duration_s(str(item.get("duration") or "0s")),
                    go_duration_s(str(item.get("shardGroupDuration") or "0s")),
                )
    return out


def resolve_raw_policy(store: InfluxStore, *, may_create: bool) -> str | None:
    """The policy raw points are written to and read from, or None (the main one).

    It is ``RAW_RETENTION_POLICY`` when ``raw_retention_days`` is set (created,
    or altered to that duration, when the store may create) or when that
    policy exists: a process not given the setting (a one-off command) still
    reads and writes the raw points where they are. ``may_create`` false (the
    database is managed outside: ``create_database`` off, or a 2.x/3.x server
    that refused to create it): nothing is created, and without the setting
    nothing is looked for. Points written before the policy existed stay in
    the main policy and are read from there too."""
    from storage.influx import quote_ident

    days = store.raw_retention_days
    if days is None and not may_create:
        # a database managed outside (2.x/3.x buckets): no policies looked for
        return None
    try:
        existing: dict[str, tuple[float, float]] | None = store.retention_policies()
    except StoreUnavailable:
        raise
    except StoreError as exc:  # 2.x/3.x may not list policies: a mapped bucket then
        log.debug("could not list the retention policies of %r: %s", store.database, exc)
        existing = None
    if days is None:
        return RAW_RETENTION_POLICY if existing and RAW_RETENTION_POLICY in existing else None
    if existing is None:  # cannot tell: a 2.x/3.x bucket mapped to it is assumed (docs)
        return RAW_RETENTION_POLICY
    hours = raw_policy_hours(days)
    current = existing.get(RAW_RETENTION_POLICY)
    if current is not None and current[0] == hours * 3600:
        return RAW_RETENTION_POLICY
    verb = "CREATE" if current is None else "ALTER"
    statement = (
        f"{verb} RETENTION POLICY {quote_ident(RAW_RETENTION_POLICY)} ON "
        f"{quote_ident(store.database)} DURATION {hours}h REPLICATION 1 "
        f"SHARD DURATION {RAW_SHARD_DURATION}"
    )
    if may_create:
        _apply(store, statement, verb, days)
    elif current is None:
        raise StoreError(
            f"raw_retention_days={days} needs the retention policy "
            f"{RAW_RETENTION_POLICY!r} in {store.database!r}, which is missing, and the "
            f"store may not create it (create_database is off): run {statement} "
            "(2.x/3.x: map a bucket as that retention policy; docs/deployment.md, "
            "'Raw retention')"
        )
    else:
        log.warning(
            "retention policy %r keeps %g h, not the %d h raw_retention_days=%d asks for: %s",
            RAW_RETENTION_POLICY,
            current[0] / 3600,
            hours,
            days,
            statement,
        )
    return RAW_RETENTION_POLICY


def _apply(store: InfluxStore, statement: str, verb: str, days: int) -> None:
    try:
        store.execute(statement)
    except StoreUnavailable:
        raise
    except StoreError as exc:
        raise StoreError(
            f"could not {verb.lower()} the retention policy {RAW_RETENTION_POLICY!r} that "
            f"raw_retention_days={days} needs ({exc}); have an admin run {statement} "
            "(docs/storage.md, 'Raw retention'), or unset raw_retention_days"
        ) from exc
    log.info("raw points' retention policy %s: %s", RAW_RETENTION_POLICY, statement)


__all__ = [
    "RAW_MARGIN_DAYS",
    "RAW_SHARD_DURATION",
    "go_duration_s",
    "parse_policies",
    "raw_policy_hours",
    "resolve_raw_policy",
]
