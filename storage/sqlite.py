"""``SQLiteStore``: the embedded default, one file in WAL mode, so the platform
runs on a fresh machine with no services installed.

It keeps InfluxDB's data model, so the contract tests hold for both stores:

* A point's identity is (measurement, tag set, time). Re-writing it merges the
  fields: a field given again is overwritten, the others are kept.
* A field's type is fixed by its first write; a point that changes it is
  refused (``PartialWriteError``), as InfluxDB does. Points line protocol could
  not carry are refused too (``storage.lineprotocol.check_point``).
* An empty tag value is no tag.

Layout: ``series`` holds each (measurement, tag set) once; every measurement has
its own table ``points_<id>`` keyed by (series, time), with one typed column per
field key (added as new keys appear). A query picks its series by tag in
Python (hundreds to tens of thousands of them, cached per process), then reads
each series' time range through the primary key: that is the index the API's
queries need, by site and time and "last per space".

Threads share one store (each gets its own connection); processes share the
file (WAL: readers never block the writer; writers queue on a 30 s busy
timeout). ``synchronous=FULL``: a committed write survives power loss, which is
what "durable" promises the ingest.
"""

from __future__ import annotations

from datetime import datetime

from storage.base import TagFilter
from storage.query import to_ns
from storage.sqlite_blocks import _FEW_SERIES
from storage.sqlite_reads import SQLiteReads
from storage.sqlite_schema import (
    BLOCK_ROWS,
    BUSY_TIMEOUT_S,
    SCHEMA_VERSION,
    _Measurement,
    field_type,
)
from storage.sqlite_writes import BULK_CACHE_KIB, BULK_ROWS, SQLiteWrites

# The store is put together from one module per part, named after what it
# holds: sqlite_schema (file, schema, connections), sqlite_writes,
# sqlite_blocks (column blocks), sqlite_reads, sqlite_columns (rows read as
# columns), sqlite_prune (raw retention).
__all__ = [
    "BLOCK_ROWS",
    "BULK_CACHE_KIB",
    "BULK_ROWS",
    "BUSY_TIMEOUT_S",
    "SCHEMA_VERSION",
    "_FEW_SERIES",
    "SQLiteStore",
    "_Measurement",
    "field_type",
]


class SQLiteStore(SQLiteReads, SQLiteWrites):
    def delete_points(
        self,
        measurement: str,
        *,
        start: datetime,
        end: datetime,
        where: TagFilter | None = None,
        batch_rows: int = 20_000,
    ) -> int:
        from storage.sqlite_prune import delete_points

        return delete_points(
            self,
            measurement,
            start_ns=to_ns(start),
            end_ns=to_ns(end),
            where=where,
            batch_rows=max(1, batch_rows),
        )
