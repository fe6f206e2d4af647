"""Which D-Bus session the tray app uses, decided before Qt connects to one.

With no DBUS_SESSION_BUS_ADDRESS, libdbus (under Qt's xcb platform) "autolaunches" a dbus-launch and
dbus-daemon pair for the X display, and they outlive the app. A bus born that way holds nothing the app
could use (no tray watcher, no Secret Service, no notifications), so the app names the user's bus when
it exists (what libdbus would find too, and what the keyring needs to see in the environment) and
otherwise turns autolaunch off.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Mapping, MutableMapping

BUS_VARIABLE = "DBUS_SESSION_BUS_ADDRESS"
NO_BUS = "disabled:"  # not a transport libdbus (or GDBus, or jeepney) knows: connecting fails, nothing starts


def user_bus_address(environ: Mapping[str, str], uid: int) -> str | None:
    """The per-user bus systemd (or dbus-user-session) keeps at $XDG_RUNTIME_DIR/bus, when it is ours."""
    runtime = environ.get("XDG_RUNTIME_DIR")
    if not runtime:
        return None
    path = os.path.join(runtime, "bus")
    try:
        info = os.stat(path)
    except OSError:
        return None
    if stat.S_ISSOCK(info.st_mode) and info.st_uid == uid:
        return f"unix:path={path}"
    return None


def settle_session_bus(
    environ: MutableMapping[str, str] | None = None, uid: int | None = None, platform: str = sys.platform
) -> str | None:
    """Sets the bus address for this process (and what it starts) when none is set; returns what it set.

    Windows and macOS have no session bus to autolaunch: nothing to do there.
    """
    if sys.platform == "win32":  # the same answer as below, in a form the type checker reads
        return None
    environ = os.environ if environ is None else environ
    if platform in ("win32", "darwin") or environ.get(BUS_VARIABLE):
        return None
    address = user_bus_address(environ, os.getuid() if uid is None else uid) or NO_BUS
    environ[BUS_VARIABLE] = address
    return address
