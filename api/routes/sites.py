"""The site registry as the API shows it (floor plans, zones, spaces)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from api.deps import Ctx, CurrentPrincipal, SiteDep
from api.plans import NoPlanImage, plan_file, site_payload

router = APIRouter(prefix="/v1/sites", tags=["sites"])

# A plan SVG is a drawing, never a document: no script, no outside fetch, even
# when opened on its own.
_SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


@router.get("", summary="Sites of the portfolio")
def list_sites(ctx: Ctx, _p: CurrentPrincipal) -> list[dict[str, Any]]:
    return [
        {
            "id": s.id,
            "name": s.name,
            "name_sv": s.name_sv,
            "name_en": s.name_en,
            "timezone": s.timezone,
            "floors": [
                f.model_dump(mode="json", exclude={"image"})
                for f in sorted(s.floors, key=lambda f: f.level)
            ],
            "version": s.version,
        }
        for s in ctx.registry
    ]


@router.get("/{site_id}", summary="One site: floors, zones, spaces with geometry, agencies")
def get_site(site: SiteDep, _p: CurrentPrincipal) -> dict[str, Any]:
    return site_payload(site)


@router.get(
    "/{site_id}/floors/{floor_id}/plan",
    summary="A floor's plan image (SVG or PNG), as the site registry names it",
    response_class=FileResponse,
    responses={404: {"description": "no such floor, or it has no plan image"}},
)
def floor_plan(site: SiteDep, floor_id: str, _p: CurrentPrincipal) -> FileResponse:
    try:
        path, media_type = plan_file(site, floor_id)
    except NoPlanImage as exc:
        raise HTTPException(404, str(exc)) from None
    headers = {"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"}
    if media_type == "image/svg+xml":
        headers["Content-Security-Policy"] = _SVG_CSP
    return FileResponse(path, media_type=media_type, headers=headers)
