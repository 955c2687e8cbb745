"""``InfluxStore``: InfluxDB through the HTTP API every generation serves
(DESIGN.md, "Storage"): line protocol on ``/write``, InfluxQL on ``/query``.

1.x serves these natively; 2.x and 3.x Core through their v1 compatibility API
(token auth, a bucket or database mapped to the ``db`` parameter). Nothing here
uses ``/api/v2``.

Failures are split by what the caller should do: ``StoreUnavailable`` (no
connection, timeout, 5xx, 429) means "keep the data and retry later";
``StoreError`` means "retrying will not help" and carries InfluxDB's own words;
``PartialWriteError`` names exactly which points were refused, so they can be
dead-lettered while the rest count as written.
"""

from __future__ import annotations

import gzip
import json
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx

from storage.base import (
    RAW_MEASUREMENTS,
    RAW_RETENTION_POLICY,
    PartialWriteError,
    Point,
    RejectedPoint,
    Store,
    StoreError,
    StoreUnavailable,
    TagFilter,
)
from storage.lineprotocol import LineProtocolError, encode_point
from storage.query import filter_values, to_ns

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from storage.columns import FieldColumn, TagColumn

log = logging.getLogger(__name__)

# Uncompressed bytes per /write request. Far below the servers' limits (1.x:
# 25 MB, 3.x: 10 MiB); a 413 anyway makes the request split in two.
DEFAULT_CHUNK_BYTES = 4_000_000
QUERY_CHUNK_ROWS = 10_000
# Rows turned into line protocol at a time by ``write_columns`` (bounds memory:
# ~200 bytes a line).
COLUMN_BLOCK_ROWS = 250_000
_GET_LIMIT = 4_000  # longer queries go in a POST body, away from URL limits


def quote_ident(name: str) -> str:
    """An InfluxQL identifier, double-quoted: any name works, keywords included."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def quote_string(value: str) -> str:
    """An InfluxQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


def tag_conditions(where: TagFilter | None) -> list[str] | None:
    """InfluxQL conditions for a tag filter; ``None`` when it can match nothing
    (a key given an empty list of values)."""
    conditions = []
    for key, wanted in (where or {}).items():
        values = filter_values(key, wanted)
        if not values:
            return None
        ident = quote_ident(key)
        alternatives = [f"{ident} = {quote_string(v)}" for v in values]
        conditions.append(
            alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")"
        )
    return conditions


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip() or response.reason_phrase
    if isinstance(body, dict):
        for key in ("error", "message", "detail"):
            if body.get(key):
                return str(body[key])
    return response.text.strip()


