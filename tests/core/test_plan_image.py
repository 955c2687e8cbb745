"""Pixel sizes of plan images (core/plan_image.py) from hand-made files."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from core.plan_image import PlanImageError, plan_image_size


def png(path: Path, width: int, height: int) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\x00" * width for _ in range(height))
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    return path


def test_png_size_from_its_header(tmp_path: Path) -> None:
    assert plan_image_size(png(tmp_path / "f.png", 320, 120)) == (320, 120)


@pytest.mark.parametrize(
    ("root", "size"),
    [
        ('<svg xmlns="http://www.w3.org/2000/svg" width="1360" height="560">', (1360, 560)),
        ('<svg xmlns="http://www.w3.org/2000/svg" width="800px" height="300px">', (800, 300)),
        ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 640 240">', (640, 240)),
        # a size in centimetres is not pixels: the viewBox is used
        ('<svg xmlns="http://www.w3.org/2000/svg" width="20cm" viewBox="0,0,64,24">', (64, 24)),
    ],
)
def test_svg_size_from_width_height_or_viewbox(
    tmp_path: Path, root: str, size: tuple[int, int]
) -> None:
    path = tmp_path / "f.svg"
    path.write_text(root + "<rect/></svg>", encoding="utf-8")
    assert plan_image_size(path) == size


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("f.svg", '<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>', "gives no size"),
        ("f.svg", "<html><body/></html>", "not an SVG image"),
        ("f.svg", "<svg", "not an SVG image"),
        ("f.png", "GIF89a........................", "not a PNG image"),
    ],
)
def test_bad_images_are_named(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PlanImageError, match=message):
        plan_image_size(path)
