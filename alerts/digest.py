"""One e-mail per recipient and period, instead of one per transition: when a
whole floor goes offline, its forty sensors make one message.

``Digest`` gathers the transitions of a period; ``compose`` (pure) turns them
into messages in each recipient's language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from alerts import catalogue
from alerts.evaluate import Transition
from alerts.rules import UNITS, Lang, Rule
from core.registry import Registry


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    lang: Lang
    subject: str
    body: str


def _hm(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M")


def _value(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 10 else f"{v:.1f}"


def _site_name(registry: Registry, site_id: str, lang: Lang) -> str:
    site = registry.get(site_id)
    return (site.name_in(lang) or site_id) if site is not None else site_id


def _line(t: Transition, rule: Rule, lang: Lang) -> str:
    where = ", ".join(f"{k} {v}" for k, v in sorted(t.context.items()) if k != "sensor")
    value = catalogue.text(lang, "value", value=_value(t.value), unit=UNITS[rule.kind])
    head = catalogue.text(lang, t.change)
    name = catalogue.kind_name(lang, rule.kind)
    return f"- {head}: {name}: {t.subject}" + (f" ({where})" if where else "") + f", {value}"


def compose(
    entries: Sequence[tuple[Transition, Rule]],
    *,
    registry: Registry,
    start: datetime,
    end: datetime,
) -> list[Mail]:
    """One message per (recipient, language, site) of the period's transitions."""
    groups: dict[tuple[str, Lang, str], list[tuple[Transition, Rule]]] = {}
    for t, rule in entries:
        for r in rule.notify:
            groups.setdefault((r.email, r.lang, t.site), []).append((t, rule))
    out = []
    for (email, lang, site_id), items in sorted(groups.items()):
        site = _site_name(registry, site_id, lang)
        fired = sum(1 for t, _ in items if t.change == "fired")
        subject = catalogue.text(
            lang, "subject", site=site, fired=fired, resolved=len(items) - fired
        )
        lines = [catalogue.text(lang, "intro", start=_hm(start), end=_hm(end), site=site), ""]
        lines += [_line(t, rule, lang) for t, rule in items]
        lines += ["", catalogue.text(lang, "footer")]
        out.append(Mail(email, lang, subject, "\n".join(lines) + "\n"))
    return out


@dataclass
class Digest:
    """The transitions of the current period. A period opens with the first
    transition after a quiet time and is sent ``period_s`` later, so a storm
    (a whole floor going offline within seconds) makes one message, and a
    lone alert waits at most ``period_s``."""

    period_s: float
    start: datetime | None = None
    pending: list[tuple[Transition, Rule]] = field(default_factory=list)

    def add(
        self, transitions: Sequence[Transition], rules: Mapping[str, Rule], *, now: datetime
    ) -> None:
        for t in transitions:
            rule = rules.get(t.rule)
            if rule is not None and rule.notify:
                self.pending.append((t, rule))
        if self.pending and self.start is None:
            self.start = now

    def due(self, now: datetime) -> bool:
        return self.start is not None and now >= self.start + timedelta(seconds=self.period_s)

    def take(self) -> tuple[datetime | None, list[tuple[Transition, Rule]]]:
        """The period's start and entries; the digest is quiet again."""
        start, entries = self.start, self.pending
        self.start, self.pending = None, []
        return start, entries
