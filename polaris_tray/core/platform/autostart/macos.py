"""macOS: a LaunchAgent plist with RunAtLoad and no KeepAlive, so that Quit stays quit."""

from __future__ import annotations

import plistlib
from pathlib import Path

from polaris_tray.core.platform.autostart.base import (
    LOGIN_FLAG,
    AutostartState,
    AutostartStatus,
    FileAutostart,
    launch_program,
    status_of,
)

LABEL = "io.polaris.tray"


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
        return render_plist(self._command or launch_program())
