"""Reads the tray icon's colour off a real X screen: what a user would see, not what the app says."""

from __future__ import annotations

import subprocess
from pathlib import Path

COLOURS = {
    "green": (0x1F, 0xAA, 0x59),
    "amber": (0xF2, 0xA9, 0x00),
    "red": (0xE0, 0x31, 0x2B),
    "grey": (0x8A, 0x8F, 0x98),
}
REGION = (200, 34)  # trayer sits at the top right: the icons are inside this strip


def tray_pixels(display: str, width: int = 1024) -> bytes:
    w, h = REGION
    out = subprocess.run(
        [
            "import",
            "-display",
            display,
            "-window",
            "root",
            "-crop",
            f"{w}x{h}+{width - w}+0",
            "-depth",
            "8",
            "rgb:-",
        ],
        capture_output=True,
        timeout=20,
        check=True,
    )
    return out.stdout


def colour_counts(raw: bytes, tolerance: int = 30) -> dict[str, int]:
    counts = dict.fromkeys(COLOURS, 0)
    for i in range(0, len(raw) - 2, 3):
        r, g, b = raw[i], raw[i + 1], raw[i + 2]
        for name, (cr, cg, cb) in COLOURS.items():
            if abs(r - cr) <= tolerance and abs(g - cg) <= tolerance and abs(b - cb) <= tolerance:
                counts[name] += 1
    return counts


def tray_colour(display: str, minimum: int = 25) -> str | None:
    """The state colour with the most pixels in the tray strip; None when no icon shows."""
    counts = colour_counts(tray_pixels(display))
    # trayer's own panel is grey; grey counts only when nothing else shows
    best = max((c for c in counts if c != "grey"), key=lambda c: counts[c])
    if counts[best] >= minimum:
        return best
    return "grey" if counts["grey"] >= minimum else None


def save_tray_shot(display: str, path: Path) -> None:
    subprocess.run(
        ["import", "-display", display, "-window", "root", "-crop", "260x40+764+0", str(path)],
        timeout=20,
        check=False,
    )
