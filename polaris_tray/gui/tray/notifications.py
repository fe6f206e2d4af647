"""Desktop notifications that inform without hijacking the tray icon.

Qt's StatusNotifierItem backend shows showMessage() by putting the item in NeedsAttention with a generic
"dialog-error" icon for the message's duration, so panels lose our icon; with no notification service the
message is lost silently. On Linux we therefore call `org.freedesktop.Notifications.Notify` ourselves, with
our name and icon, and use showMessage only where no such service exists (and on Windows/macOS, where it is
the native way).

On macOS, Qt's showMessage goes through Notification Center, which silently drops what an app outside a
bundle (a pip install: plain `python`) posts; there `osascript`'s `display notification` shows it, and
showMessage is kept for the bundled app and as the last resort.

The call goes through jeepney (pure Python, already installed with keyring's Secret Service backend):
PySide6's QtDBus cannot marshal Notify's uint32 and string-array arguments (QDBusArgument has no typed
append in Python).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from polaris_tray import APP_DISPLAY_NAME, APP_NAME

if TYPE_CHECKING:
    from jeepney.io.blocking import DBusConnection
    from PySide6.QtGui import QPixmap

log = logging.getLogger(__name__)

SERVICE = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
CALL_TIMEOUT_S = 1.0  # a local bus answers in milliseconds; a wedged server must not freeze the tray
EXPIRE_MS = 10_000
OSASCRIPT_TIMEOUT_S = 2.0  # the GUI thread waits for it: a wedged one must not freeze the tray for long
# The texts are arguments, never part of the script: no quoting to get wrong.
_OSASCRIPT = ("on run argv", "display notification (item 2 of argv) with title (item 1 of argv)", "end run")


def in_app_bundle(executable: str | None = None) -> bool:
    """Whether we run from a .app (frozen build), where Notification Center accepts our notifications."""
    executable = executable or sys.executable
    return ".app/Contents/MacOS/" in executable


class DesktopNotifier:
    """notify(title, message, critical): over D-Bus where a server listens, else the fallback."""

    def __init__(
        self, fallback: Callable[[str, str, bool], None], icon_path: Callable[[bool], str] | None = None
    ):
        self._fallback = fallback
        self._icon_path = icon_path or (lambda critical: APP_NAME)
        self._conn: DBusConnection | None = None
        self._replaces = 0  # a newer notification replaces ours on screen instead of stacking
        self.last_route: str | None = None  # "dbus" or "tray", for the log and the tests

    def notify(self, title: str, message: str, critical: bool = False) -> str:
        if sys.platform.startswith("linux") and os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
            try:
                self._send(title, message, critical)
                self.last_route = "dbus"
                log.info("Notified over D-Bus: %s", message)
                return self.last_route
            except Exception as exc:  # no server, no bus, a refusing server: the icon's balloon then
                log.info("No notification service (%s); using the tray icon's message", exc)
                self._close()
        if sys.platform == "darwin" and not in_app_bundle() and self._osascript(title, message):
            self.last_route = "osascript"
            return self.last_route
        self._fallback(title, message, critical)
        self.last_route = "tray"
        return self.last_route

    def _osascript(self, title: str, message: str) -> bool:
        program = shutil.which("osascript")
        if program is None:
            return False
        args = [program]
        for line in _OSASCRIPT:
            args += ["-e", line]
        try:
            done = subprocess.run(
                [*args, title, message], capture_output=True, timeout=OSASCRIPT_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.info("osascript could not notify (%s); using the tray icon's message", exc)
            return False
        return done.returncode == 0

    def _send(self, title: str, message: str, critical: bool) -> None:
        from jeepney import DBusAddress, MessageType, new_method_call
        from jeepney.io.blocking import open_dbus_connection
        from PySide6.QtGui import QGuiApplication

        if self._conn is None:
            self._conn = open_dbus_connection(bus="SESSION")
        hints = {
            "desktop-entry": ("s", QGuiApplication.desktopFileName() or APP_NAME),
            "urgency": ("y", 1),  # normal: critical ones never expire on most servers
            "category": ("s", "network.error" if critical else "network"),
        }
        call = new_method_call(
            DBusAddress(PATH, bus_name=SERVICE, interface=SERVICE),
            "Notify",
            "susssasa{sv}i",
            (
                APP_DISPLAY_NAME,
                self._replaces,
                self._icon_path(critical),
                title,
                message,
                [],
                hints,
                EXPIRE_MS,
            ),
        )
        reply = self._conn.send_and_get_reply(call, timeout=CALL_TIMEOUT_S)
        if reply.header.message_type is MessageType.error:
            raise RuntimeError(reply.header.fields.get(4, "error reply"))  # 4: the error name
        self._replaces = int(reply.body[0])

    def _close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except OSError:
                pass
        self._conn = None

    def close(self) -> None:
        self._close()


def icon_file(pixmap_for: Callable[[bool], QPixmap], directory: Path) -> Callable[[bool], str]:
    """A PNG of our own icon for the server to show (written once per colour); the theme name on failure."""
    cache: dict[bool, str] = {}

    def path(critical: bool) -> str:
        if critical not in cache:
            target = directory / f"notify-{'red' if critical else 'green'}.png"
            try:
                directory.mkdir(parents=True, exist_ok=True)
                cache[critical] = str(target) if pixmap_for(critical).save(str(target), "PNG") else APP_NAME
            except OSError:
                cache[critical] = APP_NAME
        return cache[critical]

    return path
