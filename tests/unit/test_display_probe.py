"""The display probe (core/platform/display.py) against real listeners: a unix socket in tmp_path as a
Wayland compositor, a real Xvfb, a TCP X display on loopback; and the cli's decision of which must answer."""

import socket
import time

import pytest

from polaris_tray.cli import no_display_problem, qt_platforms
from polaris_tray.core.platform.display import probe_wayland, probe_x, x_endpoints
from tests.support.services import XDisplay, _display_free

pytestmark = pytest.mark.linux(reason="Xvfb, and the X and Wayland sockets of a Linux desktop")


@pytest.fixture
def compositor(tmp_path):
    """Something listening where a Wayland compositor would: $XDG_RUNTIME_DIR/wayland-test."""
    path = tmp_path / "wayland-test"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        server.listen(4)
        yield {"XDG_RUNTIME_DIR": str(tmp_path), "WAYLAND_DISPLAY": "wayland-test"}


@pytest.fixture(scope="module")
def xvfb():
    display = XDisplay(with_tray=False).start()
    yield display.display
    display.stop()


def _free_display() -> str:
    return f":{next(n for n in range(300, 400) if _display_free(n))}"


def test_display_names_are_read_as_xlib_reads_them():
    assert x_endpoints(":7") == ["\0/tmp/.X11-unix/X7", "/tmp/.X11-unix/X7"]
    assert x_endpoints("unix:7.1") == x_endpoints(":7.0") == x_endpoints(":7")
    assert x_endpoints("localhost:10.0") == [("localhost", 6010)]
    assert x_endpoints("tcp/example.org:2") == [("example.org", 6002)]
    assert x_endpoints("/private/tmp/com.apple.launchd.x/org.xquartz:0") == [
        "/private/tmp/com.apple.launchd.x/org.xquartz:0"
    ]
    assert x_endpoints("nonsense") is None and x_endpoints(":x") is None and x_endpoints("") is None


def test_a_running_x_server_answers_with_or_without_a_screen(xvfb):
    for name in (xvfb, f"{xvfb}.0", f"unix{xvfb}"):
        assert probe_x(name).reachable, name
    gone = _free_display()
    reach = probe_x(gone)
    assert not reach.reachable and f"/tmp/.X11-unix/X{gone[1:]}" in reach.where


def test_a_tcp_display_is_tried_on_loopback_with_a_short_timeout():
    with socket.socket() as server:
        for number in range(200, 400):  # a free port at 6000 + display number
            try:
                server.bind(("127.0.0.1", 6000 + number))
                break
            except OSError:
                continue
        server.listen(4)
        assert probe_x(f"127.0.0.1:{number}.0").reachable
    started = time.monotonic()
    reach = probe_x(f"127.0.0.1:{number}")  # closed now: refused at once
    assert not reach.reachable and f"127.0.0.1:{6000 + number} (TCP)" in reach.where
    assert time.monotonic() - started < 1.0


def test_a_compositor_socket_answers_and_a_dead_one_does_not(compositor, tmp_path):
    assert probe_wayland(compositor).reachable
    assert probe_wayland({"WAYLAND_DISPLAY": str(tmp_path / "wayland-test")}).reachable  # absolute path
    (tmp_path / "stale").touch()  # a file left where a compositor was: nobody listens
    reach = probe_wayland({**compositor, "WAYLAND_DISPLAY": "stale"})
    assert not reach.reachable and str(tmp_path / "stale") in reach.where
    assert not probe_wayland({"WAYLAND_DISPLAY": "wayland-0"}).reachable  # no runtime dir to look in


def test_qt_tries_wayland_first_in_a_wayland_session_and_xcb_alone_otherwise():
    assert qt_platforms({}) == ["xcb"]
    assert qt_platforms({"WAYLAND_DISPLAY": "wayland-1"}) == ["wayland", "xcb"]
    assert qt_platforms({"XDG_SESSION_TYPE": "wayland"}) == ["wayland", "xcb"]
    assert qt_platforms({"QT_QPA_PLATFORM": "wayland-egl;xcb:-display :3"}) == ["wayland-egl", "xcb"]
    assert qt_platforms({"QT_QPA_PLATFORM": ";"}) == ["xcb"]


def test_one_display_qt_can_use_is_enough(compositor, xvfb):
    gone = _free_display()
    assert no_display_problem({**compositor, "DISPLAY": gone}, "linux") is None  # Wayland answers
    assert no_display_problem({"WAYLAND_DISPLAY": "wayland-gone", "DISPLAY": xvfb}, "linux") is None
    assert no_display_problem({"DISPLAY": xvfb}, "linux") is None


def test_the_platform_qt_was_told_to_use_must_answer(compositor, xvfb):
    gone = _free_display()
    forced_x = no_display_problem({**compositor, "DISPLAY": gone, "QT_QPA_PLATFORM": "xcb"}, "linux")
    assert forced_x is not None and f"X{gone[1:]}" in forced_x and "--headless" in forced_x
    forced_wayland = no_display_problem({"DISPLAY": xvfb, "QT_QPA_PLATFORM": "wayland"}, "linux")
    assert "WAYLAND_DISPLAY=wayland-0 with no XDG_RUNTIME_DIR" in (forced_wayland or "")
    assert "DISPLAY is unset" in no_display_problem({"QT_QPA_PLATFORM": "xcb"}, "linux")


def test_a_platform_without_a_display_is_respected():
    gone = _free_display()
    for platform in ("offscreen", "minimal", "vnc"):
        assert no_display_problem({"DISPLAY": gone, "QT_QPA_PLATFORM": platform}, "linux") is None
    assert no_display_problem({"DISPLAY": gone}, "darwin") is None and no_display_problem({}, "win32") is None


def test_nothing_set_keeps_its_own_sentence():
    assert "no graphical display here" in no_display_problem({}, "linux")
