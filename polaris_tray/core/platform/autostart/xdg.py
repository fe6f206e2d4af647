"""Linux and BSD desktops: an XDG autostart entry in $XDG_CONFIG_HOME/autostart.

The entry has the menu entry's desktop id (io.polaris.tray.desktop), so a desktop sees one application;
an entry of the old name (polaris-tray.desktop) is migrated. It names the running build's own icon file
and TryExec its program: nothing it names is something --uninstall-desktop removes, and a build that is
deleted makes the entry skipped rather than fail at every login.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from polaris_tray import APP_DISPLAY_NAME
from polaris_tray.core.platform.autostart.base import (
    LOGIN_FLAG,
    AutostartError,
    AutostartState,
    AutostartStatus,
    FileAutostart,
    launch_program,
    remove_entry,
    status_of,
)
from polaris_tray.core.platform.resources import resources_dir

FILE_NAME = "io.polaris.tray.desktop"  # the menu entry's id too (desktop_install.DESKTOP_ID)
OLD_FILE_NAME = "polaris-tray.desktop"  # the name before the menu entry's id was used: migrated to FILE_NAME
ICON_NAME = "polaris-tray"  # in the icon theme, once --install-desktop put it there


def autostart_dir(environ: Mapping[str, str] | None = None) -> Path:
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


def plain_value(text: str) -> str:
    """A Desktop Entry string value (TryExec, Icon): no quoting, only the spec's escapes."""
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")


def build_icon() -> str:
    """The running build's own icon file (it lives as long as the program the entry starts), else the
    theme name."""
    icon = resources_dir() / "icons" / f"{ICON_NAME}-256.png"
    return str(icon) if icon.is_file() else ICON_NAME


def render_entry(command: list[str], icon: str | None = None) -> str:
    exec_line = " ".join(_quote(part) for part in [*command, LOGIN_FLAG])
    try_exec = [f"TryExec={plain_value(command[0])}"] if os.path.isabs(command[0]) else []
    return "\n".join(
        [
            "[Desktop Entry]",
            "Type=Application",
            f"Name={APP_DISPLAY_NAME}",
            "Comment=Keeps this machine visible to the Polaris orchestrator",
            *try_exec,
            f"Exec={exec_line}",
            f"Icon={plain_value(icon or ICON_NAME)}",
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
    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        command: list[str] | None = None,
        icon: str | None = None,
    ) -> None:
        self._environ = os.environ if environ is None else environ
        self._command = command
        self._icon = icon
        self.path = autostart_dir(self._environ) / FILE_NAME
        self.old_path = autostart_dir(self._environ) / OLD_FILE_NAME

    def command(self) -> list[str]:
        return self._command or launch_program(self._environ)

    def status(self) -> AutostartStatus:
        """The entry's state; an entry of the old name counts until it is migrated (enable rewrites it)."""
        path = (
            self.path if os.path.lexists(self.path) or not os.path.lexists(self.old_path) else self.old_path
        )
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return AutostartStatus(AutostartState.DISABLED)
        except OSError:
            return AutostartStatus(AutostartState.STALE, str(path))
        if "X-GNOME-Autostart-enabled=false" in text or "\nHidden=true" in text:
            return AutostartStatus(AutostartState.DISABLED, str(path))
        status = status_of(exec_program(text), str(path))
        if path == self.old_path and status.state is AutostartState.ENABLED:
            return AutostartStatus(AutostartState.STALE, status.location, status.program)  # to migrate
        return status

    def render(self) -> bytes:
        return render_entry(self.command(), self._icon or build_icon()).encode("utf-8")

    def enable(self) -> None:
        super().enable()
        self._remove_old()

    def disable(self) -> None:
        super().disable()
        self._remove_old()

    def _remove_old(self) -> None:
        """The old name goes (unlinked, never followed): two entries would start the app twice."""
        remove_entry(self.old_path)
