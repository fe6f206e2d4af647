"""The tray on the hosts users have: StatusNotifierItem over a real D-Bus session (X11 and Wayland), XEmbed.

A panel is played by tests/support/sni_host.py (watcher + host, reading the item as panels do); the app is
the real process. The login race is the point: the app starts first, the panel after it.
"""

import os
import shutil
import subprocess
import time
import uuid

import pytest

from tests.support.app import app_env, start_app
from tests.support.gui import gui_env, stop, wait_colour
from tests.support.orchestrator import Reply
from tests.support.screen import COLOURS
from tests.support.services import XDisplay
from tests.support.sni_host import SniWatcher, nearest

pytestmark = pytest.mark.gui


def item_colour(watcher: SniWatcher) -> str:
    return nearest(watcher.item().pixmap_rgb(), COLOURS)


def wait_item_colour(watcher: SniWatcher, want: str, timeout: float) -> float:
    started = time.monotonic()
    seen = None
    while time.monotonic() - started < timeout:
        if watcher.items:
            try:
                seen = item_colour(watcher)
            except RuntimeError:  # the item is being replaced
                seen = None
            if seen == want:
                return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"the SNI item stayed {seen!r}, wanted {want!r} within {timeout} s")


def check_login_race(env, bus, label):
    """App first, panel 2 s later, then the panel restarted: each time an item, green, within 5 s."""
    proc = start_app(["--demo"], env)
    watcher = SniWatcher(bus.address)
    try:
        time.sleep(2)  # the panel comes after the app, as at login
        watcher.start()
        watcher.wait_item(5)
        wait_item_colour(watcher, "green", 5)
        print(f"{label}: item {watcher.registered_at - watcher.started_at:.2f} s after the watcher appeared")
        watcher.stop()  # the panel restarts
        time.sleep(1)
        watcher = SniWatcher(bus.address).start()
        watcher.wait_item(5)
        wait_item_colour(watcher, "green", 5)
        print(
            f"{label}: again {watcher.registered_at - watcher.started_at:.2f} s after the watcher came back"
        )
        assert watcher.item().prop("Status") == "Active"
    finally:
        watcher.stop()
        _, err = stop(proc)
    assert proc.returncode == 0, err[-2000:]
    assert "Traceback" not in err
    assert err.count("Tray icon shown") == 2, err[-2000:]


def test_login_race_sni_on_x11(home, session_bus, bare_display):
    env = gui_env(home, bare_display, DBUS_SESSION_BUS_ADDRESS=session_bus.address)
    check_login_race(env, session_bus, "SNI on X11")


def test_login_race_sni_on_wayland(home, session_bus):
    from tests.support.weston import Weston

    try:
        weston = Weston().start()
    except RuntimeError as exc:
        pytest.skip(f"no Wayland compositor here: {exc}")
    try:
        env = app_env(
            home,
            POLARIS_TRAY_INSTANCE=f"polaris-test-{uuid.uuid4().hex[:8]}",
            DBUS_SESSION_BUS_ADDRESS=session_bus.address,
            **weston.env,
        )
        check_login_race(env, session_bus, "SNI on Wayland")
    finally:
        weston.stop()


def visible_titles(display) -> list[str]:
    """Titles as a window manager shows them (_NET_WM_NAME); WM_NAME, read by --name, lacks the app name."""
    env = {**os.environ, "DISPLAY": display.display}
    run = lambda *args: subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True).stdout  # noqa: E731
    names = [run("getwindowname", i).strip() for i in run("search", "--onlyvisible", "--name", ".").split()]
    return [name for name in names if "Polaris Tray" in name]


def popup_menus(display) -> list[str]:
    env = {**os.environ, "DISPLAY": display.display}
    run = lambda *args: subprocess.run(args, env=env, capture_output=True, text=True).stdout  # noqa: E731
    ids = run("xdotool", "search", "--onlyvisible", "--class", "Polaris Tray").split()
    return [i for i in ids if "POPUP_MENU" in run("xprop", "-id", i, "_NET_WM_WINDOW_TYPE")]


DEMO_STATUS = "Status (demo) — Polaris Tray"  # the status window's title in demo mode; Qt appends the name


def window_icon_count(display, title: str) -> int:
    env = {**os.environ, "DISPLAY": display.display}
    run = lambda *args: subprocess.run(args, env=env, capture_output=True, text=True).stdout  # noqa: E731
    for wid in run("xdotool", "search", "--onlyvisible", "--name", ".").split():
        if run("xdotool", "getwindowname", wid).strip() == title:
            return run("xprop", "-id", wid, "_NET_WM_ICON").count("Icon (")  # xprop draws each size
    return 0


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(what)


