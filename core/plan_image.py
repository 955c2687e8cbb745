"""The pixel size of a floor's plan image (SVG or PNG), so a client can place
it in plan metres (``PlanImage.scale``, ``origin``) before it has loaded it."""

from __future__ import annotations

import functools
import re
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

_PNG = b"\x89PNG\r\n\x1a\n"
_LENGTH = re.compile(r"\s*([0-9]*\.?[0-9]+)\s*(px)?\s*", re.ASCII)


class PlanImageError(ValueError):
    pass


def plan_image_size(path: Path) -> tuple[float, float]:
    """(width, height) in pixels; raises ``PlanImageError`` for a file that is
    not a PNG or an SVG with a usable size."""
    stat = path.stat()
    return _size(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _size(path: Path, _mtime_ns: int, _bytes: int) -> tuple[float, float]:
    if path.suffix.lower() == ".png":
        head = path.read_bytes()[:24]
        if head[:8] != _PNG or head[12:16] != b"IHDR":
            raise PlanImageError(f"{path.name} is not a PNG image")
        w, h = struct.unpack(">II", head[16:24])
        return float(w), float(h)
    return _svg_size(path)


def _svg_size(path: Path) -> tuple[float, float]:
    # Only the root element is needed: stop at its start tag.
    try:
        for _, elem in ET.iterparse(path, events=("start",)):
            return _root_size(elem, path.name)
    except ET.ParseError as exc:
        raise PlanImageError(f"{path.name} is not an SVG image: {exc}") from None
    raise PlanImageError(f"{path.name} is empty")


def _root_size(root: ET.Element, name: str) -> tuple[float, float]:
    if not root.tag.endswith("svg"):
        raise PlanImageError(f"{name} is not an SVG image (root element {root.tag!r})")
    w, h = _length(root.get("width")), _length(root.get("height"))
    if w and h:
        return w, h
    box = (root.get("viewBox") or "").replace(",", " ").split()
    if len(box) == 4:
        vw, vh = float(box[2]), float(box[3])
        if vw > 0 and vh > 0:
            return vw, vh
    raise PlanImageError(f"{name} gives no size (width and height in px, or a viewBox)")


def _length(text: str | None) -> float | None:
    match = _LENGTH.fullmatch(text or "")
    return float(match[1]) if match and float(match[1]) > 0 else None
