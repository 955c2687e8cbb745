"""Alerts (list, one with its history, acknowledge) and alert rules (list,
create, replace, delete). Logic in ``alerts.records`` and ``alerts.rules``.

An agency key sees only alerts about its own zones' spaces, and never rules
(they hold recipients' addresses); admin and facility manage rules.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from alerts import records
from alerts.rules import Rule, rule_problems
from api.deps import Ctx, CurrentPrincipal, SiteDep, require
from core.timeutil import utcnow

router = APIRouter(tags=["alerts"])

AlertId = Annotated[int, Path(ge=1, le=2**62, description="The alert's number.")]
StateFilter = Literal["open", "firing", "acknowledged", "resolved", "all"]
_STATES: dict[str, tuple[str, ...]] = {
    "open": records.OPEN,
    "all": records.STATES,
    "firing": ("firing",),
    "acknowledged": ("acknowledged",),
    "resolved": ("resolved",),
}


class Ack(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=500, description="Why (who is on it, ticket...).")


def _file_rules(ctx: Ctx) -> dict[str, Rule]:
    return ctx.alerts.file_rules if ctx.alerts is not None else {}


def _alert(ctx: Ctx, site_id: str, alert_id: int, agency: str | None) -> Any:
    with ctx.sessions() as session:
        alert = session.get(records.AlertRecord, alert_id)
        if (
            alert is None
            or alert.site != site_id
            or (agency is not None and alert.agency != agency)
        ):
            raise HTTPException(404, f"no alert {alert_id} at site {site_id!r}")
        return alert


@router.get("/v1/sites/{site_id}/alerts", summary="Alerts of a site, newest first")
def list_alerts(
    site: SiteDep,
    ctx: Ctx,
    principal: CurrentPrincipal,
    state: Annotated[StateFilter, Query(description="open: firing or acknowledged")] = "open",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    require(principal, "facility", "agency")
    with ctx.sessions() as session:
        found = records.list_alerts(
            session, site=site.id, states=_STATES[state], agency=principal.agency, limit=limit
        )
    return {"site": site.id, "alerts": [records.alert_json(a) for a in found]}


@router.get("/v1/sites/{site_id}/alerts/{alert_id}", summary="One alert with its history")
def get_alert(
    site: SiteDep, alert_id: AlertId, ctx: Ctx, principal: CurrentPrincipal
) -> dict[str, Any]:
    require(principal, "facility", "agency")
    alert = _alert(ctx, site.id, alert_id, principal.agency)
    with ctx.sessions() as session:
        return records.alert_json(alert, records.history(session, alert.id))


@router.post(
    "/v1/sites/{site_id}/alerts/{alert_id}/ack", summary="Acknowledge a firing alert (who, why)"
)
def ack_alert(
    site: SiteDep, alert_id: AlertId, body: Ack, ctx: Ctx, principal: CurrentPrincipal
) -> dict[str, Any]:
    require(principal, "facility")
    with ctx.sessions() as session:
        alert = session.get(records.AlertRecord, alert_id)
        if alert is None or alert.site != site.id:
            raise HTTPException(404, f"no alert {alert_id} at site {site.id!r}")
        try:
            records.acknowledge(
                session,
                alert,
                by=f"{principal.name} ({principal.key_id})",
                note=body.note,
                at=utcnow(),
            )
        except records.AckRefused as exc:
            raise HTTPException(409, str(exc)) from None
        return records.alert_json(alert, records.history(session, alert.id))


def _rule_json(rule: Rule, source: str) -> dict[str, Any]:
    return {**rule.model_dump(mode="json"), "source": source}


@router.get("/v1/alert-rules", summary="Alert rules, from the rules file and the API")
def list_rules(ctx: Ctx, principal: CurrentPrincipal) -> dict[str, Any]:
    require(principal, "facility")
    with ctx.sessions() as session:
        made = records.api_rules(session)
    shown = [_rule_json(r, "file") for r in _file_rules(ctx).values()]
    shown += [_rule_json(r, "api") for r in made]
    return {"rules": shown}


def _check(ctx: Ctx, rule: Rule) -> None:
    if rule.id in _file_rules(ctx):
        raise HTTPException(409, f"rule {rule.id!r} is defined in the rules file; edit it there")
    problems = rule_problems(rule, ctx.registry)
    if problems:
        raise HTTPException(422, "; ".join(problems))


@router.post("/v1/alert-rules", summary="Create an alert rule", status_code=201)
def create_rule(rule: Rule, ctx: Ctx, principal: CurrentPrincipal) -> dict[str, Any]:
    require(principal, "facility")
    _check(ctx, rule)
    with ctx.sessions() as session:
        if session.get(records.AlertRuleRecord, rule.id) is not None:
            raise HTTPException(409, f"rule {rule.id!r} exists; PUT replaces it")
        records.save_rule(session, rule, by=principal.name)
    return _rule_json(rule, "api")


@router.put("/v1/alert-rules/{rule_id}", summary="Replace an alert rule made through the API")
def replace_rule(rule_id: str, rule: Rule, ctx: Ctx, principal: CurrentPrincipal) -> dict[str, Any]:
    require(principal, "facility")
    if rule.id != rule_id:
        raise HTTPException(422, f"the body's id {rule.id!r} is not the path's {rule_id!r}")
    _check(ctx, rule)
    with ctx.sessions() as session:
        if session.get(records.AlertRuleRecord, rule.id) is None:
            raise HTTPException(404, f"no rule {rule_id!r} made through the API")
        records.save_rule(session, rule, by=principal.name)
    return _rule_json(rule, "api")


@router.delete(
    "/v1/alert-rules/{rule_id}",
    summary="Delete an alert rule (its open alerts resolve)",
    status_code=204,
)
def delete_rule(rule_id: str, ctx: Ctx, principal: CurrentPrincipal) -> Response:
    require(principal, "facility")
    if rule_id in _file_rules(ctx):
        raise HTTPException(409, f"rule {rule_id!r} is defined in the rules file; edit it there")
    with ctx.sessions() as session:
        if not records.delete_rule(session, rule_id):
            raise HTTPException(404, f"no rule {rule_id!r} made through the API")
    return Response(status_code=204)
