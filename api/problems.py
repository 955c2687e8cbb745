"""Errors as RFC 9457 ``application/problem+json``; a bad parameter names itself."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def install(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found"}
        resp = problem(exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail))
        if exc.headers:
            resp.headers.update(exc.headers)
        return resp

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ())]
            where = loc[0] if loc else ""
            name = ".".join(loc[1:]) if len(loc) > 1 else where
            errors.append({"in": where, "param": name, "msg": err.get("msg", "")})
        names = ", ".join(sorted({e["param"] for e in errors}))
        return problem(422, "Invalid request", f"invalid parameter(s): {names}", errors=errors)
