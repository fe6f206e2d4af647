"""Start at login: Linux for real in a temporary home; Windows with a fake registry; macOS plist content."""

import os
import plistlib
import shutil
import stat
import subprocess

import pytest

from polaris_tray.core.platform.autostart.base import AutostartState, launch_program
from polaris_tray.core.platform.autostart.macos import LaunchAgent
from polaris_tray.core.platform.autostart.windows import WindowsRunKey, approval_disabled
from polaris_tray.core.platform.autostart.xdg import (
    OLD_FILE_NAME,
    XdgAutostart,
    exec_program,
    render_entry,
)
from tests.support.app import app_env, run_app

MINER = "miner-abcdef123456"


def test_cli_on_status_off_writes_a_valid_xdg_entry(home):
    env = app_env(home)
    on = run_app(["--autostart", "on"], env)
    assert on.returncode == 0, on.stderr
    entry = home / ".config" / "autostart" / "io.polaris.tray.desktop"
    assert on.stdout.startswith("enabled ") and str(entry) in on.stdout
    text = entry.read_text()
    validate = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True)
    assert validate.returncode == 0 and not validate.stdout.strip(), validate.stdout
    program = exec_program(text)
    assert os.path.isabs(program) and os.access(program, os.X_OK)
    assert "--login" in text and "X-GNOME-Autostart-Delay=" in text
    assert f"\nTryExec={program}\n" in text  # a deleted build makes the entry skipped, not fail
    assert MINER not in text
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    status = run_app(["--autostart", "status"], env)
    assert status.returncode == 0 and status.stdout.split()[0] == "enabled"
    off = run_app(["--autostart", "off"], env)
    assert off.returncode == 0 and off.stdout.strip() == "disabled"
    assert not entry.exists()
    assert run_app(["--autostart", "status"], env).stdout.strip() == "disabled"


def test_an_entry_pointing_at_a_moved_program_is_stale_and_rewritten(tmp_path):
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    gone = tmp_path / "old-place" / "polaris-tray"
    entry = XdgAutostart(environ=env, command=[str(gone)])
    entry.enable()
    status = entry.status()
    assert status.state is AutostartState.STALE and status.location == str(entry.path)
    fresh = XdgAutostart(environ=env, command=[shutil.which("true")])
    assert fresh.repair_if_stale() is True
    assert fresh.status().state is AutostartState.ENABLED


def test_exec_is_quoted_for_paths_with_spaces(tmp_path):
    program = tmp_path / "My Apps" / "polaris tray"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    text = render_entry([str(program)])
    assert f'Exec="{program}" --login' in text
    assert exec_program(text) == str(program)
    desktop = tmp_path / "io.polaris.tray.desktop"
    desktop.write_text(text)
    assert subprocess.run(["desktop-file-validate", str(desktop)], capture_output=True).returncode == 0


def test_launch_program_prefers_appimage_then_frozen(monkeypatch, tmp_path):
    assert launch_program({"APPIMAGE": "/opt/Polaris.AppImage"}) == ["/opt/Polaris.AppImage"]
    monkeypatch.setattr("sys.frozen", True, raising=False)
    monkeypatch.setattr("sys.executable", "/opt/polaris-tray/polaris-tray")
    assert launch_program({}) == ["/opt/polaris-tray/polaris-tray"]


class FakeRunKey:
    """Stands in for HKCU\\...\\Run: the one OS fact that cannot be produced here."""

    def __init__(self):
        self.value = None
        self.approved = None  # Explorer\\StartupApproved\\Run: Task Manager's on/off flag

    def get(self):
        return self.value

    def set(self, value):
        self.value = value

    def delete(self):
        self.value = None

    def approval(self):
        return self.approved

    def clear_approval(self):
        self.approved = None


def test_windows_run_key(tmp_path):
    exe = tmp_path / "Polaris Tray" / "polaris-tray.exe"
    exe.parent.mkdir()
    exe.write_bytes(b"MZ")
    exe.chmod(0o755)  # what any existing file is on Windows
    registry = FakeRunKey()
    entry = WindowsRunKey(registry, command=[str(exe)])
    assert entry.status().state is AutostartState.DISABLED
    entry.enable()
    assert registry.value == f'"{exe}" --login'
    assert entry.status().state is AutostartState.ENABLED
    exe.unlink()
    assert entry.status().state is AutostartState.STALE
    entry.disable()
    assert registry.value is None and entry.status().state is AutostartState.DISABLED


@pytest.mark.parametrize(
    ("data", "disabled"),
    [(None, False), (b"", False), (bytes([2]) + bytes(11), False), (bytes([6]) + bytes(11), False),
     (bytes([3]) + bytes(11), True), (bytes([7]) + bytes(11), True)],
)  # fmt: skip
def test_task_managers_startup_flag(data, disabled):
    """Explorer\\StartupApproved\\Run: an odd first byte is "Disabled" in Task Manager's Startup tab."""
    assert approval_disabled(data) is disabled


def test_windows_run_key_turned_off_in_task_manager(tmp_path):
    exe = tmp_path / "polaris-tray-gui.exe"
    exe.write_bytes(b"MZ")
    exe.chmod(0o755)
    registry = FakeRunKey()
    entry = WindowsRunKey(registry, command=[str(exe)])
    entry.enable()
    registry.approved = bytes([3]) + bytes(11)
    assert entry.status().state is AutostartState.DISABLED
    entry.enable()  # on means on: Task Manager's flag is cleared
    assert registry.approved is None and entry.status().state is AutostartState.ENABLED


