"""The site registry as the API shows it (floor plans, zones, spaces)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import Ctx, CurrentPrincipal, SiteDep

router = APIRouter(prefix="/v1/sites", tags=["sites"])


@router.get("", summary="Sites of the portfolio")
def list_sites(ctx: Ctx, _p: CurrentPrincipal) -> list[dict[str, Any]]:
    return [
        {
            "id": s.id,
            "name": s.name,
            "timezone": s.timezone,
            "floors": [f.model_dump(mode="json") for f in sorted(s.floors, key=lambda f: f.level)],
            "version": s.version,
        }
        for s in ctx.registry
    ]


@router.get("/{site_id}", summary="One site: floors, zones, spaces with geometry, agencies")
def get_site(site: SiteDep, _p: CurrentPrincipal) -> dict[str, Any]:
    data = site.model_dump(mode="json")
    data["version"] = site.version
    return data
