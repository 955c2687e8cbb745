"""``ColumnarWrites``: a store whose ``write`` goes through ``write_columns``,
so that every contract test also runs the columnar path. Points become columns
the plain way (a Python object per value, ``None`` where a point lacks a field,
``""`` where it lacks a tag, which is the same series)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import groupby
from typing import Any

import numpy as np
import pandas as pd

from storage.base import PartialWriteError, Point, RejectedPoint, Store, TagFilter


def as_columns(points: Sequence[Point]) -> dict[str, Any]:
    """Keyword arguments of ``write_columns`` for points of one measurement."""
    tag_keys = list(dict.fromkeys(k for p in points for k in p.tags))
    field_keys = list(dict.fromkeys(k for p in points for k in p.fields))

    def column(values: list[Any]) -> np.ndarray:
        out = np.empty(len(values), object)
        out[:] = values
        return out

    return {
        "time_ns": np.array([p.time_ns for p in points], np.int64),
        "tags": {k: column([p.tags.get(k, "") for p in points]) for k in tag_keys},
        "fields": {k: column([p.fields.get(k) for p in points]) for k in field_keys},
    }


class ColumnarWrites(Store):
    def __init__(self, inner: Store) -> None:
        self.inner = inner

    def write(self, points: Sequence[Point]) -> None:
        rejected: list[RejectedPoint] = []
        for name, run in groupby(points, key=lambda p: p.measurement):
            batch = list(run)
            try:
                self.inner.write_columns(name, **as_columns(batch))
            except PartialWriteError as exc:
                for r in exc.rejected:
                    assert r.row is not None
                    rejected.append(RejectedPoint(batch[r.row], r.reason))
        if rejected:
            raise PartialWriteError(rejected, written=len(points) - len(rejected))

    def ping(self) -> None:
        self.inner.ping()

    def read(
        self,
        measurement: str,
        *,
        start: datetime,
        end: datetime,
        where: TagFilter | None = None,
        fields: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        return self.inner.read(measurement, start=start, end=end, where=where, fields=fields)

    def last(
        self,
        measurement: str,
        *,
        by: str,
        before: datetime | None = None,
        where: TagFilter | None = None,
    ) -> pd.DataFrame:
        return self.inner.last(measurement, by=by, before=before, where=where)

    def count(self, measurement: str, *, where: TagFilter | None = None) -> int:
        return self.inner.count(measurement, where=where)