def test_xembed_tray_started_late_and_the_fallback_window_steps_aside(home):
    """trayer after the app's 3 s wait: the status window stands in, then the icon comes and it goes."""
    display = XDisplay(with_tray=False).start()
    proc = start_app(["--demo"], gui_env(home, display))
    try:
        wait_until(lambda: DEMO_STATUS in visible_titles(display), 10, "no fallback window")
        display.start_tray()
        took = wait_colour(display, "green", 5)
        print(f"XEmbed: green {took:.2f} s after trayer came up")
        wait_until(lambda: not visible_titles(display), 5, f"fallback still shown: {visible_titles(display)}")
    finally:
        _, err = stop(proc)
        display.stop()
    assert proc.returncode == 0, err[-2000:]
    assert err.count("Tray icon shown") == 1, err[-2000:]
    assert err.index("No system tray found") < err.index("Tray icon shown")


def test_sni_item_shows_each_state_once_and_its_menu_works(home, session_bus, bare_display, orchestrator):
    watcher = SniWatcher(session_bus.address).start()
    env = gui_env(home, bare_display, DBUS_SESSION_BUS_ADDRESS=session_bus.address)
    proc = start_app(["--server-url", orchestrator.url, "--interval", "0.5"], env)
    try:
        watcher.wait_item(10)
        wait_item_colour(watcher, "green", 10)
        item = watcher.item()
        assert (item.prop("Id"), item.prop("Title")) == ("Polaris Tray", "Polaris Tray")
        icons_before = watcher.count("NewIcon")
        orchestrator.behaviour = Reply(404, {"detail": "Miner not found"})
        wait_item_colour(watcher, "red", 5)
        time.sleep(1.5)  # three more failing beats: the icon must not be sent again
        assert watcher.count("NewIcon") == icons_before + 1
        orchestrator.behaviour = Reply(200)
        wait_item_colour(watcher, "green", 5)
        time.sleep(1.0)
        assert watcher.count("NewIcon") == icons_before + 2
        labels = item.menu_labels()
        for wanted in ("Send heartbeat now", "Status…", "Open log folder", "About Polaris Tray", "Quit"):
            assert wanted in labels, labels
        item.context_menu(900, 10)  # panels without dbusmenu ask the item to show its menu
        wait_until(lambda: popup_menus(bare_display), 5, "ContextMenu showed no menu")
        item.click(labels["Quit"])
        proc.wait(5)
    finally:
        watcher.stop()
        _, err = stop(proc)
    assert proc.returncode == 0, err[-2000:]


def test_without_a_notification_server_and_a_url_handler_the_user_is_still_told(
    home, session_bus, bare_display, orchestrator
):
    """No org.freedesktop.Notifications: the icon's own message. No xdg-open: the log folder's path."""
    watcher = SniWatcher(session_bus.address).start()
    env = gui_env(home, bare_display, DBUS_SESSION_BUS_ADDRESS=session_bus.address, PATH="/usr/bin:/bin")
    if shutil.which("xdg-open", path=env["PATH"]):
        pytest.skip("xdg-open is installed here: the no-handler path cannot be shown")
    orchestrator.behaviour = Reply(404, {"detail": "Miner not found"})
    proc = start_app(["--server-url", orchestrator.url, "--interval", "0.5"], env)
    try:
        watcher.wait_item(10)
        wait_item_colour(watcher, "red", 10)
        item = watcher.item()
        item.click(item.menu_labels()["Open log folder"])
        wait_until(
            lambda: "Polaris Tray" in visible_titles(bare_display), 5, "no message with the log folder"
        )
    finally:
        watcher.stop()
        _, err = stop(proc)
    assert proc.returncode == 0, err[-2000:]
    assert "No notification service" in err
    assert "qt." not in err and "QDesktopServices" not in err, err[-2000:]


def test_icon_counts_as_shown_only_once_a_host_displays_it(home, session_bus, bare_display):
    """A watcher alone displays nothing: the status window stands in until the host registers."""
    watcher = SniWatcher(session_bus.address, with_host=False).start()
    proc = start_app(["--demo"], gui_env(home, bare_display, DBUS_SESSION_BUS_ADDRESS=session_bus.address))
    try:
        watcher.wait_item(10)  # Qt registers the item with the watcher at once
        wait_until(lambda: DEMO_STATUS in visible_titles(bare_display), 10, "no fallback window")
        assert window_icon_count(bare_display, DEMO_STATUS) >= 1  # _NET_WM_ICON: our icon
        watcher.register_host()
        wait_until(lambda: not visible_titles(bare_display), 5, "the fallback window stayed")
    finally:
        watcher.stop()
        _, err = stop(proc)
    assert proc.returncode == 0, err[-2000:]
    assert err.count("Tray icon shown") == 1
    assert err.index("No system tray found") < err.index("Tray icon shown")
