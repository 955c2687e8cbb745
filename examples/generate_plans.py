"""Floor plan drawings (SVG) of the example site, from the same geometry as
``generate_site.py``: outer walls with windows, the corridor, walls and doors
around every room and booth, the stair and lift core, and the entrance. The
site file names them (``floors[].image``); the live page draws them under the
spaces, so every room's sensor area sits inside its walls.

Called by ``generate_site.py``; the SVG files it writes are committed.
No text in the drawings: the page labels spaces in the reader's language.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

SCALE = 0.05  # metres per pixel: 20 px per metre
MARGIN_PX = 40  # the plan's (0, 0) lies here in the image (the origin)
WALL = 0.3  # metres, outer walls
PARTITION = 0.12  # metres, room walls
DOOR = 0.9  # metres
CORE = (29.5, 8.4, 6.0, 4.6)  # stairs and lifts: x, y, w, h (metres)
ENTRANCE = (23.0, 4.0)  # ground-floor entrance in the south wall: x, width
WALKABLE_ROOMS = {"desk", "service_point", "lounge"}  # open-plan: no walls


def image_of() -> dict[str, Any]:
    """The ``image`` block of a floor in the site file (path relative to it)."""
    return {"scale": SCALE, "origin": {"x": MARGIN_PX, "y": MARGIN_PX}}


def _px(m: float) -> str:
    return f"{m / SCALE + MARGIN_PX:g}"


def _len(m: float) -> str:
    return f"{m / SCALE:g}"


def _line(x1: float, y1: float, x2: float, y2: float, cls: str) -> str:
    return f'<line class="{cls}" x1="{_px(x1)}" y1="{_px(y1)}" x2="{_px(x2)}" y2="{_px(y2)}"/>'


def _rect(x: float, y: float, w: float, h: float, cls: str) -> str:
    return f'<rect class="{cls}" x="{_px(x)}" y="{_px(y)}" width="{_len(w)}" height="{_len(h)}"/>'


def _room_walls(g: dict[str, float]) -> Iterable[str]:
    """Four walls just outside a room's geometry, a door in the north wall
    (towards the corridor) and the door's swing."""
    p = PARTITION / 2 + 0.05
    x0, y0, x1, y1 = g["x"] - p, g["y"] - p, g["x"] + g["w"] + p, g["y"] + g["h"] + p
    door = min(DOOR, g["w"] - 0.4)
    d0 = x0 + 0.2
    yield _line(x0, y0, d0, y0, "wall")
    yield _line(d0 + door, y0, x1, y0, "wall")
    yield _line(x1, y0, x1, y1, "wall")
    yield _line(x1, y1, x0, y1, "wall")
    yield _line(x0, y1, x0, y0, "wall")
    r = door
    yield (
        f'<path class="swing" d="M {_px(d0)} {_px(y0)} L {_px(d0)} {_px(y0 + r)} '
        f'A {_len(r)} {_len(r)} 0 0 0 {_px(d0 + door)} {_px(y0)}"/>'
    )


def _outer(width: float, height: float, entrance: bool) -> Iterable[str]:
    yield _rect(0, 0, width, height, "slab")
    # windows: the north and east walls are glazed between the piers
    for x in range(2, int(width) - 3, 4):
        yield _line(x + 0.4, 0, x + 3.6, 0, "window")
    w = WALL / 2
    if entrance:
        ex, ew = ENTRANCE
        yield _line(-w, height, ex, height, "outer")
        yield _line(ex + ew, height, width + w, height, "outer")
        # an arrow pointing in, and the threshold
        cx = ex + ew / 2
        yield _line(ex, height, ex + ew, height, "threshold")
        yield (
            f'<path class="entrance" d="M {_px(cx)} {_px(height + 1.6)} L {_px(cx)} '
            f"{_px(height - 0.6)} M {_px(cx - 0.7)} {_px(height + 0.1)} L {_px(cx)} "
            f'{_px(height - 0.6)} L {_px(cx + 0.7)} {_px(height + 0.1)}"/>'
        )
    else:
        yield _line(-w, height, width + w, height, "outer")
    yield _line(-w, 0, width + w, 0, "outer")
    yield _line(0, 0, 0, height, "outer")
    yield _line(width, 0, width, height, "outer")


def _core() -> Iterable[str]:
    x, y, w, h = CORE
    yield _rect(x, y, w, h, "core")
    # stairs: treads across the left half; two lifts with crossed cars on the right
    for i in range(1, 12):
        ty = y + i * h / 12
        yield _line(x + 0.2, ty, x + w / 2 - 0.2, ty, "tread")
    for lx in (x + w / 2 + 0.3, x + w / 2 + 1.6):
        yield _rect(lx, y + 0.4, 1.1, 1.4, "lift")
        yield _line(lx, y + 0.4, lx + 1.1, y + 1.8, "tread")
        yield _line(lx + 1.1, y + 0.4, lx, y + 1.8, "tread")


def _corridor(
    width: float, height: float, rooms: list[dict[str, float]], ground: bool
) -> Iterable[str]:
    """Along the north side of the rooms; on the ground floor down to the entrance too."""
    if not rooms:
        return
    bottom = min(r["y"] for r in rooms) - PARTITION
    left = max(WALL / 2, min(r["x"] for r in rooms) - 1.0)
    if ground:
        ex, ew = ENTRANCE
        left = min(left, ex - 0.4)
        yield _rect(ex - 0.4, bottom - 2.6, ew + 0.8, height - bottom + 2.6, "corridor")
    yield _rect(left, bottom - 2.6, width - WALL / 2 - left, 2.6, "corridor")


STYLE = """
.slab{fill:#fbfaf7}
.corridor{fill:#ecebe6}
.core{fill:#e4e3de;stroke:#5b6069;stroke-width:3}
.lift{fill:none;stroke:#5b6069;stroke-width:2}
.tread{stroke:#8a8f97;stroke-width:1.5}
.outer{stroke:#3d424a;stroke-width:6;stroke-linecap:square}
.window{stroke:#7fa7c9;stroke-width:10}
.wall{stroke:#5b6069;stroke-width:2.4;stroke-linecap:square}
.swing{fill:none;stroke:#9aa0a8;stroke-width:1;stroke-dasharray:3 3}
.threshold{stroke:#fbfaf7;stroke-width:8}
.entrance{fill:none;stroke:#3d424a;stroke-width:4;stroke-linecap:round;stroke-linejoin:round}
"""


def floor_svg(*, width: float, height: float, spaces: list[dict[str, Any]], ground: bool) -> str:
    """The drawing of one floor: ``spaces`` are the floor's entries of the site file."""
    rooms = [s["geometry"] for s in spaces if s["type"] not in WALKABLE_ROOMS]
    parts = [*_outer(width, height, entrance=ground)]
    parts += [*_corridor(width, height, rooms, ground), *_core()]
    for g in rooms:
        parts += _room_walls(g)
    w_px = (width + 2 * MARGIN_PX * SCALE) / SCALE
    h_px = (height + 2 * MARGIN_PX * SCALE) / SCALE
    body = "\n".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w_px:g}" height="{h_px:g}" '
        f'viewBox="0 0 {w_px:g} {h_px:g}">\n<style>{STYLE}</style>\n{body}\n</svg>\n'
    )
