"""The platform layer's facts under a simulated Windows and macOS, in this process (see conftest.py).

Each test names the defect it guards (what went wrong on that OS before); the simulation
(tests/support/platform_sim.py) says what such a test can and cannot prove.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import sys
import threading
from pathlib import Path

import pytest

from polaris_tray.core.platform.instance_dir import InstanceLock, send_to_running
from polaris_tray.core.storage.paths import UnsafePath, ensure_private_dir

THIRTY_DAYS = 30 * 86400


def test_win32_holder_is_readable_while_the_agent_holds_the_lock(win32, short_home):
    """Windows locks are mandatory: with byte 0 locked, the second launch's read of the holder line raised
    PermissionError. The lock now sits far past the text."""
    directory = ensure_private_dir(short_home / "lockdir")
    first, second = InstanceLock(directory, "x"), InstanceLock(directory, "x")
    assert first.acquire("tray")
    try:
        assert not second.acquire("tray")
        assert second.holder() == f"tray {os.getpid()}"
        assert second.channel() == first.channel() != ""
    finally:
        first.release()
    assert second.acquire("headless")  # released means released, at once
    second.release()


def test_win32_holder_never_raises_on_a_locked_or_missing_file(win32, short_home):
    import msvcrt

    directory = ensure_private_dir(short_home / "lockdir")
    lock = InstanceLock(directory, "y")
    assert lock.holder() == "" and lock.channel() == ""  # nothing there yet
    assert lock.acquire("tray")
    fd = os.open(lock.path, os.O_RDWR | os.O_BINARY)
    try:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 8)  # someone else's lock over the text itself
        other = InstanceLock(directory, "y")
        assert other.holder() == ""  # unknown, but no traceback
    finally:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 8)
        os.close(fd)
        lock.release()


def test_win32_pipe_name_is_per_user_per_session_and_unguessable(win32, short_home, monkeypatch):
    """The old name was \\\\.\\pipe\\polaris-tray for every user: fast user switching sent one user's launches
    to another's agent, and anyone could squat it."""
    directory = ensure_private_dir(short_home / "lockdir")
    lock = InstanceLock(directory, "polaris-tray")
    assert lock.acquire("tray")
    try:
        name = lock.channel()
        token = lock.path.read_text().splitlines()[1].split()[1]
        assert name.endswith(token) and len(token) == 32  # 128 random bits, readable only in our profile
        assert "-s1-" in name  # the session
        monkeypatch.setenv("USERNAME", "someone-else")
        assert InstanceLock(directory, "polaris-tray").channel() != name  # another user's differs
    finally:
        lock.release()
    again = InstanceLock(directory, "polaris-tray")
    assert again.acquire("tray")
    assert again.channel() != name  # a new agent, a new token: an old name leads nowhere
    again.release()


def test_win32_uptime_after_30_days_is_positive(win32):
    """ctypes returns a C int unless told otherwise: GetTickCount64 gave -1702967 s after 30 days."""
    from polaris_tray.core.heartbeat.metrics import system_uptime

    assert THIRTY_DAYS <= system_uptime() < THIRTY_DAYS + 600


def test_win32_load_average_comes_from_psutil(win32):
    from polaris_tray.core.heartbeat.metrics import SystemSampler

    assert not hasattr(os, "getloadavg")
    _metrics, _info, resources = SystemSampler("127.0.0.1").sample(1.0)
    assert resources.load_average is not None and len(resources.load_average) == 3


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_a_suspend_is_seen_by_the_default_clocks(platform, request):
    """Windows' time.monotonic counts sleep, so monotonic against the wall clock never moved on a wake."""
    from polaris_tray.core.heartbeat.wake import ResumeDetector, default_clocks

    sim = request.getfixturevalue(platform)
    detector = ResumeDetector(*default_clocks())
    assert detector.poll() is None
    sim.suspend(600)
    slept = detector.poll()
    assert slept is not None and 599 < slept < 610
    assert detector.poll() is None  # told once


