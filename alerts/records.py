"""Alerts, their history and the rules made through the API, in the API's
records database (``api.records``; additive tables, created at start-up).

An alert is one firing of one rule for one subject: ``firing`` ->
(``acknowledged``) -> ``resolved``. Every change is a row of its history.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Float, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from alerts.evaluate import Transition
from alerts.rules import Rule
from api.records import Base

OPEN = ("firing", "acknowledged")
STATES = ("firing", "acknowledged", "resolved")


class AlertRuleRecord(Base):
    __tablename__ = "alert_rules"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    body: Mapped[str] = mapped_column(Text)  # the Rule as JSON
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AlertRecord(Base):
    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_site_state", "site", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    site: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(64))
    agency: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    value: Mapped[float] = mapped_column(Float)
    context: Mapped[str] = mapped_column(Text, default="{}")
    fired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    acked_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    ack_note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AlertHistory(Base):
    __tablename__ = "alert_history"
    __table_args__ = (Index("ix_alert_history_alert", "alert_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(16))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)


def _utc(t: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything stored is UTC
    return t.replace(tzinfo=UTC) if t is not None and t.tzinfo is None else t


def _iso(t: datetime | None) -> str | None:
    t = _utc(t)
    return t.isoformat().replace("+00:00", "Z") if t is not None else None


def record(
    session: Session, transitions: Sequence[Transition], kinds: dict[str, str]
) -> list[int | None]:
    """Store the tick's transitions: a new alert per firing, resolution of the
    open alert of the same rule and subject. Returns each transition's alert id."""
    ids: list[int | None] = []
    for t in transitions:
        if t.change == "fired":
            alert = AlertRecord(
                rule=t.rule,
                kind=kinds.get(t.rule, ""),
                site=t.site,
                subject=t.subject,
                agency=t.agency,
                state="firing",
                value=t.value,
                context=json.dumps(dict(t.context)),
                fired_at=t.at,
            )
            session.add(alert)
            session.flush()
            session.add(AlertHistory(alert_id=alert.id, at=t.at, state="firing", value=t.value))
            ids.append(alert.id)
            continue
        ids.append(None)
        for alert in open_alerts(session, rule=t.rule, site=t.site, subject=t.subject):
            ids[-1] = alert.id
            alert.state = "resolved"
            alert.resolved_at = t.at
            session.add(AlertHistory(alert_id=alert.id, at=t.at, state="resolved", value=t.value))
    session.commit()
    return ids


def open_alerts(
    session: Session,
    *,
    rule: str | None = None,
    site: str | None = None,
    subject: str | None = None,
) -> list[AlertRecord]:
    q = select(AlertRecord).where(AlertRecord.state.in_(OPEN))
    if rule is not None:
        q = q.where(AlertRecord.rule == rule)
    if site is not None:
        q = q.where(AlertRecord.site == site)
    if subject is not None:
        q = q.where(AlertRecord.subject == subject)
    return list(session.scalars(q))


def list_alerts(
    session: Session, *, site: str, states: Sequence[str], agency: str | None, limit: int
) -> list[AlertRecord]:
    """Newest first; ``agency`` set: only alerts about that agency's spaces."""
    q = select(AlertRecord).where(AlertRecord.site == site, AlertRecord.state.in_(states))
    if agency is not None:
        q = q.where(AlertRecord.agency == agency)
    return list(session.scalars(q.order_by(AlertRecord.id.desc()).limit(limit)))


def history(session: Session, alert_id: int) -> list[AlertHistory]:
    q = select(AlertHistory).where(AlertHistory.alert_id == alert_id)
    return list(session.scalars(q.order_by(AlertHistory.id)))


class AckRefused(ValueError):
    pass


def acknowledge(session: Session, alert: AlertRecord, *, by: str, note: str, at: datetime) -> None:
    if alert.state != "firing":
        raise AckRefused(
            f"alert {alert.id} is {alert.state}; only a firing alert can be acknowledged"
        )
    alert.state = "acknowledged"
    alert.acked_at = at
    alert.acked_by = by
    alert.ack_note = note
    session.add(AlertHistory(alert_id=alert.id, at=at, state="acknowledged", by=by, note=note))
    session.commit()


def alert_json(alert: AlertRecord, steps: Sequence[AlertHistory] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": alert.id,
        "rule": alert.rule,
        "kind": alert.kind,
        "site": alert.site,
        "subject": alert.subject,
        "agency": alert.agency,
        "state": alert.state,
        "value": alert.value,
        "context": json.loads(alert.context or "{}"),
        "fired_at": _iso(alert.fired_at),
        "acknowledged_at": _iso(alert.acked_at),
        "acknowledged_by": alert.acked_by,
        "ack_note": alert.ack_note,
        "resolved_at": _iso(alert.resolved_at),
    }
    if steps is not None:
        out["history"] = [
            {"at": _iso(h.at), "state": h.state, "value": h.value, "by": h.by, "note": h.note}
            for h in steps
        ]
    return out


# ---- rules made through the API ---------------------------------------------


def api_rules(session: Session) -> list[Rule]:
    rows = session.scalars(select(AlertRuleRecord).order_by(AlertRuleRecord.id))
    return [Rule.model_validate_json(r.body) for r in rows]


def save_rule(session: Session, rule: Rule, *, by: str) -> None:
    row = session.get(AlertRuleRecord, rule.id)
    body = rule.model_dump_json()
    now = datetime.now(UTC)
    if row is None:
        session.add(AlertRuleRecord(id=rule.id, body=body, created_by=by, updated_at=now))
    else:
        row.body = body
        row.updated_at = now
    session.commit()


def delete_rule(session: Session, rule_id: str) -> bool:
    row = session.get(AlertRuleRecord, rule_id)
    if row is None:
        return False
    session.delete(row)
    session.commit()
    return True
