"""A summary's params digest follows what the summary is computed from, and
nothing else: a rename or a translation must not make a year of summaries stale."""

from __future__ import annotations

from core.registry import Site, load_site
from summaries.schema import params_digest
from tests.conftest import REPO

SITE = REPO / "examples" / "sites" / "virastotalo.yaml"


def _changed(site: Site, **space_fields: object) -> Site:
    data = site.model_dump(mode="python")
    data["spaces"][0].update(space_fields)
    data["zones"][0]["name_en"] = "Renamed zone"
    return Site.model_validate(data)


def _digest(site: Site) -> str:
    return params_digest(site, silence_factor=2.5, merge_gap_s=0)


def test_names_and_geometry_leave_the_digest() -> None:
    site = load_site(SITE)
    geometry = dict(site.spaces[0].geometry.model_dump(), x=site.spaces[0].geometry.x + 0.5)
    renamed = _changed(site, name="Another name", name_sv="Ett namn", geometry=geometry)
    assert _digest(renamed) == _digest(site)


def test_capacity_zone_and_calendar_change_it() -> None:
    site = load_site(SITE)
    assert _digest(_changed(site, capacity=site.spaces[0].capacity + 1)) != _digest(site)
    assert _digest(_changed(site, zone=site.zones[-1].id)) != _digest(site)
    later = site.model_copy(update={"heartbeat_s": site.heartbeat_s + 1})
    assert _digest(later) != _digest(site)
    assert params_digest(site, silence_factor=3, merge_gap_s=0) != _digest(site)
