"""Windows: a value under HKCU\\...\\CurrentVersion\\Run, behind a small registry seam for tests.

Task Manager's Startup tab does not delete that value when a user turns an entry off: it writes a
REG_BINARY under Explorer\\StartupApproved\\Run whose first byte is odd. Status honours it, and `on`
removes it (no value there means enabled), so turning autostart on here really turns it on.
"""

from __future__ import annotations

import shlex
import sys

from polaris_tray.core.platform.autostart.base import (
    LOGIN_FLAG,
    Autostart,
    AutostartError,
    AutostartState,
    AutostartStatus,
    launch_program,
    status_of,
)

RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
APPROVED_KEY = r"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
VALUE_NAME = "Polaris Tray"
TURNED_OFF = "turned off in Task Manager's Startup apps"


class WinregRunKey:
    """The real registry; tests hand WindowsRunKey a fake with the same methods."""

    def get(self) -> str | None:
        if sys.platform != "win32":  # as the import would; the check also tells the type checker
            raise ModuleNotFoundError("winreg exists only on Windows")
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                value, _kind = winreg.QueryValueEx(key, VALUE_NAME)
                return str(value)
        except FileNotFoundError:
            return None

    def set(self, value: str) -> None:
        if sys.platform != "win32":  # as the import would; the check also tells the type checker
            raise ModuleNotFoundError("winreg exists only on Windows")
        import winreg

        with winreg.CreateKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
            winreg.SetValueEx(key, VALUE_NAME, 0, winreg.REG_SZ, value)

    def delete(self, key_path: str = RUN_KEY) -> None:
        if sys.platform != "win32":  # as the import would; the check also tells the type checker
            raise ModuleNotFoundError("winreg exists only on Windows")
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key_path, 0, winreg.KEY_SET_VALUE) as key:
                winreg.DeleteValue(key, VALUE_NAME)
        except FileNotFoundError:
            pass

    def approval(self) -> bytes | None:
        """Task Manager's flag for our value, or None when it never touched it."""
        if sys.platform != "win32":  # as the import would; the check also tells the type checker
            raise ModuleNotFoundError("winreg exists only on Windows")
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, APPROVED_KEY) as key:
                value, _kind = winreg.QueryValueEx(key, VALUE_NAME)
        except FileNotFoundError:
            return None
        return bytes(value) if isinstance(value, (bytes, bytearray)) else None

    def clear_approval(self) -> None:
        self.delete(APPROVED_KEY)


def command_line(command: list[str]) -> str:
    return " ".join(f'"{part}"' for part in command) + f" {LOGIN_FLAG}"


def program_of(value: str) -> str | None:
    try:
        parts = shlex.split(value, posix=False)
    except ValueError:
        return None
    return parts[0].strip('"') if parts else None


class WindowsRunKey(Autostart):
    def __init__(self, registry: WinregRunKey | None = None, command: list[str] | None = None) -> None:
        self._registry = registry or WinregRunKey()
        self._command = command

    def status(self) -> AutostartStatus:
        location = f"HKCU\\{RUN_KEY}\\{VALUE_NAME}"
        value = self._registry.get()
        if value is None:
            return AutostartStatus(AutostartState.DISABLED)
        if approval_disabled(self._registry.approval()):
            return AutostartStatus(AutostartState.DISABLED, f"{location} ({TURNED_OFF})", program_of(value))
        return status_of(program_of(value), location)

    def enable(self) -> None:
        try:
            self._registry.set(command_line(self._command or launch_program()))
            self._registry.clear_approval()  # Task Manager's "off" would otherwise win at the next login
        except OSError as exc:
            raise AutostartError(f"Cannot write the Run key: {exc}") from None

    def disable(self) -> None:
        try:
            self._registry.delete()
            self._registry.clear_approval()
        except OSError as exc:
            raise AutostartError(f"Cannot remove the Run key value: {exc}") from None


def approval_disabled(data: bytes | None) -> bool:
    """StartupApproved's first byte: even (02, 06) enabled, odd (03, 07) turned off by the user."""
    return bool(data and data[0] & 1)
