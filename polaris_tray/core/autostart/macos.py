"""macOS: a LaunchAgent plist with RunAtLoad and no KeepAlive, so that Quit stays quit."""

from __future__ import annotations

import os
import plistlib
from pathlib import Path

from polaris_tray.core.autostart import (
    LOGIN_FLAG,
    Autostart,
    AutostartError,
    AutostartState,
    AutostartStatus,
    launch_program,
)
from polaris_tray.core.paths import write_private_file

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


class LaunchAgent(Autostart):
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
        program = args[0] if args else None
        if not program or not os.path.isabs(program) or not os.access(program, os.X_OK):
            return AutostartStatus(AutostartState.STALE, str(self.path), program)
        return AutostartStatus(AutostartState.ENABLED, str(self.path), program)

    def enable(self) -> None:
        try:
            write_private_file(self.path, render_plist(self._command or launch_program()))
        except OSError as exc:
            raise AutostartError(f"Cannot write {self.path}: {exc.strerror}") from None

    def disable(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise AutostartError(f"Cannot remove {self.path}: {exc.strerror}") from None
