"""The site registry as the API shows it, with each floor's plan image placed
in plan metres, and the image files themselves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.plan_image import PlanImageError, plan_image_size
from core.registry import PLAN_IMAGE_TYPES, Site


class NoPlanImage(LookupError):
    pass


def plan_url(site: Site, floor_id: str) -> str:
    return f"/v1/sites/{site.id}/floors/{floor_id}/plan"


def _image_payload(site: Site, floor: dict[str, Any]) -> dict[str, Any] | None:
    image = floor.get("image")
    path = site.plan_image_path(floor["id"])
    if image is None or path is None:
        return None
    try:
        w_px, h_px = plan_image_size(path)
    except (OSError, PlanImageError):
        return None  # the page draws the spaces without it; GET .../plan says why
    scale = image["scale"]
    return {
        "url": plan_url(site, floor["id"]),
        "media_type": PLAN_IMAGE_TYPES[path.suffix.lower()],
        "scale": scale,
        "origin": image["origin"],
        "width_px": w_px,
        "height_px": h_px,
        # where the image lies in plan metres: what a client draws
        "x": -image["origin"]["x"] * scale,
        "y": -image["origin"]["y"] * scale,
        "width": w_px * scale,
        "height": h_px * scale,
    }


def site_payload(site: Site) -> dict[str, Any]:
    """The whole registry entry of a site; a floor's ``image`` says where its
    plan is served and where it lies in metres (the file path stays private)."""
    data = site.model_dump(mode="json")
    data["version"] = site.version
    for floor in data["floors"]:
        floor["image"] = _image_payload(site, floor)
    return data


def plan_file(site: Site, floor_id: str) -> tuple[Path, str]:
    """(path, media type) of a floor's plan image; ``NoPlanImage`` says why not."""
    if floor_id not in {f.id for f in site.floors}:
        raise NoPlanImage(f"site {site.id!r} has no floor {floor_id!r}")
    path = site.plan_image_path(floor_id)
    if path is None:
        raise NoPlanImage(f"floor {floor_id!r} has no plan image")
    if not path.is_file():
        raise NoPlanImage(f"the plan image of floor {floor_id!r} is missing on the server")
    return path, PLAN_IMAGE_TYPES[path.suffix.lower()]
