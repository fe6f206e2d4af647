"""Opening folders and URLs with the system's handler, safely from a frozen app.

PyInstaller points LD_LIBRARY_PATH at its bundled libraries; a file manager started with that environment
can crash on them (activitywatch#208), so the original value is restored around the launch.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices

_VARS = ("LD_LIBRARY_PATH", "QT_PLUGIN_PATH", "QT_QPA_PLATFORM_PLUGIN_PATH")


@contextmanager
def host_environment() -> Iterator[None]:
    if not getattr(sys, "frozen", False):
        yield
        return
    saved = {name: os.environ.get(name) for name in _VARS}
    try:
        for name in _VARS:
            original = os.environ.get(f"{name}_ORIG")
            if original is not None:
                os.environ[name] = original
            else:
                os.environ.pop(name, None)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def open_folder(path: Path) -> bool:
    """False when nothing can open it (the caller shows the path): Qt would only print a warning."""
    from polaris_tray.core.storage.paths import ensure_private_dir

    try:
        ensure_private_dir(path)  # recreated 0700 like every directory the app makes, not 0755
    except OSError:
        return False
    if sys.platform.startswith("linux") and not shutil.which("xdg-open"):
        return False
    with host_environment():
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
