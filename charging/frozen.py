"""A month's charges as exact, self-contained JSON, and back.

Approval freezes a month: its statements must render the same bytes however
the data, the bookings or the tariff change afterwards. So the records keep
the computed ``MonthCharges`` itself, every ``Fraction`` exact and every
datetime with its offset, and statements of an approved month are rendered
from that copy, never recomputed (docs/charging.md, "Life cycle").
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from fractions import Fraction
from typing import Any

from charging.results import AgencySummary, ChargeLine, MonthCharges, NoShowRecord, SpaceUse
from charging.tariff import SitePricing
from charging.weekly import WeekUse

#: the classes a frozen month may hold, by name
_FROZEN = (AgencySummary, ChargeLine, MonthCharges, NoShowRecord, SpaceUse, WeekUse)
_CLASSES: dict[str, Any] = {c.__name__: c for c in _FROZEN}
SCHEME = "occupancy-frozen-month/1"


def _encode(value: Any) -> Any:
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, Fraction):
        return {"$q": f"{value.numerator}/{value.denominator}"}
    if isinstance(value, datetime):
        return {"$t": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, SitePricing):
        return {"$pricing": value.model_dump(mode="json")}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"$c": type(value).__name__, "f": fields}
    if isinstance(value, tuple | list):
        return {"$l": [_encode(v) for v in value]}
    if isinstance(value, dict):
        return {"$d": {str(k): _encode(v) for k, v in value.items()}}
    raise TypeError(f"cannot freeze a {type(value).__name__}")


def _decode(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if "$q" in value:
        return Fraction(value["$q"])
    if "$t" in value:
        return datetime.fromisoformat(value["$t"])
    if "$date" in value:
        return date.fromisoformat(value["$date"])
    if "$pricing" in value:
        return SitePricing.model_validate(value["$pricing"])
    if "$c" in value:
        return _CLASSES[value["$c"]](**{k: _decode(v) for k, v in value["f"].items()})
    if "$l" in value:
        return tuple(_decode(v) for v in value["$l"])
    if "$d" in value:
        return {k: _decode(v) for k, v in value["$d"].items()}
    raise ValueError(f"not a frozen value: {sorted(value)}")


def freeze(mc: MonthCharges) -> str:
    return json.dumps({"scheme": SCHEME, "month": _encode(mc)}, sort_keys=True)


def thaw(text: str) -> MonthCharges:
    doc = json.loads(text)
    if doc.get("scheme") != SCHEME:
        raise ValueError(f"frozen month of an unknown scheme {doc.get('scheme')!r}")
    mc = _decode(doc["month"])
    assert isinstance(mc, MonthCharges)
    return mc
