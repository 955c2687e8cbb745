"""Webhook subscriptions, their secrets, and dead letters (docs/integrations.md).

Admin and facility keys manage every subscription; an agency key only its
own agency's (``webhooks.subscriptions``, ``webhooks.access``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response
from pydantic import BaseModel, Field

from api.auth import Principal
from api.deps import Ctx, CurrentPrincipal, require
from webhooks import subscriptions as subs_m
from webhooks.events import EVENT_TYPES
from webhooks.tables import DEAD, DELIVERED, PENDING

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

ROLES = ("facility", "agency")  # admin always
SubId = Annotated[str, Path(max_length=40)]


class RotateIn(BaseModel):
    secret: str | None = Field(
        None, max_length=200, description="A whsec_ secret of your own; default: random."
    )


@contextmanager
def _mapped() -> Iterator[None]:
    """The logic's errors as HTTP answers."""
    try:
        yield
    except subs_m.NotFound as exc:
        raise HTTPException(404, str(exc.args[0])) from None
    except subs_m.Refused as exc:
        raise HTTPException(403, str(exc)) from None
    except subs_m.Invalid as exc:
        raise HTTPException(422, str(exc)) from None


def _allowed(principal: Principal) -> None:
    require(principal, *ROLES)


@router.get("/event-types", summary="The event types a subscription may ask for")
def event_types(principal: CurrentPrincipal) -> list[str]:
    _allowed(principal)
    return list(EVENT_TYPES)


@router.get("/subscriptions", summary="Subscriptions (an agency key sees its own)")
def list_(ctx: Ctx, principal: CurrentPrincipal) -> list[dict[str, Any]]:
    _allowed(principal)
    with ctx.sessions() as session:
        return [subs_m.as_json(session, s) for s in subs_m.visible(session, principal)]


@router.post(
    "/subscriptions",
    status_code=201,
    summary="Create a subscription; the answer shows its secret, once",
)
def create(ctx: Ctx, principal: CurrentPrincipal, body: subs_m.SubscriptionIn) -> dict[str, Any]:
    _allowed(principal)
    with _mapped(), ctx.sessions() as session:
        return subs_m.create(
            session,
            body,
            principal=principal,
            registry=ctx.registry,
            outbound=ctx.settings.outbound_policy(),
        )


@router.get("/subscriptions/{sub_id}", summary="One subscription")
def get(sub_id: SubId, ctx: Ctx, principal: CurrentPrincipal) -> dict[str, Any]:
    _allowed(principal)
    with _mapped(), ctx.sessions() as session:
        return subs_m.as_json(session, subs_m.get(session, sub_id, principal))


@router.patch("/subscriptions/{sub_id}", summary="Change url, event types, rate or active flag")
def update(
    sub_id: SubId, ctx: Ctx, principal: CurrentPrincipal, body: subs_m.SubscriptionPatch
) -> dict[str, Any]:
    _allowed(principal)
    with _mapped(), ctx.sessions() as session:
        return subs_m.update(
            session, sub_id, body, principal, outbound=ctx.settings.outbound_policy()
        )


@router.delete("/subscriptions/{sub_id}", status_code=204, summary="Delete a subscription")
def delete(sub_id: SubId, ctx: Ctx, principal: CurrentPrincipal) -> Response:
    _allowed(principal)
    with _mapped(), ctx.sessions() as session:
        subs_m.remove(session, sub_id, principal)
    return Response(status_code=204)


@router.post(
    "/subscriptions/{sub_id}/rotate-secret",
    summary="A new secret; the old one keeps signing for the grace period",
)
def rotate(
    sub_id: SubId, ctx: Ctx, principal: CurrentPrincipal, body: RotateIn | None = None
) -> dict[str, Any]:
    _allowed(principal)
    grace = timedelta(hours=ctx.settings.webhooks.secret_grace_h)
    with _mapped(), ctx.sessions() as session:
        return subs_m.rotate(
            session, sub_id, principal, grace=grace, secret=body.secret if body else None
        )


@router.get("/deliveries", summary="Deliveries by status (dead: the dead-letter list)")
def deliveries(
    ctx: Ctx,
    principal: CurrentPrincipal,
    status: Annotated[str, Query(pattern=f"^({PENDING}|{DELIVERED}|{DEAD})$")] = DEAD,
    subscription: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    _allowed(principal)
    with _mapped(), ctx.sessions() as session:
        return subs_m.deliveries(
            session, principal, status=status, subscription=subscription, limit=limit
        )


@router.get("/dead-letters", summary="Deliveries that failed every attempt")
def dead_letters(
    ctx: Ctx,
    principal: CurrentPrincipal,
    subscription: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    return deliveries(ctx, principal, DEAD, subscription, limit)


@router.post(
    "/dead-letters/{delivery_id}/replay",
    summary="Send a dead letter again (same webhook-id)",
)
def replay(
    delivery_id: Annotated[int, Path(ge=1, le=2**62)], ctx: Ctx, principal: CurrentPrincipal
) -> dict[str, Any]:
    _allowed(principal)
    with _mapped(), ctx.sessions() as session:
        return subs_m.replay(session, delivery_id, principal)
