"""Open endpoints: liveness of the service and its Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import Ctx
from storage import StoreUnavailable

router = APIRouter(tags=["health"])


@router.get("/health", summary="Service health (no key needed)")
def health(ctx: Ctx, response: Response) -> dict[str, object]:
    try:
        ctx.store.ping()
        store = "ok"
    except StoreUnavailable as exc:
        store = f"unavailable: {exc}"
    feed = ctx.feed
    broker = "disabled" if feed is None else ("connected" if feed.connected.is_set() else "down")
    ok = store == "ok"
    if not ok:
        response.status_code = 503
    return {
        "status": "ok" if ok else "degraded",
        "store": store,
        "broker": broker,
        "sites": ctx.registry.ids,
    }


@router.get("/metrics", summary="Prometheus metrics (no key needed)")
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
