"""Start at login: one interface, one small module per platform, and the launch command they all record."""

from __future__ import annotations

import enum
import logging
import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

LOGIN_FLAG = "--login"  # a login launch waits for the tray and opens no dialog


class AutostartError(Exception):
    pass


class AutostartState(str, enum.Enum):
    ENABLED = "enabled"
    DISABLED = "disabled"
    STALE = "stale"  # an entry whose program no longer exists


@dataclass(frozen=True)
class AutostartStatus:
    state: AutostartState
    location: str | None = None
    program: str | None = None


def launch_program(environ: Mapping[str, str] | None = None, argv0: str | None = None) -> list[str]:
    """The absolute command that launched us: the frozen executable, $APPIMAGE, else the installed script."""
    environ = os.environ if environ is None else environ
    if environ.get("APPIMAGE"):
        return [str(Path(environ["APPIMAGE"]).absolute())]
    if getattr(sys, "frozen", False):
        return [str(Path(sys.executable).absolute())]
    # Windows: the gui-scripts launcher, which opens no console window at every login.
    names = ("polaris-tray-gui", "polaris-tray") if sys.platform == "win32" else ("polaris-tray",)
    for name in names:
        script = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
        if script:
            return [str(Path(script).absolute())]
    # Running from a checkout without the script installed: the interpreter and the module.
    # (absolute, not resolved: resolving the venv's python would step out of the venv)
    python = Path(sys.executable)
    if sys.platform == "win32" and (python.parent / "pythonw.exe").is_file():
        python = python.parent / "pythonw.exe"  # no console window either
    return [str(python.absolute()), "-m", "polaris_tray"]


class Autostart:
    """Per platform: status() reads, enable() writes (rewriting a stale entry), disable() removes."""

    def status(self) -> AutostartStatus:  # pragma: no cover - interface
        raise NotImplementedError

    def enable(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def disable(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def is_enabled(self) -> bool:
        return self.status().state is AutostartState.ENABLED

    def command(self) -> list[str]:
        """What the entry should start: this running app (a backend built with a command uses that)."""
        return getattr(self, "_command", None) or launch_program()

    def elsewhere(self, status: AutostartStatus | None = None) -> str | None:
        """The program an enabled entry starts when that is not this app (an old place, another copy)."""
        status = status or self.status()
        if status.state is not AutostartState.ENABLED or not status.program:
            return None
        return None if same_program(status.program, self.command()[0]) else status.program

    def repair_if_stale(self) -> bool:
        """At launch: an entry of ours that starts a program that moved, or another copy of the app (the
        checkout's after installing the tarball), is rewritten to start this one. True when rewritten."""
        status = self.status()
        other = self.elsewhere(status)
        if other and not looks_like_this_app(other):
            log.info("Start at login starts %s, not this app: left as it is", other)
            return False
        if status.state is AutostartState.STALE or other:
            self.enable()
            log.info("Start at login started %s; it now starts %s", status.program, self.command()[0])
            return True
        return False


def looks_like_this_app(program: str) -> bool:
    """A program this app's own entries start: a polaris-tray script, build or AppImage, or a Python (the
    checkout's `python -m polaris_tray`). A wrapper in front of it (env, sh, flatpak-spawn) is the user's."""
    name = "".join(c for c in os.path.basename(program).lower() if c.isalnum())
    return "polaristray" in name or name.startswith("python")


def same_program(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.normpath(a) == os.path.normpath(b)


def status_of(program: str | None, location: str) -> AutostartStatus:
    """Enabled when the entry's program is an absolute path to something runnable; stale otherwise."""
    runnable = bool(
        program and os.path.isabs(program) and Path(program).is_file() and os.access(program, os.X_OK)
    )
    return AutostartStatus(AutostartState.ENABLED if runnable else AutostartState.STALE, location, program)


class FileAutostart(Autostart):
    """An entry that is one file of ours (an XDG .desktop file, a macOS LaunchAgent plist)."""

    path: Path

    def render(self) -> bytes:  # pragma: no cover - interface
        raise NotImplementedError

    def enable(self) -> None:
        from polaris_tray.core.storage.paths import write_private_file

        try:
            write_private_file(self.path, self.render())
        except OSError as exc:
            raise AutostartError(f"Cannot write {self.path}: {exc.strerror}") from None

    def disable(self) -> None:
        remove_entry(self.path)


def remove_entry(path: Path) -> None:
    """Unlinked (a symlink itself, never its target); already gone is fine."""
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise AutostartError(f"Cannot remove {path}: {exc.strerror}") from None
