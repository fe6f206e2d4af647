"""Renders resources/icons/polaris-tray.svg into the PNG, ICO and ICNS files the platforms need.

    .venv/bin/python build_scripts/make_icons.py

Qt draws the SVG (QtSvg); ICO and ICNS are plain containers of PNGs, written here.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
PNG_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
# Windows picks from these for the taskbar, Explorer's views and the title bar at 100-250 % scaling.
ICO_SIZES = (16, 20, 24, 32, 40, 48, 64, 128, 256)
# Every PNG type macOS reads, 1x and 2x (Retina): icp4/icp5/icp6 and ic07-ic09 are 16-512 px at 1x,
# ic11-ic14 and ic10 are 16, 32, 128, 256 and 512 at 2x (32-1024 px). Without the 2x ones Finder and the
# Dock upscale a 1x image on a Retina screen.
ICNS_TYPES = {
    b"icp4": 16,
    b"icp5": 32,
    b"icp6": 64,
    b"ic07": 128,
    b"ic08": 256,
    b"ic09": 512,
    b"ic11": 32,  # 16@2x
    b"ic12": 64,  # 32@2x
    b"ic13": 256,  # 128@2x
    b"ic14": 512,  # 256@2x
    b"ic10": 1024,  # 512@2x
}


def render(renderer: QSvgRenderer, size: int) -> bytes:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


def ico(pngs: dict[int, bytes]) -> bytes:
    """ICO with PNG-compressed entries (Windows Vista and later read them)."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = 6 + 16 * len(pngs)
    entries, blobs = b"", b""
    for size, png in sorted(pngs.items()):
        dim = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(png), offset)
        blobs += png
        offset += len(png)
    return header + entries + blobs


def icns(pngs: dict[bytes, bytes]) -> bytes:
    body = b"".join(kind + struct.pack(">I", 8 + len(png)) + png for kind, png in pngs.items())
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(ICONS / "polaris-tray.svg"))
    if not renderer.isValid():
        raise SystemExit("the SVG did not load")
    for size in PNG_SIZES:
        (ICONS / f"polaris-tray-{size}.png").write_bytes(render(renderer, size))
    rendered = {s: render(renderer, s) for s in {*ICO_SIZES, *ICNS_TYPES.values()}}
    (ICONS / "polaris-tray.ico").write_bytes(ico({s: rendered[s] for s in ICO_SIZES}))
    (ICONS / "polaris-tray.icns").write_bytes(icns({k: rendered[s] for k, s in ICNS_TYPES.items()}))
    print(f"icons written to {ICONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
