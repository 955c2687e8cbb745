"""The tariff: how a site's monthly cost is recovered from its agencies.

One YAML file holds a tariff's versions, each effective from the first day of a
month until the next version takes over. A version gives, per site, either the
cost to recover each month (split into a base share by headcount and a usage
share by weighted occupied hours) or unit prices, the weight of each space type,
the no-show policy and the coverage a line needs to count as measured.

Validation is strict like the site registry's: an unknown key, a bad value or a
version that starts mid-month is an error naming the file, the line and the field.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from core.ids import Ident
from core.registry import SpaceType
from core.yamlfile import ConfigError, YamlFileError, load_located, validation_problems


class TariffError(ConfigError):
    """No usable tariff for a request (no version in force, site not priced, ...)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WeightBasis(StrEnum):
    #: a space's weight is its type's weight
    SPACE_TYPE = "space_type"
    #: a space's weight is its area (m²) times its type's weight
    AREA_M2 = "area_m2"


class UnitPrices(_Strict):
    base_eur_per_htv: Decimal = Field(ge=0, description="Per person-year (htv) and month.")
    usage_eur_per_weighted_hour: Decimal = Field(ge=0)


class NoShowPolicy(_Strict):
    window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    charge_booked_hours: bool = Field(
        default=False,
        description="Charge the unused booked hours of a no-show to the booking agency.",
    )


class SitePricing(_Strict):
    cost_to_recover_eur: Decimal | None = Field(default=None, ge=0, decimal_places=2)
    base_share: Decimal | None = Field(default=None, ge=0, le=1)
    unit_prices: UnitPrices | None = None
    weight_basis: WeightBasis = WeightBasis.SPACE_TYPE
    weights: dict[SpaceType, Decimal] = Field(min_length=1)
    no_show: NoShowPolicy = Field(default_factory=NoShowPolicy)
    min_coverage: Decimal = Field(default=Decimal("0.8"), ge=0, le=1)

    @model_validator(mode="after")
    def _one_pricing(self) -> SitePricing:
        if (self.cost_to_recover_eur is None) == (self.unit_prices is None):
            raise ValueError("give either cost_to_recover_eur (with base_share) or unit_prices")
        if self.cost_to_recover_eur is not None and self.base_share is None:
            raise ValueError("cost_to_recover_eur needs base_share (0..1, the headcount part)")
        if self.unit_prices is not None and self.base_share is not None:
            raise ValueError("base_share applies only with cost_to_recover_eur")
        for space_type, weight in self.weights.items():
            if weight < 0:
                raise ValueError(f"weight of {space_type.value!r} must be >= 0")
        return self

    def weight_of(self, space_type: SpaceType) -> Decimal:
        try:
            return self.weights[space_type]
        except KeyError:
            raise TariffError(
                f"the tariff gives no weight for space type {space_type.value!r}; "
                "add it under weights (0 to leave the type uncharged)"
            ) from None


class TariffVersion(_Strict):
    version: str = Field(min_length=1, max_length=64)
    effective_from: date
    note: str | None = None
    sites: dict[Ident, SitePricing] = Field(min_length=1)

    @field_validator("effective_from")
    @classmethod
    def _month_start(cls, value: date) -> date:
        if value.day != 1:
            raise ValueError(f"{value} must be the first day of a month (charges are monthly)")
        return value

    def canonical(self) -> str:
        """A stable text of this version, part of the charge inputs' hash."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


class Tariff(_Strict):
    name: str = Field(min_length=1)
    currency: str = Field(default="EUR", pattern="^EUR$")
    versions: list[TariffVersion] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Tariff:
        seen: set[str] = set()
        for v in self.versions:
            if v.version in seen:
                raise ValueError(f"version {v.version!r} is given twice")
            seen.add(v.version)
        starts = [v.effective_from for v in self.versions]
        if len(set(starts)) != len(starts):
            raise ValueError("two versions take effect on the same day")
        return self

    def in_force(self, year: int, month: int) -> TariffVersion:
        """The version in force for a month: the latest one effective on its first day."""
        first = date(year, month, 1)
        candidates = [v for v in self.versions if v.effective_from <= first]
        if not candidates:
            earliest = min(v.effective_from for v in self.versions)
            raise TariffError(
                f"tariff {self.name!r} has no version in force for {year:04d}-{month:02d} "
                f"(the earliest takes effect {earliest:%Y-%m})"
            )
        return max(candidates, key=lambda v: v.effective_from)

    def pricing(self, site_id: str, year: int, month: int) -> tuple[TariffVersion, SitePricing]:
        version = self.in_force(year, month)
        if site_id not in version.sites:
            raise TariffError(
                f"tariff {self.name!r} version {version.version!r} does not price site "
                f"{site_id!r} (it prices {', '.join(sorted(version.sites))})"
            )
        return version, version.sites[site_id]


def load_tariff(file: Path | str) -> Tariff:
    """Load and strictly validate a tariff file; raises ``YamlFileError``."""
    path = Path(file)
    located = load_located(path)
    if not isinstance(located.data, Mapping):
        raise YamlFileError(path, [(1, "", "a tariff file must be a mapping of keys to values")])
    try:
        return Tariff.model_validate(located.data)
    except ValidationError as exc:
        raise YamlFileError(path, validation_problems(located, _errors(exc))) from None


def _errors(exc: ValidationError) -> list[dict[str, Any]]:
    # A bad dict key (an unknown space type under weights) is reported by
    # pydantic at the "[key]" location; the line index knows the key itself.
    out = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if p != "[key]")
        out.append({**err, "loc": loc})
    return out


def tariff_hash(version: TariffVersion) -> str:
    return hashlib.sha256(version.canonical().encode()).hexdigest()


def tariff_files(path: Path | str) -> list[Path]:
    """A tariff file, or every ``*.yaml``/``*.yml`` of a folder (sorted)."""
    root = Path(path)
    if root.is_dir():
        files = sorted([*root.glob("*.yaml"), *root.glob("*.yml")])
        if not files:
            raise YamlFileError(root, [(None, "", "no tariff files (*.yaml) in this folder")])
        return files
    return [root]


def load_tariff_for_site(path: Path | str, site_id: str) -> Tariff:
    """The tariff that prices ``site_id``: ``path`` is one tariff file, or a
    folder of them (each site priced by exactly one file)."""
    files = tariff_files(path)
    if len(files) == 1 and not Path(path).is_dir():
        return load_tariff(files[0])
    loaded = [(f, load_tariff(f)) for f in files]
    found = [(f, t) for f, t in loaded if any(site_id in v.sites for v in t.versions)]
    if not found:
        raise TariffError(f"no tariff in {path} prices site {site_id!r}")
    if len(found) > 1:
        names = ", ".join(f.name for f, _ in found)
        raise TariffError(f"site {site_id!r} is priced by several tariff files: {names}")
    return found[0][1]
