"""The tray started with a DISPLAY that names no running X server (a stale ssh -X forwarding, a login
script exporting a display that is gone): a sentence naming the display and exit 2, never Qt's abort."""

import pytest

from tests.support.app import app_env, run_app
from tests.support.services import _display_free

pytestmark = pytest.mark.linux(reason="X display numbers and Qt's xcb plugin")


def test_a_display_nobody_serves_is_named_and_the_app_exits_cleanly(home, orchestrator):
    number = next(n for n in range(300, 400) if _display_free(n))
    env = app_env(home, DISPLAY=f":{number}.0")
    for name in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "XDG_SESSION_TYPE"):
        env.pop(name, None)
    result = run_app(["--server-url", orchestrator.url], env)
    assert result.returncode == 2, (result.returncode, result.stderr)  # not -6 (SIGABRT) nor a core dump
    assert "cannot reach the graphical display" in result.stderr
    assert f"/tmp/.X11-unix/X{number} (DISPLAY=:{number}.0)" in result.stderr
    assert "--headless" in result.stderr and "Check DISPLAY" in result.stderr
    assert "could not connect to display" not in result.stderr and orchestrator.arrivals == []


def test_a_gone_wayland_with_a_gone_x_is_refused_too(home, orchestrator, tmp_path):
    number = next(n for n in range(300, 400) if _display_free(n))
    env = app_env(home, DISPLAY=f":{number}", WAYLAND_DISPLAY="wayland-gone", XDG_RUNTIME_DIR=str(tmp_path))
    env.pop("QT_QPA_PLATFORM", None)
    result = run_app(["--server-url", orchestrator.url], env)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert f"no Wayland compositor answers at {tmp_path}/wayland-gone" in result.stderr
    assert f"X{number}" in result.stderr and orchestrator.arrivals == []