def test_win32_log_and_settings_files_are_opened_binary(win32, short_home):
    """Without O_BINARY the C runtime writes '\\n' as '\\r\\n' (log lines ended '\\r\\r\\n') and ends a
    read at Ctrl-Z."""
    import logging

    from polaris_tray.core.storage import paths
    from polaris_tray.core.storage.logs import setup_logging

    log_dir = paths.log_dir()
    assert short_home in log_dir.parents  # %LOCALAPPDATA% under the test's home, never the real profile
    try:
        path = setup_logging("INFO", log_dir, console=False)
        logging.getLogger("test").info("a line")
    finally:
        setup_logging("INFO", None, console=False)
    assert path is not None and path.read_bytes().endswith(b"a line\n")
    assert win32.text_mode_opens == []


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_settings_save_and_load_in_the_os_folder(platform, request, short_home):
    from polaris_tray.core.config.settings import Settings, SettingsStore

    request.getfixturevalue(platform)
    store = SettingsStore()
    want = {"win32": ("AppData", "Local"), "darwin": ("Library", "Application Support")}[platform]
    assert store.path == short_home.joinpath(*want, "polaris-tray", "settings.json")
    store.save(Settings(server_url="https://orchestrator.example/api/v1", interval_s=20))
    loaded = SettingsStore().load()
    assert loaded.settings.interval_s == 20 and loaded.warnings == []
    assert loaded.settings.server_url == "https://orchestrator.example/api/v1"


def test_win32_miner_id_file_is_refused_with_a_way_out(win32, short_home):
    """The permission checks were skipped on Windows, though the README promises such files are refused."""
    from polaris_tray.core.config.secret_file import UnsafeSecretFile, read_secret_file

    path = short_home / "miner-id"
    path.write_text("miner-abc")
    with pytest.raises(UnsafeSecretFile) as refused:
        read_secret_file(path)
    assert "--set-miner-id" in str(refused.value) and "POLARIS_MINER_ID" in str(refused.value)


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_install_desktop_is_refused_off_linux(platform, request, short_home, capsys):
    from polaris_tray.cli import main

    request.getfixturevalue(platform)
    assert main(["--install-desktop"]) == 1
    assert "for Linux desktops" in capsys.readouterr().err
    assert not (short_home / ".local").exists()  # no XDG file written


def test_win32_run_key_points_at_the_gui_script(win32, short_home, monkeypatch):
    """A pip install's console script opened a console window at every login."""
    from polaris_tray.core.platform.autostart.base import launch_program

    scripts = short_home / "venv" / "Scripts"
    scripts.mkdir(parents=True)
    for name in ("python.exe", "polaris-tray.exe", "polaris-tray-gui.exe"):
        (scripts / name).write_text("")
        (scripts / name).chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(scripts / "python.exe"))
    monkeypatch.setenv("PATHEXT", ".exe")  # Windows' is .COM;.EXE;..., matched without regard to case
    monkeypatch.setenv("PATH", str(short_home))
    assert launch_program({}) == [str(scripts / "polaris-tray-gui.exe")]
    for name in ("polaris-tray-gui.exe", "polaris-tray.exe"):
        (scripts / name).unlink()
    (scripts / "pythonw.exe").write_text("")
    assert launch_program({}) == [str(scripts / "pythonw.exe"), "-m", "polaris_tray"]


def test_win32_task_manager_off_is_honoured_and_on_turns_it_back_on(win32, short_home):
    import winreg

    from polaris_tray.core.platform.autostart.base import AutostartState
    from polaris_tray.core.platform.autostart.windows import APPROVED_KEY, VALUE_NAME, WindowsRunKey

    exe = short_home / "polaris-tray-gui.exe"
    exe.write_text("")
    exe.chmod(0o755)
    entry = WindowsRunKey(command=[str(exe)])
    entry.enable()
    assert entry.status().state is AutostartState.ENABLED
    with winreg.CreateKey(winreg.HKEY_CURRENT_USER, APPROVED_KEY) as key:  # what Task Manager writes
        winreg.SetValueEx(key, VALUE_NAME, 0, winreg.REG_BINARY, bytes([3]) + bytes(11))
    status = entry.status()
    assert status.state is AutostartState.DISABLED and "Task Manager" in (status.location or "")
    entry.enable()
    assert entry.status().state is AutostartState.ENABLED
    entry.disable()
    assert entry.status().state is AutostartState.DISABLED


