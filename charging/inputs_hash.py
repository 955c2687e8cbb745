"""The inputs hash: sha256 over a canonical text of everything a month's
charges depend on (docs/charging.md, "Audit trail")."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pandas as pd

from charging.attribution import to_ns
from charging.bookings import Booking
from charging.tariff import TariffVersion
from core.registry import Site

#: version of the canonical serialisation hashed into ``inputs_hash``
HASH_SCHEME = "occupancy-charges/1"


def hash_inputs(
    *,
    site: Site,
    month: str,
    intervals: pd.DataFrame,
    bookings: Iterable[Booking],
    tariff_name: str,
    version: TariffVersion,
    until: datetime | None = None,
) -> str:
    """sha256 over a canonical text of everything a charge depends on.

    The text (docs/charging.md, "Audit trail"): a JSON header line (scheme, site,
    month, registry version, tariff name and version content), then one line per
    interval ``space<TAB>start_ns<TAB>end_ns<TAB>state`` sorted, then one JSON
    line per booking (id, space, agency, start and end in UTC ns) sorted by id.
    """
    h = hashlib.sha256()
    header: dict[str, Any] = {
        "scheme": HASH_SCHEME,
        "site": site.id,
        "month": month,
        "registry_version": site.version,
        "tariff_name": tariff_name,
        "tariff": json.loads(version.canonical()),
    }
    if until is not None:  # a provisional month; whole months hash as before
        header["until"] = until.isoformat()
    h.update(json.dumps(header, sort_keys=True, separators=(",", ":")).encode() + b"\n")
    if len(intervals):
        df = pd.DataFrame(
            {
                "space": intervals["space"].astype(str).to_numpy(),
                "s": to_ns(intervals["start"]),
                "e": to_ns(intervals["end"]),
                "state": intervals["state"].astype(str).to_numpy(),
            }
        ).sort_values(["space", "s", "e", "state"], kind="stable")
        text = "".join(
            f"{sp}\t{s}\t{e}\t{st}\n"
            for sp, s, e, st in zip(df["space"], df["s"], df["e"], df["state"], strict=True)
        )
        h.update(text.encode())
    for b in sorted(bookings, key=lambda b: b.id):
        row = {
            "id": b.id,
            "space": b.space,
            "agency": b.agency,
            "start_ns": int(pd.Timestamp(b.start).value),
            "end_ns": int(pd.Timestamp(b.end).value),
        }
        h.update(json.dumps(row, sort_keys=True, separators=(",", ":")).encode() + b"\n")
    return h.hexdigest()
