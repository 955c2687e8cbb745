"""Managing subscriptions and dead letters (the logic behind ``api/routes/webhooks.py``).

Who may do what: admin and facility keys manage every subscription; an agency
key manages only the subscriptions it made for its agency (any other is "not
found" to it, so ids reveal nothing), and what those receive is limited by
``webhooks.access``.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import AnyHttpUrl, BaseModel, Field, UrlConstraints, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import Principal
from core.outbound import OutboundPolicy, OutboundRefused
from core.registry import Registry
from webhooks import signing
from webhooks.events import EVENT_TYPES
from webhooks.tables import DEAD, PENDING, Delivery, Subscription, SubscriptionSecret, aware


class NotFound(LookupError):
    pass


class Refused(ValueError):
    """A request the caller may not make (403)."""


class Invalid(ValueError):
    """A request that names something that does not exist (422)."""


def _check_types(value: list[str]) -> list[str]:
    unknown = sorted(set(value) - set(EVENT_TYPES))
    if unknown:
        raise ValueError(
            f"unknown event type(s) {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}"
        )
    return sorted(set(value))


Url = Annotated[AnyHttpUrl, UrlConstraints(max_length=2000)]


class SubscriptionIn(BaseModel):
    url: Url = Field(description="Where deliveries are POSTed (http or https).")
    event_types: list[str] = Field(min_length=1, description=f"Any of {', '.join(EVENT_TYPES)}.")
    site: str | None = Field(None, max_length=64, description="Only events of this site.")
    zone: str | None = Field(None, max_length=64, description="Only events about this zone.")
    description: str = Field("", max_length=500)
    rate_per_s: float | None = Field(
        None, gt=0, le=1000, description="Deliveries per second at most (default: the setting)."
    )
    secret: str | None = Field(
        None, max_length=200, description="A whsec_ secret of your own; default: a new random one."
    )
    active: bool = True

    _types = field_validator("event_types")(_check_types)


class SubscriptionPatch(BaseModel):
    url: Url | None = None
    event_types: list[str] | None = Field(None, min_length=1)
    description: str | None = Field(None, max_length=500)
    rate_per_s: float | None = Field(None, gt=0, le=1000)
    active: bool | None = None

    @field_validator("event_types")
    @classmethod
    def _types(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _check_types(value)


def _aware_or_none(t: datetime | None) -> str | None:
    return aware(t).isoformat().replace("+00:00", "Z") if t is not None else None


def as_json(session: Session, sub: Subscription) -> dict[str, Any]:
    now = datetime.now(UTC)
    keys = session.scalars(
        select(SubscriptionSecret)
        .where(SubscriptionSecret.subscription_id == sub.id)
        .order_by(SubscriptionSecret.id.desc())
    )
    return {
        "id": sub.id,
        "url": sub.url,
        "event_types": json.loads(sub.event_types),
        "site": sub.site,
        "zone": sub.zone,
        "agency": sub.agency,
        "description": sub.description,
        "rate_per_s": sub.rate_per_s,
        "active": sub.active,
        "created_at": _aware_or_none(sub.created_at),
        # the secrets themselves are shown only when made (create, rotate)
        "secrets": [
            {
                "id": k.id,
                "created_at": _aware_or_none(k.created_at),
                "expires_at": _aware_or_none(k.expires_at),
            }
            for k in keys
            if k.expires_at is None or aware(k.expires_at) > now
        ],
    }


def _check_scope(body: SubscriptionIn, principal: Principal, registry: Registry) -> None:
    if body.zone is not None and body.site is None:
        raise Invalid("zone: a zone filter needs the site it belongs to")
    if body.site is None:
        return
    site = registry.get(body.site)
    if site is None:
        raise Invalid(f"site: unknown site {body.site!r}")
    if body.zone is None:
        return
    if body.zone not in {z.id for z in site.zones}:
        raise Invalid(f"zone: unknown zone {body.zone!r} of site {site.id!r}")
    owner = site.zone(body.zone).agency
    if principal.agency is not None and owner not in (None, principal.agency):
        raise Refused("an agency key subscribes only to its own agency's zones or shared ones")


def _check_url(url: str, outbound: OutboundPolicy) -> str:
    """The URL, unless the outbound policy refuses it (checked again at each delivery)."""
    try:
        outbound.check_url(url)
    except OutboundRefused as exc:
        raise Invalid(f"url: {exc}") from None
    return url


def create(
    session: Session,
    body: SubscriptionIn,
    *,
    principal: Principal,
    registry: Registry,
    outbound: OutboundPolicy,
) -> dict[str, Any]:
    _check_scope(body, principal, registry)
    url = _check_url(str(body.url), outbound)
    secret = body.secret or signing.new_secret()
    try:
        signing.secret_key(secret)
    except signing.BadSecret as exc:
        raise Invalid(f"secret: {exc}") from None
    sub = Subscription(
        id=f"sub_{uuid.uuid4().hex[:20]}",
        url=url,
        event_types=json.dumps(body.event_types),
        site=body.site,
        zone=body.zone,
        agency=principal.agency,
        description=body.description,
        rate_per_s=body.rate_per_s,
        active=body.active,
        created_by=principal.key_id,
    )
    session.add(sub)
    session.add(SubscriptionSecret(subscription_id=sub.id, secret=secret))
    session.commit()
    return {**as_json(session, sub), "secret": secret}


def visible(session: Session, principal: Principal) -> list[Subscription]:
    q = select(Subscription).order_by(Subscription.created_at, Subscription.id)
    if principal.agency is not None:
        q = q.where(Subscription.agency == principal.agency)
    return list(session.scalars(q))


def get(session: Session, sub_id: str, principal: Principal) -> Subscription:
    sub = session.get(Subscription, sub_id)
    if sub is None or (principal.agency is not None and sub.agency != principal.agency):
        raise NotFound(f"no subscription {sub_id!r}")
    return sub


def update(
    session: Session,
    sub_id: str,
    patch: SubscriptionPatch,
    principal: Principal,
    *,
    outbound: OutboundPolicy,
) -> dict[str, Any]:
    sub = get(session, sub_id, principal)
    given = patch.model_dump(exclude_unset=True)
    if given.get("url") is not None:
        sub.url = _check_url(str(patch.url), outbound)
    if patch.event_types is not None:
        sub.event_types = json.dumps(patch.event_types)
    if patch.description is not None:
        sub.description = patch.description
    if "rate_per_s" in given:
        sub.rate_per_s = patch.rate_per_s
    if patch.active is not None:
        sub.active = patch.active
    session.commit()
    return as_json(session, sub)


def remove(session: Session, sub_id: str, principal: Principal) -> None:
    """Deletes the subscription, its secrets and its undelivered deliveries."""
    sub = get(session, sub_id, principal)
    for model in (SubscriptionSecret, Delivery):
        for row in session.scalars(select(model).where(model.subscription_id == sub.id)):
            session.delete(row)
    session.delete(sub)
    session.commit()


def rotate(
    session: Session,
    sub_id: str,
    principal: Principal,
    *,
    grace: timedelta,
    secret: str | None = None,
) -> dict[str, Any]:
    """A new secret signs from now on; the ones in force keep signing for ``grace``."""
    sub = get(session, sub_id, principal)
    new = secret or signing.new_secret()
    try:
        signing.secret_key(new)
    except signing.BadSecret as exc:
        raise Invalid(f"secret: {exc}") from None
    now = datetime.now(UTC)
    until = now + grace
    for old in session.scalars(
        select(SubscriptionSecret).where(SubscriptionSecret.subscription_id == sub.id)
    ):
        if old.expires_at is None or aware(old.expires_at) > until:
            old.expires_at = until
    session.add(SubscriptionSecret(subscription_id=sub.id, secret=new))
    session.commit()
    return {**as_json(session, sub), "secret": new}


def _delivery_json(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "subscription": d.subscription_id,
        "webhook_id": d.msg_id,
        "event_id": d.event_id,
        "event_type": d.event_type,
        "status": d.status,
        "attempts": d.attempts,
        "created_at": _aware_or_none(d.created_at),
        "last_attempt_at": _aware_or_none(d.last_attempt_at),
        "next_attempt_at": _aware_or_none(d.next_attempt_at),
        "delivered_at": _aware_or_none(d.delivered_at),
        "last_error": d.last_error,
        "body": json.loads(d.body),
    }


def deliveries(
    session: Session,
    principal: Principal,
    *,
    status: str,
    subscription: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    subs = [s.id for s in visible(session, principal)]
    if subscription is not None:
        subs = [get(session, subscription, principal).id]
    q = (
        select(Delivery)
        .where(Delivery.status == status, Delivery.subscription_id.in_(subs))
        .order_by(Delivery.id)
        .limit(limit)
    )
    return [_delivery_json(d) for d in session.scalars(q)]


def replay(session: Session, delivery_id: int, principal: Principal) -> dict[str, Any]:
    """A dead letter goes back to the outbox with the same ``webhook-id``
    (receivers deduplicate on it) and a fresh count of attempts."""
    d = session.get(Delivery, delivery_id)
    if d is None or d.status != DEAD:
        raise NotFound(f"no dead letter {delivery_id}")
    get(session, d.subscription_id, principal)  # NotFound if not the caller's
    d.status = PENDING
    d.attempts = 0
    d.next_attempt_at = datetime.now(UTC)
    session.commit()
    return _delivery_json(d)
