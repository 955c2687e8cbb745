"""The one shape both stores give their answers in (the ``Store`` docstring):
a ``time`` column of dtype ``datetime64[ns, UTC]``, then the measurement's tag
keys, then its field keys (each group sorted by name), rows sorted by time (ties
by tags, so both stores order them alike).

Column dtypes follow the field's stored type, so that a value reads back as it
was written:

=========  ======================  ===============================
type       every row has a value   some rows lack it
=========  ======================  ===============================
float      float64                 float64, NaN
integer    int64                   float64, NaN (exact to 2**53)
boolean    bool                    object, None
string     str                     str, NaN
tag        str                     str, NaN
=========  ======================  ===============================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

FLOAT, INTEGER, BOOLEAN, STRING = "float", "integer", "boolean", "string"
FIELD_TYPES = (FLOAT, INTEGER, BOOLEAN, STRING)


def _time_index(times: Sequence[int] | np.ndarray) -> pd.DatetimeIndex:
    ns = np.asarray(times, dtype="int64").view("datetime64[ns]")
    return pd.DatetimeIndex(ns).tz_localize("UTC")


def _field_column(values: list[Any], kind: str | None) -> Any:
    has_missing = None in values
    if kind == FLOAT:
        return np.array([np.nan if v is None else v for v in values], dtype="float64")
    if kind == INTEGER:
        if has_missing:
            return np.array([np.nan if v is None else v for v in values], dtype="float64")
        return np.array(values, dtype="int64")
    if kind == BOOLEAN:
        if has_missing:
            return np.array([None if v is None else bool(v) for v in values], dtype=object)
        return np.array([bool(v) for v in values], dtype=bool)
    if kind == STRING:
        return pd.array(values, dtype="str")
    return pd.array(values) if values else np.array([], dtype=object)


def empty_frame(
    tag_keys: Sequence[str] = (), field_types: Mapping[str, str | None] | None = None
) -> pd.DataFrame:
    return build_frame(
        times=[],
        tags={k: [] for k in tag_keys},
        fields={k: [] for k in (field_types or {})},
        field_types=field_types or {},
    )


def build_frame(
    *,
    times: Sequence[int] | np.ndarray,
    tags: Mapping[str, list[str | None]],
    fields: Mapping[str, list[Any]],
    field_types: Mapping[str, str | None],
) -> pd.DataFrame:
    """Columns of equal length in, the documented frame out."""
    data: dict[str, Any] = {"time": _time_index(times)}
    tag_names = sorted(tags)
    for key in tag_names:
        data[key] = pd.array(tags[key], dtype="str")
    for key in sorted(fields):
        if key in data:  # a tag and a field of one name: the tag keeps it
            continue
        data[key] = _field_column(fields[key], field_types.get(key))
    frame = pd.DataFrame(data)
    if len(frame) > 1:
        frame = frame.sort_values(["time", *tag_names], kind="stable", na_position="first")
        frame = frame.reset_index(drop=True)
    return frame


def frame_from_columns(
    *,
    times: np.ndarray,
    tags: Mapping[str, np.ndarray],
    fields: Mapping[str, tuple[np.ndarray, np.ndarray]],
    field_types: Mapping[str, str | None],
) -> pd.DataFrame:
    """``build_frame`` for numpy columns given in the documented row order: each
    field as (values, present), the values anything where not present; a tag
    column may be an Arrow string array. Same dtypes."""
    data: dict[str, Any] = {"time": _time_index(times)}
    tag_names = sorted(tags)
    for key in tag_names:
        data[key] = pd.array(tags[key], dtype="str")
    for key in sorted(fields):
        if key in data:
            continue
        values, present = fields[key]
        kind = field_types.get(key)
        full = bool(present.all())
        if kind == FLOAT or (kind == INTEGER and not full):
            column: Any = np.where(present, values, np.nan).astype("float64")
        elif kind in (INTEGER, BOOLEAN) and full:
            column = values.astype("int64" if kind == INTEGER else bool)
        elif kind == BOOLEAN:
            column = values.astype(bool).astype(object)
            column[~present] = None
        elif kind == STRING:
            strings = values.astype(object)  # a copy: absent rows become None
            strings[~present] = None
            column = pd.array(strings, dtype="str")
        else:
            column = _field_column([None] * len(times), None)
        data[key] = column
    return pd.DataFrame(data)
