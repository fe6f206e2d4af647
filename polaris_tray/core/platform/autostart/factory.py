"""The start-at-login backend of this operating system; backends load only where they apply."""

from __future__ import annotations

import sys

from polaris_tray.core.platform.autostart.base import Autostart


def current_autostart() -> Autostart:
    if sys.platform == "win32":
        from polaris_tray.core.platform.autostart.windows import WindowsRunKey

        return WindowsRunKey()
    if sys.platform == "darwin":
        from polaris_tray.core.platform.autostart.macos import LaunchAgent

        return LaunchAgent()
    from polaris_tray.core.platform.autostart.xdg import XdgAutostart

    return XdgAutostart()