def test_macos_launch_agent_plist(tmp_path):
    program = shutil.which("true")
    agent = LaunchAgent(home=tmp_path, command=[program])
    agent.enable()
    data = plistlib.loads(agent.path.read_bytes())
    assert agent.path.parent == tmp_path / "Library" / "LaunchAgents"
    assert data["ProgramArguments"] == [program, "--login"]
    assert data["RunAtLoad"] is True
    assert "KeepAlive" not in data  # Quit stays quit
    assert agent.status().state is AutostartState.ENABLED
    agent.path.write_bytes(plistlib.dumps({"Label": "x", "ProgramArguments": ["/gone/polaris-tray"]}))
    assert agent.status().state is AutostartState.STALE
    agent.disable()
    assert agent.status().state is AutostartState.DISABLED


@pytest.mark.parametrize("cls", ["xdg", "mac"])
def test_no_secret_in_any_entry(tmp_path, monkeypatch, cls):
    monkeypatch.setenv("POLARIS_MINER_ID", MINER)
    if cls == "xdg":
        entry = XdgAutostart(environ={"HOME": str(tmp_path)}, command=[shutil.which("true")])
    else:
        entry = LaunchAgent(home=tmp_path, command=[shutil.which("true")])
    entry.enable()
    assert MINER.encode() not in entry.path.read_bytes()


def _program(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return str(path)


def test_an_entry_starting_another_copy_is_named_by_status_and_refreshed_at_start(tmp_path, caplog):
    """After moving from the checkout to the tarball, the entry once still started the checkout and status
    said "enabled". Now status names the other copy, and the app's start points it here."""
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    old = _program(tmp_path / "checkout" / ".venv" / "bin" / "polaris-tray")
    new = _program(tmp_path / "polaris-tray-1.0" / "polaris-tray")
    XdgAutostart(environ=env, command=[old]).enable()
    here = XdgAutostart(environ=env, command=[new])
    assert here.status().state is AutostartState.ENABLED
    assert here.elsewhere() == old
    from polaris_tray.cli.autostart import status_line

    assert status_line(here) == (
        f"enabled, but starts {old}: run --autostart on to point it here ({here.path})"
    )
    with caplog.at_level("INFO"):
        assert here.repair_if_stale() is True
    assert exec_program(here.path.read_text()) == new and here.elsewhere() is None
    assert f"started {old}; it now starts {new}" in caplog.text
    assert here.repair_if_stale() is False  # pointing here already: nothing is rewritten
    assert status_line(here) == f"enabled {here.path}"


def test_the_cli_status_names_the_other_copy(home, tmp_path):
    other = _program(tmp_path / "elsewhere" / "polaris-tray")
    XdgAutostart(environ={"HOME": str(home)}, command=[other]).enable()
    status = run_app(["--autostart", "status"], app_env(home))
    assert status.returncode == 0
    assert status.stdout.startswith(f"enabled, but starts {other}: run --autostart on to point it here")
    assert run_app(["--autostart", "on"], app_env(home)).stdout.startswith("enabled ")
    assert run_app(["--autostart", "status"], app_env(home)).stdout.startswith("enabled /")


def test_an_entry_of_the_old_name_is_migrated_to_the_one_desktop_id(tmp_path):
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    program = _program(tmp_path / "bin" / "polaris-tray")
    entry = XdgAutostart(environ=env, command=[program])
    entry.old_path.parent.mkdir(parents=True)
    entry.old_path.write_text(render_entry([program]))  # as the app wrote it before it used the desktop id
    assert entry.old_path.name == OLD_FILE_NAME
    status = entry.status()
    assert status.state is AutostartState.STALE and status.location == str(entry.old_path)
    assert entry.repair_if_stale() is True
    assert entry.path.is_file() and not entry.old_path.exists()  # one entry: never started twice
    assert entry.status().state is AutostartState.ENABLED
    entry.old_path.write_text(render_entry([program]))
    entry.disable()
    assert not entry.path.exists() and not entry.old_path.exists()


@pytest.mark.gui
def test_the_tray_at_start_points_an_entry_of_another_copy_here_and_logs_it(home, orchestrator, x_display):
    """The reported case: autostart set up from the checkout, then the tarball run; the tray's start
    rewrites the entry (old name migrated too) to start the program that is running now."""
    from tests.support.app import files_containing, start_app
    from tests.support.gui import gui_env, stop, wait_colour

    checkout = _program(home / "old-checkout" / ".venv" / "bin" / "polaris-tray")
    old_entry = home / ".config" / "autostart" / OLD_FILE_NAME
    old_entry.parent.mkdir(parents=True)
    old_entry.write_text(render_entry([checkout]))  # the old name, starting the other copy
    proc = start_app(["--server-url", orchestrator.url, "--interval", "1"], gui_env(home, x_display))
    try:
        wait_colour(x_display, "green", 15)
    finally:
        stop(proc)
    entry = home / ".config" / "autostart" / "io.polaris.tray.desktop"
    assert not old_entry.exists()
    program = exec_program(entry.read_text())
    assert program == launch_program()[0] and program != checkout
    logs = files_containing(home / ".local" / "state", "it now starts")
    assert logs and checkout in logs[0].read_text()