class InfluxStore(Store):
    def __init__(
        self,
        url: str,
        *,
        database: str = "occupancy",
        retention_policy: str | None = None,
        retention_duration: str = "INF",
        raw_retention_days: int | None = None,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        create_database: bool = True,
        timeout_s: float = 10.0,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"InfluxDB URL must start with http:// or https://, got {url!r}")
        if token and (username or password):
            raise ValueError("give InfluxDB either a token or a username and password, not both")
        self.url = url.rstrip("/")
        self.database = database
        self.retention_policy = retention_policy or None
        self.retention_duration = retention_duration
        if retention_policy == RAW_RETENTION_POLICY:
            raise ValueError(f"retention policy {RAW_RETENTION_POLICY!r} is the raw points' own")
        self.raw_retention_days = raw_retention_days
        # the policy raw points are written to and read from besides the main one:
        # known once the store is ready (``_resolve_raw_policy``)
        self._raw_rp: str | None = None
        self.create_database = create_database
        self.chunk_bytes = chunk_bytes
        headers = {"User-Agent": "occupancy-platform-storage"}
        auth: httpx.BasicAuth | None = None
        if token:
            headers["Authorization"] = f"Token {token}"
        elif username:
            auth = httpx.BasicAuth(username, password or "")
        self._client = httpx.Client(
            base_url=self.url,
            headers=headers,
            auth=auth,
            timeout=httpx.Timeout(timeout_s),
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
            transport=transport,
        )
        self._ready = False
        self._ready_lock = threading.Lock()

    # -- transport -----------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request, mapped to the store's exceptions for transport failures
        and 5xx. A request that fails on a pooled connection the server has
        since closed is sent once more: every request here is idempotent."""
        for attempt in (1, 2):
            try:
                response = self._client.request(method, path, **kwargs)
            except httpx.TimeoutException as exc:
                raise StoreUnavailable(f"InfluxDB at {self.url} timed out: {exc!r}") from exc
            except httpx.TransportError as exc:
                if attempt == 1 and not isinstance(exc, httpx.ConnectError):
                    continue
                raise StoreUnavailable(f"InfluxDB at {self.url} is unreachable: {exc}") from exc
            if response.status_code >= 500 or response.status_code == 429:
                raise StoreUnavailable(
                    f"InfluxDB at {self.url} answered {response.status_code}: "
                    f"{_error_text(response)}"
                )
            if response.status_code in (401, 403):
                raise StoreError(
                    f"InfluxDB authentication failed ({response.status_code}: "
                    f"{_error_text(response)}); check the username and password or the token"
                )
            return response
        raise AssertionError("unreachable")

    def _params(self, rp: str | None = None, **extra: str) -> dict[str, str]:
        params = {"db": self.database}
        if rp or self.retention_policy:
            params["rp"] = rp or self.retention_policy or ""
        params.update(extra)
        return params

    def _policy_of(self, measurement: str) -> str | None:
        """The retention policy a measurement's points are written to (None: the main one)."""
        return self._raw_rp if measurement in RAW_MEASUREMENTS else None

    def _statements(self, q: str, *, write: bool = False) -> Iterator[dict[str, Any]]:
        """Run InfluxQL; yield each statement result (chunked results arrive as
        several). Errors inside a result raise ``StoreError``."""
        params = self._params(epoch="ns")
        if not write:
            params.update(chunked="true", chunk_size=str(QUERY_CHUNK_ROWS))
        if write or len(q) > _GET_LIMIT:
            response = self._send("POST", "/query", params=params, data={"q": q})
        else:
            response = self._send("GET", "/query", params={**params, "q": q})
        if response.status_code >= 400:
            raise StoreError(
                f"InfluxDB refused the query ({response.status_code}): "
                f"{_error_text(response)}; query: {q}"
            )
        for document in _json_documents(response.text):
            if document.get("error"):
                raise StoreError(f"InfluxDB: {document['error']}; query: {q}")
            for result in document.get("results", []):
                if result.get("error"):
                    raise StoreError(f"InfluxDB: {result['error']}; query: {q}")
                yield result

    def _ensure_ready(self) -> None:
        """Create the database (and retention policies) once, when allowed, and
        find the raw points' policy. InfluxDB 2.x and 3.x map buckets to
        databases and may refuse: that is tolerated, and a missing database then
        shows in the first write's error."""
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            may_create = self.create_database
            if self.create_database:
                try:
                    list(
                        self._statements(
                            f"CREATE DATABASE {quote_ident(self.database)}", write=True
                        )
                    )
                    if self.retention_policy:
                        self._ensure_retention_policy()
                except StoreUnavailable:
                    raise
                except StoreError as exc:
                    log.warning("could not create InfluxDB database %r: %s", self.database, exc)
                    may_create = False
            self._raw_rp = self._resolve_raw_policy(may_create)
            self._ready = True

    def execute(self, statement: str) -> list[dict[str, Any]]:
        """Run an InfluxQL statement that changes something (POST); its results."""
        return list(self._statements(statement, write=True))

    def retention_policies(self) -> dict[str, tuple[float, float]]:
        """The database's retention policies: name -> (duration, shard group
        duration) in seconds (0: infinite)."""
        from storage.influxrp import parse_policies

        shown = f"SHOW RETENTION POLICIES ON {quote_ident(self.database)}"
        return parse_policies(self._statements(shown))

    def _resolve_raw_policy(self, may_create: bool) -> str | None:
        from storage.influxrp import resolve_raw_policy

        return resolve_raw_policy(self, may_create=may_create)

    @property
    def expires_raw(self) -> bool:
        self._ensure_ready()
        return self._raw_rp is not None

    def _ensure_retention_policy(self) -> None:
        assert self.retention_policy
        shown = f"SHOW RETENTION POLICIES ON {quote_ident(self.database)}"
        existing = {
            row[0]
            for result in self._statements(shown)
            for series in result.get("series", [])
            for row in series.get("values", [])
        }
        if self.retention_policy not in existing:
            list(
                self._statements(
                    f"CREATE RETENTION POLICY {quote_ident(self.retention_policy)} "
                    f"ON {quote_ident(self.database)} DURATION {self.retention_duration} "
                    "REPLICATION 1",
                    write=True,
                )
            )

    def _source(self, measurement: str) -> str:
        """The FROM of a measurement: a raw one is read from its own policy and
        the main one (its points from before raw retention), merged by InfluxQL."""
        self._ensure_ready()
        main = quote_ident(measurement)
        if self.retention_policy:
            main = f"{quote_ident(self.retention_policy)}.{main}"
        raw = self._policy_of(measurement)
        return f"{quote_ident(raw)}.{quote_ident(measurement)}, {main}" if raw else main

    # -- Store ---------------------------------------------------------------

    def ping(self) -> None:
        response = self._send("GET", "/ping")
        if response.status_code >= 300:
            raise StoreUnavailable(
                f"InfluxDB at {self.url} answered /ping with {response.status_code}"
            )

    def write(self, points: Sequence[Point]) -> None:
        rejected: list[RejectedPoint] = []
        encoded: list[tuple[str, Point]] = []
        for point in points:
            try:
                encoded.append((encode_point(point), point))
            except LineProtocolError as exc:
                rejected.append(RejectedPoint(point, str(exc)))
        if encoded:
            self._ensure_ready()
        # a request goes to one retention policy: the raw points may have their own
        by_policy: dict[str | None, list[tuple[str, Point]]] = {}
        for line, point in encoded:
            by_policy.setdefault(self._policy_of(point.measurement), []).append((line, point))
        for rp, lines in by_policy.items():
            chunk: list[tuple[str, Point]] = []
            size = 0
            for line, point in lines:
                if chunk and size + len(line) + 1 > self.chunk_bytes:
                    rejected += self._write_lines(chunk, rp)
                    chunk, size = [], 0
                chunk.append((line, point))
                size += len(line) + 1
            if chunk:
                rejected += self._write_lines(chunk, rp)
        if rejected:
            raise PartialWriteError(rejected, written=len(points) - len(rejected))

    def write_columns(
        self,
        measurement: str,
        *,
        time_ns: Sequence[int] | np.ndarray,
        tags: Mapping[str, TagColumn],
        fields: Mapping[str, FieldColumn],
    ) -> None:
        """``write`` of the columns' points without a ``Point`` per row: line
        protocol built on whole columns (each tag set escaped once), sent in
        gzip-compressed requests of ``chunk_bytes``. A request InfluxDB refuses
        is sent again as points, so the refused ones are pinned down as ``write``
        pins them down."""
        import numpy as np

        from storage.columns import Columns, Unsupported

        try:
            cols = Columns(measurement, time_ns=time_ns, tags=tags, fields=fields)
        except Unsupported:
            super().write_columns(measurement, time_ns=time_ns, tags=tags, fields=fields)
            return
        if cols.n == 0:
            return
        invalid = cols.invalid_rows()
        ok = np.ones(cols.n, bool)
        ok[list(invalid)] = False
        rows = np.flatnonzero(ok)
        rejected = [RejectedPoint(cols.point(i), why, i) for i, why in invalid.items()]
        if len(rows):
            self._ensure_ready()
        rp = self._policy_of(measurement)
        for a in range(0, len(rows), COLUMN_BLOCK_ROWS):
            block = rows[a : a + COLUMN_BLOCK_ROWS]
            data, offsets = cols.line_protocol(block)
            start = 0
            while start < len(block):
                limit = offsets[start] + self.chunk_bytes
                end = max(start + 1, int(np.searchsorted(offsets, limit, side="right")) - 1)
                end = min(end, len(block))
                body = bytes(data[int(offsets[start]) : int(offsets[end])])
                if self._post_lines(body, rp) is not None:
                    lines = []
                    for i in block[start:end].tolist():
                        point = cols.point(i)
                        lines.append((encode_point(point), point))
                    row_of = {
                        id(p): i for i, (_, p) in zip(block[start:end].tolist(), lines, strict=True)
                    }
                    rejected += [
                        RejectedPoint(r.point, r.reason, row_of[id(r.point)])
                        for r in self._write_lines(lines, rp)
                    ]
                start = end
        if rejected:
            raise PartialWriteError(rejected, written=cols.n - len(rejected))

    def _post_lines(self, body: bytes, rp: str | None = None) -> str | None:
        """POST newline-terminated lines; None when stored, else InfluxDB's reason
        for refusing points of them (400, 413, 422). Other failures raise."""
        response = self._send(
            "POST",
            "/write",
            params=self._params(rp, precision="ns"),
            content=gzip.compress(body, compresslevel=1),
            headers={"Content-Encoding": "gzip", "Content-Type": "text/plain; charset=utf-8"},
        )
        status = response.status_code
        if status < 300:
            return None
        reason = _error_text(response)
        if status == 404:
            raise StoreError(
                f"InfluxDB: {reason} (create it, or let the store create it: create_database)"
            )
        if status not in (400, 413, 422):
            raise StoreError(f"InfluxDB refused the write ({status}): {reason}")
        return f"InfluxDB ({status}): {reason}"

    def _write_lines(
        self, lines: list[tuple[str, Point]], rp: str | None = None
    ) -> list[RejectedPoint]:
        """Write lines; return the points InfluxDB refused. InfluxDB stores the
        good lines of a request and drops the bad ones without saying which, so
        a refused request is split in halves and re-sent until every refused
        point is pinned down (writes are idempotent by point identity)."""
        body = ("\n".join(line for line, _ in lines) + "\n").encode("utf-8")
        refusal = self._post_lines(body, rp)
        if refusal is None:
            return []
        if len(lines) == 1:
            return [RejectedPoint(lines[0][1], refusal)]
        half = len(lines) // 2
        return self._write_lines(lines[:half], rp) + self._write_lines(lines[half:], rp)

    def _fetch(
        self, statement: str | None, measurement: str
    ) -> tuple[dict[str, str | None], list[str], list[tuple[dict[str, str], dict[str, Any]]]]:
        """The measurement's field types and tag keys, and the statement's series
        (tags, columns/values), in one round trip."""
        src = self._source(measurement)
        q = f"SHOW FIELD KEYS FROM {src}; SHOW TAG KEYS FROM {src}"
        if statement:
            q += f"; {statement}"
        self._ensure_ready()
        field_types: dict[str, str | None] = {}
        tag_keys: list[str] = []
        series: list[tuple[dict[str, str], dict[str, Any]]] = []
        for result in self._statements(q):
            sid = result.get("statement_id", 0)
            for s in result.get("series", []):
                if sid == 0:
                    for key, kind in s.get("values", []):
                        field_types[key] = _merge_types(field_types.get(key, kind), kind)
                elif sid == 1:
                    tag_keys += [row[0] for row in s.get("values", [])]
                else:
                    series.append((s.get("tags") or {}, s))
        return field_types, tag_keys, series

    def _frame(
        self,
        field_types: dict[str, str | None],
        tag_keys: list[str],
        series: list[tuple[dict[str, str], dict[str, Any]]],
        fields: Sequence[str] | None,
    ) -> pd.DataFrame:
        from storage.frames import build_frame

        wanted = list(fields) if fields is not None else list(field_types)
        types = {k: field_types.get(k) for k in wanted}
        tags = [k for k in tag_keys if k not in types]
        times: list[int] = []
        tag_cols: dict[str, list[str | None]] = {k: [] for k in tags}
        field_cols: dict[str, list[Any]] = {k: [] for k in wanted}
        for series_tags, s in series:
            rows = s.get("values") or []
            if not rows:
                continue
            position = {c: i for i, c in enumerate(s["columns"])}
            t = position["time"]
            times += [row[t] for row in rows]
            for cols, keys in ((tag_cols, tags), (field_cols, wanted)):
                for key in keys:
                    if key in position:
                        i = position[key]
                        cols[key] += [row[i] for row in rows]
                    else:
                        value = series_tags.get(key) or None
                        cols[key] += [value] * len(rows)
        return build_frame(times=times, tags=tag_cols, fields=field_cols, field_types=types)

    def read(
        self,
        measurement: str,
        *,
        start: datetime,
        end: datetime,
        where: TagFilter | None = None,
        fields: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        conditions = tag_conditions(where)
        if conditions is None or (fields is not None and not fields):
            return self._frame(*self._fetch(None, measurement), fields)
        selection = "*" if fields is None else ",".join(map(quote_ident, fields)) + ",*::tag"
        statement = (
            f"SELECT {selection} FROM {self._source(measurement)} "
            f"WHERE time >= {to_ns(start)} AND time < {to_ns(end)}"
            + "".join(f" AND {c}" for c in conditions)
        )
        return self._frame(*self._fetch(statement, measurement), fields)

    def last(
        self,
        measurement: str,
        *,
        by: str,
        before: datetime | None = None,
        where: TagFilter | None = None,
    ) -> pd.DataFrame:
        conditions = tag_conditions(where)
        if conditions is None:
            return self._frame(*self._fetch(None, measurement), None)
        if before is not None:
            conditions.append(f"time < {to_ns(before)}")
        statement = f"SELECT * FROM {self._source(measurement)}"
        if conditions:
            statement += " WHERE " + " AND ".join(conditions)
        statement += f" GROUP BY {quote_ident(by)} ORDER BY time DESC LIMIT 1"
        field_types, tag_keys, series = self._fetch(statement, measurement)
        # A series without the tag forms a group of its own (value ""): not a value of it.
        series = [(t, s) for t, s in series if t.get(by)]
        return self._frame(field_types, tag_keys, series, None)

    def count(self, measurement: str, *, where: TagFilter | None = None) -> int:
        conditions = tag_conditions(where)
        if conditions is None:
            return 0
        # COUNT() counts values per field, not points: a point lacking a field
        # would go uncounted, one with two fields counted twice. Rows of a raw
        # select are points, so they are counted instead (fields only, grouped
        # by series, so that tags travel once per series, not once per row).
        statement = f"SELECT *::field FROM {self._source(measurement)}"
        if conditions:
            statement += " WHERE " + " AND ".join(conditions)
        statement += " GROUP BY *"
        return sum(
            len(s.get("values") or [])
            for result in self._statements(statement)
            for s in result.get("series", [])
        )

    def drop_database(self) -> None:
        """Delete the whole database (tests and tear-down only)."""
        list(self._statements(f"DROP DATABASE {quote_ident(self.database)}", write=True))
        self._ready = False

    def close(self) -> None:
        self._client.close()


def _merge_types(a: str | None, b: str | None) -> str | None:
    """InfluxDB 1.x fixes a field's type per shard, so one name can have several
    over time: integers and floats read as floats, anything else as mixed."""
    if a == b:
        return a
    return "float" if {a, b} <= {"float", "integer"} else None


def _json_documents(text: str) -> Iterator[dict[str, Any]]:
    """The JSON objects of a response: one, or one per chunk (newline-separated)."""
    decoder = json.JSONDecoder()
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        try:
            document, i = decoder.raw_decode(text, i)
        except ValueError as exc:
            raise StoreError(f"InfluxDB sent a response that is not JSON: {text[:200]!r}") from exc
        if isinstance(document, dict):
            yield document
