"""The tray app on a display with no session bus leaves no D-Bus daemon behind."""

import json
import socket
import subprocess
import sys
import uuid

import pytest

from polaris_tray.core.platform.session_bus import NO_BUS, settle_session_bus, user_bus_address
from tests.support.app import ROOT, app_env
from tests.support.services import XDisplay


def test_a_bus_already_named_is_left_alone():
    env = {"DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1000/bus"}
    assert settle_session_bus(env, uid=1000, platform="linux") is None
    assert env["DBUS_SESSION_BUS_ADDRESS"] == "unix:path=/run/user/1000/bus"


def test_the_users_bus_socket_is_named_when_unset(tmp_path):
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "bus"))
        env = {"XDG_RUNTIME_DIR": str(tmp_path)}
        assert settle_session_bus(env, uid=(tmp_path / "bus").stat().st_uid, platform="linux")
        assert env["DBUS_SESSION_BUS_ADDRESS"] == f"unix:path={tmp_path}/bus"
        # a socket someone else owns is not our session
        assert user_bus_address({"XDG_RUNTIME_DIR": str(tmp_path)}, uid=12345) is None


def test_no_bus_turns_autolaunch_off(tmp_path):
    (tmp_path / "bus").write_text("not a socket")
    for env in ({}, {"XDG_RUNTIME_DIR": str(tmp_path)}, {"DBUS_SESSION_BUS_ADDRESS": ""}):
        assert settle_session_bus(env, uid=0, platform="linux") == NO_BUS
        assert env["DBUS_SESSION_BUS_ADDRESS"] == NO_BUS


def test_windows_and_macos_are_untouched():
    for platform in ("win32", "darwin"):
        env = {}
        assert settle_session_bus(env, uid=0, platform=platform) is None
        assert env == {}


def _reaped(args, env, timeout=60):
    """Runs the app under a subreaper: what it left running is named by PID (tests/support/reaper.py)."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.reaper", "--", sys.executable, "-m", "polaris_tray", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.gui
def test_tray_app_without_a_session_bus_leaves_no_daemon_after_quit(home):
    # A display of its own: an autolaunched bus already on a shared display would be reused, not started.
    display = XDisplay(with_tray=False).start()
    try:
        env = app_env(
            home,
            DISPLAY=display.display,
            QT_QPA_PLATFORM="xcb",
            POLARIS_TRAY_INSTANCE=f"polaris-test-{uuid.uuid4().hex[:8]}",
        )
        assert not any(k.startswith("DBUS_") for k in env)
        app = _reaped(["--demo"], env)
        for line in app.stderr:
            if "-> online" in line:
                break
        else:
            pytest.fail(f"the app never went online: {app.communicate()}")
        quitter = _reaped(["--quit"], env)
        quit_out, quit_err = quitter.communicate(timeout=60)
        app_out, app_err = app.communicate(timeout=60)
    finally:
        display.stop()
    for out, err in ((app_out, app_err), (quit_out, quit_err)):
        report = json.loads(out.strip().splitlines()[-1])
        assert report["returncode"] == 0, err
        assert report["left"] == [], f"still running after --quit: {report['left']}"
