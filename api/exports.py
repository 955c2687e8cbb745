"""Every report in JSON, CSV, XLSX or Parquet, from one DataFrame."""

from __future__ import annotations

import io
import math
from enum import StrEnum
from typing import Any

import pandas as pd
from fastapi.responses import JSONResponse, Response


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"
    PARQUET = "parquet"


MEDIA = {
    ReportFormat.CSV: "text/csv; charset=utf-8",
    ReportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ReportFormat.PARQUET: "application/vnd.apache.parquet",
}


def _plain(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if value is pd.NaT:
        return None
    if hasattr(value, "item"):  # numpy scalar
        return _plain(value.item())
    return value


def _for_files(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            # spreadsheets cannot hold time zones; UTC is stated in the column name
            out[col] = out[col].dt.tz_convert("UTC").dt.tz_localize(None)
            out = out.rename(columns={col: f"{col}_utc"})
    return out


def respond(frame: pd.DataFrame, fmt: ReportFormat, *, name: str, meta: dict[str, Any]) -> Response:
    if fmt is ReportFormat.JSON:
        rows = [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]
        return JSONResponse({"meta": meta, "rows": rows})
    data = _for_files(frame)
    buf = io.BytesIO()
    if fmt is ReportFormat.CSV:
        buf.write(data.to_csv(index=False).encode("utf-8"))
    elif fmt is ReportFormat.XLSX:
        with pd.ExcelWriter(buf, engine="openpyxl") as writer:
            data.to_excel(writer, index=False, sheet_name=name[:31])
    else:
        data.to_parquet(buf, index=False)
    return Response(
        buf.getvalue(),
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt.value}"'},
    )
