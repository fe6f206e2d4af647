"""Where the build's own files are (icons, the desktop entry template): the menu install and the autostart
entry both need them, and neither may import the other."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    """The icons and the entry template: inside the frozen build, else in the checkout beside the package."""
    if getattr(sys, "frozen", False):
        return Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent)) / "resources"
    return Path(__file__).resolve().parents[2].parent / "resources"
