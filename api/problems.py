"""Errors as RFC 9457 ``application/problem+json``, always (issue 14).

- A bad parameter names itself.
- A long detail (a booking import with thousands of bad rows) is cut to
  ``MAX_DETAIL`` characters and says how much was left out, so an error never
  costs the client a megabyte; the whole text can be downloaded once, by the
  same key, from the ``report`` address the problem gives.
- An unexpected error answers 500 as problem+json with an ``id`` that is also
  in the log line of its traceback, so an operator can find one from the other.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import uuid
from collections import OrderedDict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import CurrentPrincipal

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"
MAX_DETAIL = 1000
MAX_ERRORS = 20
MAX_MSG = 200

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Invalid request",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def cap_detail(detail: str, limit: int = MAX_DETAIL) -> str:
    """``detail`` unchanged when short; else its start and what was cut.

    Problems joined by "; " (the importers' style) are counted, so the summary
    says how many there were, not only how many characters.
    """
    if len(detail) <= limit:
        return detail
    parts = detail.split("; ")
    if len(parts) > 1:
        shown: list[str] = []
        used = 0
        for part in parts:
            if used + len(part) + 2 > limit - 60:
                break
            shown.append(part)
            used += len(part) + 2
        head = "; ".join(shown) if shown else parts[0][: limit - 60]
        return f"{head}; … and {len(parts) - max(1, len(shown))} more problem(s)"
    return f"{detail[: limit - 40]}… ({len(detail) - limit + 40} more characters)"


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = cap_detail(detail)
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def validation_errors(exc: RequestValidationError) -> tuple[str, list[dict[str, str]], int]:
    """(detail, the first ``MAX_ERRORS`` errors, how many there were)."""
    errors = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        where = loc[0] if loc else ""
        name = ".".join(loc[1:]) if len(loc) > 1 else where
        errors.append(
            {"in": where, "param": name[:MAX_MSG], "msg": str(err.get("msg", ""))[:MAX_MSG]}
        )
    names = ", ".join(sorted({e["param"] for e in errors}))
    return f"invalid parameter(s): {names}", errors[:MAX_ERRORS], len(errors)


class UnexpectedErrors:
    """ASGI middleware: an exception no handler took becomes a problem+json 500.

    A middleware rather than ``exception_handler(Exception)``: Starlette's
    server-error layer re-raises after answering, which logs the traceback a
    second time without the id.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            error_id = uuid.uuid4().hex
            log.exception(
                "unexpected error id=%s on %s %s", error_id, scope.get("method"), scope.get("path")
            )
            if started:  # the body is under way: nothing valid can be said any more
                raise
            body = {
                "type": "about:blank",
                "title": TITLES[500],
                "status": 500,
                "detail": f"an unexpected error; quote id {error_id} to the operator",
                "id": error_id,
            }
            data = json.dumps(body).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", PROBLEM.encode()),
                        (b"content-length", str(len(data)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": data})


class ProblemReports:
    """Whole texts of cut details, each for the key whose request caused it.

    Bounded (``max_bytes`` in all, oldest dropped first) and in memory: a
    report is a convenience for the next minutes, not a record; a restart or
    a crowd of bad imports forgets it, and the import can be sent again.
    """

    def __init__(self, max_bytes: int = 20_000_000):
        self.max_bytes = max_bytes
        self._texts: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def put(self, owner: str, text: str) -> str | None:
        if len(text) > self.max_bytes:
            return None
        report_id = uuid.uuid4().hex
        with self._lock:
            while self._texts and self._bytes + len(text) > self.max_bytes:
                _, (_, old) = self._texts.popitem(last=False)
                self._bytes -= len(old)
            self._texts[report_id] = (owner, text)
            self._bytes += len(text)
        return report_id

    def get(self, owner: str, report_id: str) -> str | None:
        with self._lock:
            entry = self._texts.get(report_id)
        return entry[1] if entry is not None and entry[0] == owner else None


def _owner(request: Request) -> str | None:
    """Who may download a report: a hash of the request's bearer key."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer ") or not header[7:].strip():
        return None
    return hashlib.sha256(header[7:].strip().encode()).hexdigest()


def _reports(request: Request) -> ProblemReports:
    return request.app.state.problem_reports


router = APIRouter(tags=["errors"])


@router.get(
    "/v1/problems/{report_id}",
    summary="The whole text of an error detail that was cut (same key only)",
    response_class=PlainTextResponse,
)
async def problem_report(
    report_id: str,
    request: Request,
    reports: Annotated[ProblemReports, Depends(_reports)],
    _principal: CurrentPrincipal,  # a valid key, and below: the very key that caused it
) -> PlainTextResponse:
    owner = _owner(request)
    text = reports.get(owner, report_id) if owner else None
    if text is None:
        raise HTTPException(404, "no such report for this key (reports are kept for a while)")
    return PlainTextResponse(text)


def install(app: FastAPI) -> None:
    app.add_middleware(UnexpectedErrors)
    app.state.problem_reports = ProblemReports()
    app.include_router(router)

    @app.exception_handler(StarletteHTTPException)
    async def _http(req: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = TITLES.get(exc.status_code, "Error")
        detail = str(exc.detail)
        extra: dict[str, Any] = {}
        owner = _owner(req)
        if len(detail) > MAX_DETAIL and owner is not None:
            report_id = _reports(req).put(owner, detail)
            if report_id is not None:
                extra["report"] = f"/v1/problems/{report_id}"
        resp = problem(exc.status_code, title, detail, **extra)
        if exc.headers:
            resp.headers.update(exc.headers)
        return resp

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        detail, errors, total = validation_errors(exc)
        extra: dict[str, Any] = {"errors": errors}
        if total > len(errors):
            extra["errors_total"] = total
        return problem(422, TITLES[422], detail, **extra)
