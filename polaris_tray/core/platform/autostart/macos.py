"""macOS: a LaunchAgent plist with RunAtLoad and no KeepAlive, so that Quit stays quit.

A downloaded app opened where it lies runs "translocated" from a random read-only /AppTranslocation/ path
that is gone after a reboot: an entry recording it would be stale at the very login it was meant for, so
enabling is refused with what to do instead.
"""

from __future__ import annotations

import plistlib
from pathlib import Path

from polaris_tray.core.platform.autostart.base import (
    LOGIN_FLAG,
    AutostartError,
    AutostartState,
    AutostartStatus,
    FileAutostart,
    launch_program,
    status_of,
)

LABEL = "io.polaris.tray"
TRANSLOCATED = (
    "Polaris Tray runs from a temporary copy macOS made of the downloaded app ({path}), which is gone "
    "after a restart. Move Polaris Tray to /Applications (drag it there in Finder), open it from there, "
    "then turn on start at login."
)


def render_plist(command: list[str]) -> bytes:
    return plistlib.dumps(
        {
            "Label": LABEL,
            "ProgramArguments": [*command, LOGIN_FLAG],
            "RunAtLoad": True,
            "ProcessType": "Interactive",
            "LimitLoadToSessionType": "Aqua",
        }
    )


class LaunchAgent(FileAutostart):
    def __init__(self, home: Path | None = None, command: list[str] | None = None) -> None:
        self.path = (home or Path.home()) / "Library" / "LaunchAgents" / f"{LABEL}.plist"
        self._command = command

    def status(self) -> AutostartStatus:
        try:
            data = plistlib.loads(self.path.read_bytes())
        except FileNotFoundError:
            return AutostartStatus(AutostartState.DISABLED)
        except (OSError, plistlib.InvalidFileException, ValueError):
            return AutostartStatus(AutostartState.STALE, str(self.path))
        args = data.get("ProgramArguments") or []
        return status_of(args[0] if args else None, str(self.path))

    def render(self) -> bytes:
        command = self._command or launch_program()
        if "/AppTranslocation/" in command[0]:
            raise AutostartError(TRANSLOCATED.format(path=command[0]))
        return render_plist(command)
