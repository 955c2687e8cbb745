"""The portfolio file: what a folder of site files has in common.

A registry folder may hold, beside its site files, one ``portfolio.yaml``
(docs/deployment.md, "The portfolio file"): the portfolio's id and names, the
space-efficiency target its sites inherit, and its regions (maakunta) with
their names. Loading it adds checks across the site files: every site names a
known region, and an agency id used at several sites is the same agency
everywhere (name, translations, business id); only its headcount differs per
site. A folder without the file is a portfolio without names or regions, as
before.

Every problem names the file, the line and the field (``core.yamlfile``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, ValidationError, field_validator

from core.ids import Ident
from core.registry import Site, _Named
from core.suggest import did_you_mean
from core.yamlfile import (
    ConfigError,
    LocatedYaml,
    YamlFileError,
    field_name,
    load_located,
    validation_problems,
)

#: The names a portfolio file may have in a registry folder (never a site file).
PORTFOLIO_FILES = ("portfolio.yaml", "portfolio.yml")

#: The agency fields that must agree wherever one agency id is listed.
SHARED_AGENCY_FIELDS = ("name", "name_sv", "name_en", "business_id")


class Region(_Named):
    """A region (maakunta) of the portfolio: the value of a site's ``region``."""

    id: Ident
    name: str = Field(min_length=1, max_length=200)


class Portfolio(_Named):
    id: Ident
    name: str = Field(min_length=1, max_length=200)
    target_m2_per_htv: float | None = Field(
        default=None,
        gt=0,
        description="Space-efficiency target of every site that does not give its own.",
    )
    regions: list[Region] = Field(default_factory=list)

    @field_validator("regions")
    @classmethod
    def _unique_regions(cls, value: list[Region]) -> list[Region]:
        seen: dict[str, int] = {}
        for i, r in enumerate(value):
            if r.id in seen:
                raise ValueError(f"region {r.id!r} is listed twice (regions[{seen[r.id]}], [{i}])")
            seen[r.id] = i
        return value

    @property
    def region_ids(self) -> list[str]:
        return [r.id for r in self.regions]

    def region(self, region_id: str) -> Region | None:
        return next((r for r in self.regions if r.id == region_id), None)


@dataclass(frozen=True)
class LoadedPortfolio:
    """A validated portfolio file and the content hash of its text."""

    portfolio: Portfolio
    file: Path
    version: str


def portfolio_file(folder: Path) -> Path | None:
    """The folder's portfolio file, if it has one; two of them is an error."""
    found = [folder / n for n in PORTFOLIO_FILES if (folder / n).is_file()]
    if len(found) > 1:
        raise YamlFileError(folder, [(None, "", "both portfolio.yaml and portfolio.yml")])
    return found[0] if found else None


def load_portfolio(file: Path | str) -> LoadedPortfolio:
    """Load and strictly validate a portfolio file; raises ``YamlFileError``."""
    path = Path(file)
    located = load_located(path)
    if not isinstance(located.data, Mapping):
        raise YamlFileError(path, [(1, "", "a portfolio file must be a mapping of keys to values")])
    try:
        portfolio = Portfolio.model_validate(located.data)
    except ValidationError as exc:
        problems = validation_problems(located, exc.errors(), model=Portfolio)
        raise YamlFileError(path, sorted(problems, key=lambda p: (p[0] or 0, p[1]))) from None
    version = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return LoadedPortfolio(portfolio, path, version)


# ---- checks across the site files ------------------------------------------------
#: A problem found across files: (site id, path of the field in its file, message).
Problem = tuple[str, tuple[str | int, ...], str]


def region_problems(portfolio: Portfolio, sites: Sequence[Site]) -> Iterator[Problem]:
    """Every site of a portfolio with regions names one of them."""
    if not portfolio.regions:
        return
    known = portfolio.region_ids
    for site in sites:
        if site.region is None:
            yield site.id, (), f"the site names no region; give one of: {', '.join(known)}"
        elif site.region not in known:
            hint = did_you_mean(site.region, known)
            yield (
                site.id,
                ("region",),
                f"unknown region {site.region!r}{hint}; the portfolio's regions: "
                f"{', '.join(known)}",
            )


def agency_problems(sites: Sequence[Site]) -> Iterator[Problem]:
    """One agency id is one agency: its names and business id agree at every
    site that lists it (the first site, in id order, is the reference)."""
    first: dict[str, tuple[Site, int]] = {}
    for site in sorted(sites, key=lambda s: s.id):
        for i, agency in enumerate(site.agencies):
            if agency.id not in first:
                first[agency.id] = (site, i)
                continue
            ref_site, j = first[agency.id]
            ref = ref_site.agencies[j]
            for f in SHARED_AGENCY_FIELDS:
                mine, theirs = getattr(agency, f), getattr(ref, f)
                if mine != theirs:
                    yield (
                        site.id,
                        ("agencies", i, f),
                        f"agency {agency.id!r} has {f} {mine!r} here but {theirs!r} at site "
                        f"{ref_site.id!r}; one agency id is one agency (only headcount "
                        "differs per site)",
                    )


def inherit_target(portfolio: Portfolio, site: Site) -> Site:
    """The site with the portfolio's target, unless its file gives its own."""
    if portfolio.target_m2_per_htv is None or "target_m2_per_htv" in site.model_fields_set:
        return site
    # model_copy keeps the private lookups and the site file's version
    return site.model_copy(update={"target_m2_per_htv": portfolio.target_m2_per_htv})


def apply_portfolio(
    loaded: LoadedPortfolio, sites: Mapping[str, Site], files: Mapping[str, Path]
) -> dict[str, Site]:
    """The sites as the portfolio makes them (inherited targets), after the
    checks across files; raises ``ConfigError`` naming each site file's line.
    ``files``: the file each site was loaded from."""
    listed = list(sites.values())
    problems = [*region_problems(loaded.portfolio, listed), *agency_problems(listed)]
    if problems:
        raise ConfigError("\n".join(_located(problems, files)))
    return {sid: inherit_target(loaded.portfolio, s) for sid, s in sites.items()}


def _located(problems: list[Problem], files: Mapping[str, Path]) -> list[str]:
    out = []
    read: dict[str, LocatedYaml] = {}
    for sid, loc, msg in problems:
        file = files[sid]
        if sid not in read:
            read[sid] = load_located(file)  # read again only when something is wrong
        line = read[sid].line_of(loc) if loc else None
        out.append(YamlFileError(file, [(line, field_name(loc), msg)]).render())
    return out


__all__ = [
    "PORTFOLIO_FILES",
    "LoadedPortfolio",
    "Portfolio",
    "Region",
    "agency_problems",
    "apply_portfolio",
    "inherit_target",
    "load_portfolio",
    "portfolio_file",
    "region_problems",
]
