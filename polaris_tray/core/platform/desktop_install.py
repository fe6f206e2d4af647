"""Puts Polaris Tray into the user's applications menu (--install-desktop) and takes it out again.

A build unpacked anywhere has no menu entry. Per the XDG specs this writes, under $XDG_DATA_HOME
(~/.local/share):
  applications/io.polaris.tray.desktop     Exec= the absolute command that launched us
  icons/hicolor/NxN/apps/polaris-tray.png  every size the build carries, and scalable/…svg
No root, no system folder touched; --uninstall-desktop removes exactly these files. The start-at-login
entry shares the desktop id but names the build's own icon file, so removing these leaves it whole.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from polaris_tray import APP_DISPLAY_NAME
from polaris_tray.core.platform.autostart.base import launch_program
from polaris_tray.core.platform.autostart.xdg import (
    _quote,  # the Desktop Entry spec's quoting, one copy of it
    plain_value,
)
from polaris_tray.core.platform.resources import resources_dir

DESKTOP_ID = "io.polaris.tray.desktop"
ICON_NAME = "polaris-tray"


class DesktopInstallError(Exception):
    pass


def data_home(environ: Mapping[str, str] | None = None) -> Path:
    """$XDG_DATA_HOME when it is an absolute path (the spec ignores relative ones), else ~/.local/share."""
    environ = os.environ if environ is None else environ
    value = environ.get("XDG_DATA_HOME", "")
    if os.path.isabs(value):
        return Path(value)
    return Path(environ.get("HOME") or Path.home()) / ".local" / "share"


def icon_files(resources: Path) -> dict[str, Path]:
    """hicolor size folder -> the icon for it: every polaris-tray-N.png, and the SVG as scalable."""
    icons = resources / "icons"
    found = {}
    for png in sorted(icons.glob(f"{ICON_NAME}-*.png")):
        size = png.stem.rsplit("-", 1)[1]
        if size.isdigit():
            found[f"{size}x{size}"] = png
    if (icons / f"{ICON_NAME}.svg").is_file():
        found["scalable"] = icons / f"{ICON_NAME}.svg"
    return found


def render_entry(template: str, command: list[str]) -> str:
    """The menu entry: the template's text with Exec= the launch command (and TryExec= its program, so
    the entry hides itself, rather than fails, if the build is moved or deleted)."""
    lines = [line for line in template.splitlines() if not line.startswith(("Exec=", "TryExec="))]
    at = lines.index("[Desktop Entry]") + 1
    exec_line = " ".join(_quote(part) for part in command)  # _quote doubles % and escapes for the file
    extra = [f"Exec={exec_line}"]
    if os.path.isabs(command[0]):
        extra.insert(0, f"TryExec={plain_value(command[0])}")  # a string value, not an Exec line
    return "\n".join(lines[:at] + extra + lines[at:]) + "\n"


def _write(path: Path, data: bytes) -> None:
    """Atomic, readable like any installed application file (0644): a menu can't show half an entry."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def entry_path(environ: Mapping[str, str] | None = None) -> Path:
    return data_home(environ) / "applications" / DESKTOP_ID


def icon_path(data: Path, size_dir: str, source: Path) -> Path:
    return data / "icons" / "hicolor" / size_dir / "apps" / f"{ICON_NAME}{source.suffix}"


def install(
    environ: Mapping[str, str] | None = None, command: list[str] | None = None, resources: Path | None = None
) -> list[Path]:
    """Writes the icons, then the entry (last, so a menu never lists it without its icon)."""
    environ = os.environ if environ is None else environ
    resources = resources_dir() if resources is None else resources
    template = resources / DESKTOP_ID
    icons = icon_files(resources)
    if not template.is_file() or not icons:
        raise DesktopInstallError(
            f"The desktop entry and icons are not in {resources}: install from the build "
            "(dist/polaris-tray) or from the project's folder."
        )
    data = data_home(environ)
    written = []
    try:
        for size_dir, source in icons.items():
            target = icon_path(data, size_dir, source)
            _write(target, source.read_bytes())
            written.append(target)
        entry = entry_path(environ)
        text = render_entry(template.read_text(encoding="utf-8"), command or launch_program(environ))
        _write(entry, text.encode("utf-8"))
        written.append(entry)
    except OSError as exc:
        raise DesktopInstallError(f"Cannot write {exc.filename or data}: {exc.strerror}") from None
    _touch(data / "icons" / "hicolor")
    return written


def uninstall(environ: Mapping[str, str] | None = None) -> list[Path]:
    """Removes the entry and every polaris-tray icon in the user's hicolor theme; returns what it removed."""
    data = data_home(environ)
    candidates = [entry_path(environ), *sorted((data / "icons" / "hicolor").glob(f"*/apps/{ICON_NAME}.*"))]
    removed = []
    for path in candidates:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise DesktopInstallError(f"Cannot remove {path}: {exc.strerror}") from None
        removed.append(path)
    _touch(data / "icons" / "hicolor")
    return removed


def _touch(theme: Path) -> None:
    """Icon caches (GTK's, Qt's) notice a theme changed by its folder's mtime."""
    try:
        os.utime(theme)
    except OSError:
        pass


def main(install_it: bool, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """--install-desktop / --uninstall-desktop: says what it did, exit 0; 1 with the reason otherwise."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        paths = install() if install_it else uninstall()
    except DesktopInstallError as exc:
        if err:
            err.write(f"polaris-tray: {exc}\n")
        return 1
    if out:
        if install_it:
            out.write(f"{APP_DISPLAY_NAME} is in your applications menu: {paths[-1]}\n")
            out.write(f"icons: {len(paths) - 1} files under {data_home() / 'icons' / 'hicolor'}\n")
        else:
            out.write(f"removed {len(paths)} files\n" if paths else "nothing was installed\n")
            note = _autostart_note()
            if note:
                out.write(note + "\n")
        out.flush()
    return 0


def _autostart_note() -> str:
    """Uninstalling the menu entry leaves start at login as it was (it names nothing removed here): say so."""
    from polaris_tray.core.platform.autostart.xdg import XdgAutostart

    try:
        status = XdgAutostart().status()
    except OSError:
        return ""
    if status.state.value != "enabled":
        return ""
    return f"start at login stays on ({status.location}); `polaris-tray --autostart off` turns it off"
