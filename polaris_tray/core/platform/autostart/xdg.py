"""Linux and BSD desktops: an XDG autostart entry in $XDG_CONFIG_HOME/autostart."""

from __future__ import annotations

import os
from pathlib import Path

from polaris_tray import APP_DISPLAY_NAME
from polaris_tray.core.platform.autostart.base import (
    LOGIN_FLAG,
    AutostartError,
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


_RESERVED = " \t\n\"'\\><~|&;$*?#()`="


def _quote(arg: str) -> str:
    """One Exec argument per the Desktop Entry spec: reserved characters inside double quotes with " ` $ \\
    backslash-escaped, % doubled, then the string-level escape (a literal backslash ends up as four)."""
    if any(not c.isprintable() for c in arg):
        raise AutostartError(f"Cannot start at login from a path with a line break or control code: {arg!r}")
    if arg and not any(c in _RESERVED for c in arg):
        quoted = arg
    else:
        quoted = '"' + "".join("\\" + c if c in '"`$\\' else c for c in arg) + '"'
    return quoted.replace("%", "%%").replace("\\", "\\\\")


def _split_exec(value: str) -> list[str]:
    """The inverse of _quote: string-level unescape, then the spec's quoting; ValueError when malformed."""
    text = value.replace("\\\\", "\0").replace("\\s", " ").replace("\0", "\\")
    parts, current, quoted, i, started = [], "", False, 0, False
    while i < len(text):
        c = text[i]
        if quoted and c == "\\" and i + 1 < len(text) and text[i + 1] in '"`$\\':
            current, i = current + text[i + 1], i + 2
            continue
        if c == '"':
            quoted, started = not quoted, True
        elif c == " " and not quoted:
            if started or current:
                parts.append(current)
            current, started = "", False
        else:
            current += c
        i += 1
    if quoted:
        raise ValueError("unterminated quote")
    if started or current:
        parts.append(current)
    return [p.replace("%%", "%") for p in parts]


def render_entry(command: list[str]) -> str:
    exec_line = " ".join(_quote(part) for part in [*command, LOGIN_FLAG])
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
                parts = _split_exec(line[len("Exec=") :])
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
