"""Alert rules: what is watched, the level that fires, the level that clears
(hysteresis), how long a breach must last (minimum duration) and who is told.

Rules come from a YAML file in the data directory (``OCCUPANCY_API_ALERTS__RULES``)
or through the API (``/v1/alert-rules``); both are the same ``Rule``.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from core.ids import Ident
from core.registry import Registry
from core.yamlfile import ConfigError, YamlFileError, load_located, validation_problems


class Kind(StrEnum):
    SENSOR_SILENT = "sensor_silent"
    AGENT_OFFLINE = "agent_offline"
    BATTERY_LOW = "battery_low"
    STUCK_OCCUPIED = "stuck_occupied"
    ZONE_COVERAGE = "zone_coverage"
    SUMMARISER_LAG = "summariser_lag"


#: The unit of a rule's ``threshold`` and ``clear``, per kind.
UNITS: dict[Kind, str] = {
    Kind.SENSOR_SILENT: "s",
    Kind.AGENT_OFFLINE: "s",
    Kind.BATTERY_LOW: "%",
    Kind.STUCK_OCCUPIED: "h",
    Kind.ZONE_COVERAGE: "%",
    Kind.SUMMARISER_LAG: "s",
}

#: Kinds that fire when the value falls below the threshold (the others: above).
BELOW = frozenset({Kind.BATTERY_LOW, Kind.ZONE_COVERAGE})

Lang = Literal["fi", "sv", "en"]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]


class Recipient(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    lang: Lang = "fi"


class Rule(BaseModel):
    """One rule. A breach must hold ``for_s`` seconds before the alert fires; a
    firing alert resolves once the value is back past ``clear`` (default: the
    threshold) for ``clear_for_s`` seconds."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    id: Ident
    kind: Kind
    site: Ident | None = Field(None, description="Only this site; unset: every site.")
    floor: Ident | None = Field(None, description="Only subjects on this floor.")
    zone: Ident | None = Field(None, description="Only subjects in this zone.")
    threshold: float = Field(ge=0, description="In the kind's unit (UNITS).")
    clear: float | None = Field(None, ge=0, description="Hysteresis level; unset: threshold.")
    for_s: float = Field(0, ge=0, description="Minimum duration of a breach before firing.")
    clear_for_s: float = Field(0, ge=0, description="Minimum duration of recovery.")
    window_h: float = Field(24, gt=0, le=24 * 7, description="zone_coverage: the window.")
    notify: list[Recipient] = Field(default_factory=list, max_length=50)
    webhook: bool = Field(True, description="Publish sensor.alert / sensor.resolved events.")
    enabled: bool = True

    @model_validator(mode="after")
    def _levels(self) -> Rule:
        if self.kind in BELOW and self.threshold > 100:
            raise ValueError(f"threshold of {self.kind.value} is a percentage (0-100)")
        if self.clear is not None:
            if self.kind in BELOW and self.clear < self.threshold:
                raise ValueError(
                    f"clear ({self.clear}) must not be below threshold ({self.threshold}) "
                    f"for {self.kind.value}, which fires below the threshold"
                )
            if self.kind not in BELOW and self.clear > self.threshold:
                raise ValueError(
                    f"clear ({self.clear}) must not be above threshold ({self.threshold}) "
                    f"for {self.kind.value}, which fires above the threshold"
                )
        return self

    @property
    def clear_level(self) -> float:
        return self.threshold if self.clear is None else self.clear

    def breached(self, value: float) -> bool:
        return value < self.threshold if self.kind in BELOW else value > self.threshold

    def recovered(self, value: float) -> bool:
        level = self.clear_level
        return value >= level if self.kind in BELOW else value <= level


class RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[Rule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> RulesFile:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} is used twice")
            seen.add(rule.id)
        return self


def load_rules(path: Path) -> list[Rule]:
    """The rules of ``path``; none when the file does not exist. A bad file
    raises ``YamlFileError`` naming the line and field."""
    if not path.exists():
        return []
    located = load_located(path)
    data = located.data if located.data is not None else {}
    if not isinstance(data, dict):
        raise YamlFileError(path, [(1, "", "an alert rules file is a mapping with 'rules:'")])
    try:
        return RulesFile.model_validate(data).rules
    except ValidationError as exc:
        problems = validation_problems(located, exc.errors(), model=RulesFile)
        raise YamlFileError(path, problems) from None


def rule_problems(rule: Rule, registry: Registry) -> list[str]:
    """What in ``rule`` does not exist in the registry."""
    sites = [registry.get(rule.site)] if rule.site else list(registry)
    if rule.site and sites[0] is None:
        return [f"rule {rule.id!r}: unknown site {rule.site!r}"]
    problems = []
    for what, value in (("floor", rule.floor), ("zone", rule.zone)):
        if value is None:
            continue
        known = any(
            value in {x.id for x in (s.floors if what == "floor" else s.zones)}
            for s in sites
            if s is not None
        )
        if not known:
            problems.append(f"rule {rule.id!r}: unknown {what} {value!r}")
    return problems


def check_rules(rules: list[Rule], registry: Registry, source: Path) -> None:
    problems = [p for r in rules for p in rule_problems(r, registry)]
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(problems))
