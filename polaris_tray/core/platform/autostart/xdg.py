"""Linux and BSD desktops: an XDG autostart entry in $XDG_CONFIG_HOME/autostart."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from polaris_tray import APP_DISPLAY_NAME
from polaris_tray.core.platform.autostart.base import (
    LOGIN_FLAG,
    AutostartState,
    AutostartStatus,
    FileAutostart,
    launch_program,
    status_of,
)

FILE_NAME = "polaris-tray.desktop"


def autostart_dir(environ=None) -> Path:
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME", str(Path.home()))) / ".config")
    return Path(base) / "autostart"


def _quote(arg: str) -> str:
    """Quoting per the Desktop Entry spec: double quotes, with \\ " ` $ escaped."""
    if arg and not any(c in arg for c in " \t\n\"'\\><~|&;$*?#()`"):
        return arg
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return f'"{escaped}"'


def render_entry(command: list[str]) -> str:
    exec_line = " ".join(_quote(part).replace("%", "%%") for part in [*command, LOGIN_FLAG])
    return "\n".join(
        [
            "[Desktop Entry]",
            "Type=Application",
            f"Name={APP_DISPLAY_NAME}",
            "Comment=Keeps this machine visible to the Polaris orchestrator",
            f"Exec={exec_line}",
            "Icon=polaris-tray",
            "Terminal=false",
            "Categories=Network;Monitor;",
            "X-GNOME-Autostart-enabled=true",
            "X-GNOME-Autostart-Delay=5",
            "X-KDE-autostart-after=panel",
            "",
        ]
    )


def exec_program(text: str) -> str | None:
    for line in text.splitlines():
        if line.startswith("Exec="):
            try:
                parts = shlex.split(line[len("Exec=") :].replace("%%", "%"))
            except ValueError:
                return None
            return parts[0] if parts else None
    return None


class XdgAutostart(FileAutostart):
    def __init__(self, environ=None, command: list[str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ
        self._command = command
        self.path = autostart_dir(self._environ) / FILE_NAME

    def command(self) -> list[str]:
        return self._command or launch_program(self._environ)

    def status(self) -> AutostartStatus:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return AutostartStatus(AutostartState.DISABLED)
        except OSError:
            return AutostartStatus(AutostartState.STALE, str(self.path))
        if "X-GNOME-Autostart-enabled=false" in text or "\nHidden=true" in text:
            return AutostartStatus(AutostartState.DISABLED, str(self.path))
        return status_of(exec_program(text), str(self.path))

    def render(self) -> bytes:
        return render_entry(self.command()).encode("utf-8")