def test_darwin_lock_lives_in_application_support_not_tmp(darwin, short_home):
    """/tmp is swept of files untouched for 3 days: a later launch started a second agent."""
    lock = InstanceLock()
    assert lock.directory == short_home / "Library" / "Application Support" / "polaris-tray" / "run"
    assert stat.S_IMODE(lock.directory.stat().st_mode) == 0o700
    assert not str(lock.path).startswith(("/tmp/polaris", "/var/folders"))


def test_darwin_autostart_from_a_translocated_app_is_refused(darwin, short_home):
    from polaris_tray.core.platform.autostart.base import AutostartError
    from polaris_tray.core.platform.autostart.macos import LaunchAgent

    moved = "/private/var/folders/ab/T/AppTranslocation/1F2E/d/Polaris Tray.app/Contents/MacOS/polaris-tray"
    agent = LaunchAgent(home=short_home, command=[moved])
    with pytest.raises(AutostartError, match="/Applications"):
        agent.enable()
    assert not agent.path.exists()


def test_darwin_notification_outside_a_bundle_goes_through_osascript(darwin, short_home, monkeypatch):
    """Notification Center drops what an unbundled app posts; osascript's notification is shown."""
    from polaris_tray.gui.tray.notifications import DesktopNotifier

    bin_dir = short_home / "bin"
    bin_dir.mkdir()
    record, fake = short_home / "argv.json", bin_dir / "osascript"
    fake.write_text(
        f"#!{sys.executable}\nimport json, sys\nopen({str(record)!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    shown = []
    notifier = DesktopNotifier(lambda *args: shown.append(args))
    assert notifier.notify("Polaris Tray", 'Offline: "quotes" & $(things)') == "osascript"
    args = json.loads(record.read_text())
    assert args[-2:] == ["Polaris Tray", 'Offline: "quotes" & $(things)']  # arguments, never script text
    assert shown == []
    fake.unlink()  # no osascript at all: the tray icon's message
    assert notifier.notify("Polaris Tray", "x") == "tray" and shown


@pytest.mark.qt_log_ignore("does not support grabbing the keyboard")  # the offscreen platform
def test_darwin_left_click_opens_the_status_window_only(darwin, qapp):
    """Cocoa opens a context menu set on the icon at every click and emits Trigger too."""
    from PySide6.QtWidgets import QSystemTrayIcon

    from polaris_tray.gui.tray.icon import TrayIcon

    tray = TrayIcon()
    opened = []
    tray.status_requested.connect(lambda: opened.append("status"))
    try:
        assert tray.icon.contextMenu() is None  # Cocoa has no menu to pop on a left click
        tray._on_activated(QSystemTrayIcon.ActivationReason.Trigger)
        assert opened == ["status"] and not tray.menu.isVisible()
        tray._on_activated(QSystemTrayIcon.ActivationReason.Context)  # right or control-click
        assert tray.menu.isVisible() and opened == ["status"]
        tray.rebuild()
        assert tray.icon.contextMenu() is None
    finally:
        tray.menu.hide()
        tray.hide()


def test_linux_keeps_the_menu_on_the_icon(qapp):
    from polaris_tray.gui.tray.icon import TrayIcon

    tray = TrayIcon()
    try:
        assert tray.icon.contextMenu() is tray.menu
    finally:
        tray.hide()


def test_the_simulation_removes_what_windows_python_lacks(win32):
    """The harness itself: a test of ours that passed here while calling a POSIX-only API would mislead."""
    import socket

    for module in ("fcntl", "pwd", "grp"):
        with pytest.raises(ImportError):
            __import__(module)
    assert not hasattr(os, "geteuid") and not hasattr(socket, "AF_UNIX")
    with socket.create_server(("127.0.0.1", 0)) as sock, pytest.raises(OSError):
        os.dup(sock.fileno())
    assert sys.platform == "win32" and Path(os.environ["LOCALAPPDATA"]).is_relative_to(Path.home())


def _answer_once(path: Path) -> threading.Thread:
    """A control channel at path that answers one request with "ok" (as the tray's QLocalServer does)."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)

    def serve() -> None:
        with server, server.accept()[0] as conn:
            conn.recv(4096)
            conn.sendall(b"ok\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def test_darwin_long_home_puts_the_socket_where_every_launch_finds_it(darwin, short_home, monkeypatch):
    """A socket path past 104 bytes (a long home) could not be bound on macOS and had no fallback."""
    home = short_home / ("a-rather-long-user-folder-" * 3)
    home.mkdir(mode=0o700)
    monkeypatch.setenv("HOME", str(home))
    first, second = InstanceLock(name="long"), InstanceLock(name="long")
    assert first.directory == home / "Library" / "Application Support" / "polaris-tray" / "run"
    assert len(str(first.directory / "long.sock").encode()) > 104
    assert first.socket_path == second.socket_path != InstanceLock(name="other").socket_path
    assert first.socket_path.parent == Path(f"/tmp/polaris-tray-{os.geteuid()}")
    assert len(str(first.socket_path).encode()) < 100 and first.path.parent == first.directory
    assert first.acquire("tray")
    try:
        first.clear_stale_socket()  # the holder makes the short directory, ours and 0700
        info = first.socket_path.parent.stat()
        assert stat.S_IMODE(info.st_mode) == 0o700 and info.st_uid == os.geteuid()
        thread = _answer_once(first.socket_path)
        assert send_to_running({"show": True}, second) == "ok"
        thread.join(5)
    finally:
        first.release()
        first.socket_path.unlink(missing_ok=True)


def test_darwin_short_socket_dir_of_someone_else_is_refused(darwin, short_home, monkeypatch, tmp_path):
    """The fallback directory's name is predictable: one another user made first (or left open) is never
    used, by the holder or by a launch looking for it."""
    from polaris_tray.core.platform import instance_dir

    monkeypatch.setattr(instance_dir, "TMP_ROOT", tmp_path)
    home = short_home / ("a-rather-long-user-folder-" * 3)
    home.mkdir(mode=0o700)
    monkeypatch.setenv("HOME", str(home))
    lock = InstanceLock(name="long")
    planted = tmp_path / f"polaris-tray-{os.geteuid()}"
    assert lock.socket_path.parent == planted
    planted.mkdir(mode=0o755)
    planted.chmod(0o755)
    thread = _answer_once(lock.socket_path)
    assert send_to_running({"show": True}, InstanceLock(name="long")) is None  # open to others: not ours
    with pytest.raises(UnsafePath):
        lock.clear_stale_socket()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:  # what the check kept us from
        client.connect(str(lock.socket_path))
        client.sendall(b"{}\n")
        assert client.recv(16) == b"ok\n"
    thread.join(5)


def test_linux_keeps_the_socket_beside_the_lock_up_to_its_own_limit(tmp_path):
    """Linux's sun_path is 108 bytes (Qt binds up to 106): a 106-byte path stays where it always was
    (macOS would move it), a 107-byte one moves."""
    directory = tmp_path / ("d" * (106 - len(str(tmp_path)) - len("//x.sock")))
    assert len(str(directory / "x.sock").encode()) == 106
    assert InstanceLock(directory, "x").socket_path == directory / "x.sock"
    longer = tmp_path / ("d" * (107 - len(str(tmp_path)) - len("//x.sock")))
    assert InstanceLock(longer, "x").socket_path.parent == Path(f"/tmp/polaris-tray-{os.geteuid()}")
