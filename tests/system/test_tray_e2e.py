"""End to end on a real X server with a real tray host: what the user sees, read off the screen."""

import os
import signal
import subprocess
import time

import pytest

from tests.support.app import ARTIFACTS, start_app
from tests.support.gui import gui_env, stop, wait_colour
from tests.support.orchestrator import Hang, Reply
from tests.support.screen import save_tray_shot, tray_colour

pytestmark = pytest.mark.gui


def window_titles(display):
    out = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", "Polaris Tray|Status"],  # the name may be encoded
        env={**os.environ, "DISPLAY": display.display},
        capture_output=True,
        text=True,
    )
    titles = []
    for wid in out.stdout.split():
        name = subprocess.run(
            ["xdotool", "getwindowname", wid],
            env={**os.environ, "DISPLAY": display.display},
            capture_output=True,
            text=True,
        ).stdout.strip()
        titles.append(name)
    return titles


def wait_window(display, title, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(title in t for t in window_titles(display)):
            return
        time.sleep(0.1)
    raise AssertionError(f"no window titled {title!r}; visible: {window_titles(display)}")


def test_icon_follows_the_orchestrator(home, orchestrator, x_display):
    proc = start_app(["--server-url", orchestrator.url, "--interval", "1"], gui_env(home, x_display))
    try:
        wait_colour(x_display, "green", 5)
        save_tray_shot(x_display.display, ARTIFACTS / "tray-green.png")
        orchestrator.behaviour = Reply(404, {"detail": "Miner not found"})
        wait_colour(x_display, "red", 5)
        save_tray_shot(x_display.display, ARTIFACTS / "tray-red.png")
        orchestrator.behaviour = Reply(500, {"detail": "storage failure"})
        wait_colour(x_display, "amber", 10)  # a transient failure while the last success is under 45 s old
        save_tray_shot(x_display.display, ARTIFACTS / "tray-amber.png")
        orchestrator.behaviour = Reply(200)
        wait_colour(x_display, "green", 20)
    finally:
        _, err = stop(proc)
    assert proc.returncode == 0
    assert "QThread" not in err and "Traceback" not in err


def test_second_launch_hands_over_and_only_one_agent_beats(home, orchestrator, x_display):
    env = gui_env(home, x_display)
    proc = start_app(["--server-url", orchestrator.url, "--interval", "0.5"], env)
    try:
        wait_colour(x_display, "green", 5)
        second = subprocess.run(
            [*start_cmd(), "--server-url", orchestrator.url, "--interval", "0.5"],
            env=env,
            capture_output=True,
            text=True,
            timeout=20,
        )
        assert second.returncode == 0, second.stderr
        wait_window(
            x_display, "Status — Polaris Tray"
        )  # a plain second launch shows the running one's status
        before = len(orchestrator.times())
        window_start = time.monotonic()
        assert orchestrator.wait_for(before + 6, timeout=10)
        rate = 6 / (time.monotonic() - window_start)
        assert rate < 2.6, rate  # one agent at 0.5 s is 2 beats a second; two would be 4
    finally:
        stop(proc)


def start_cmd():
    import sys

    return [sys.executable, "-m", "polaris_tray"]


def test_quit_during_a_hanging_request_ends_within_2_s(home, orchestrator, x_display):
    env = gui_env(home, x_display)
    proc = start_app(["--server-url", orchestrator.url, "--interval", "1"], env)
    try:
        wait_colour(x_display, "green", 5)
        orchestrator.behaviour = Hang()
        count = len(orchestrator.times())
        assert orchestrator.wait_for(count + 1, timeout=5)  # a request is now hanging
        started = time.monotonic()
        quitter = subprocess.run(
            [*start_cmd(), "--quit"], env=env, capture_output=True, text=True, timeout=20
        )
        assert quitter.returncode == 0, quitter.stderr
        proc.wait(5)
        assert time.monotonic() - started < 2.0
    finally:
        _, err = stop(proc)
    assert proc.returncode == 0
    assert "QThread" not in err and "Destroyed while thread" not in err
    assert tray_colour(x_display.display) is None  # the icon is gone


def test_sigterm_ends_the_app_cleanly(home, orchestrator, x_display):
    proc = start_app(["--server-url", orchestrator.url, "--interval", "1"], gui_env(home, x_display))
    wait_colour(x_display, "green", 5)
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.wait(5)
    assert time.monotonic() - started < 2.0 and proc.returncode == 0
    _, err = proc.communicate()
    assert "QThread" not in err


def test_a_stale_lock_from_a_killed_instance_does_not_block(home, orchestrator, x_display):
    env = gui_env(home, x_display)
    first = start_app(["--server-url", orchestrator.url, "--interval", "1"], env)
    wait_colour(x_display, "green", 5)
    first.kill()  # no cleanup at all: the lock file and the socket stay behind
    first.wait(5)
    second = start_app(["--server-url", orchestrator.url, "--interval", "1"], env)
    try:
        count = len(orchestrator.times())
        assert orchestrator.wait_for(count + 2, timeout=10)
        wait_colour(x_display, "green", 5)
    finally:
        stop(second)


def test_quit_with_nothing_running_exits_1(home, x_display):
    result = subprocess.run(
        [*start_cmd(), "--quit"], env=gui_env(home, x_display), capture_output=True, text=True, timeout=20
    )
    assert result.returncode == 1 and "no running instance" in result.stderr


def test_first_run_opens_the_settings_and_stays_grey(home, orchestrator, x_display):
    proc = start_app(["--server-url", orchestrator.url], gui_env(home, x_display, miner_id=None))
    try:
        wait_window(x_display, "Polaris Tray — Settings")
        assert tray_colour(x_display.display) == "grey"
        assert orchestrator.arrivals == []
        subprocess.run(
            ["import", "-display", x_display.display, "-window", "root", str(ARTIFACTS / "first-run.png")],
            timeout=20,
        )
    finally:
        stop(proc)


def test_without_a_tray_a_status_window_shows_and_beats_go_on(home, orchestrator):
    from tests.support.services import XDisplay

    bare = XDisplay(with_tray=False).start()
    try:
        proc = start_app(["--server-url", orchestrator.url, "--interval", "0.5"], gui_env(home, bare))
        try:
            wait_window(bare, "Status — Polaris Tray", timeout=15)
            count = len(orchestrator.times())
            assert orchestrator.wait_for(count + 2, timeout=5)
            subprocess.run(
                ["import", "-display", bare.display, "-window", "root", str(ARTIFACTS / "no-tray.png")],
                timeout=20,
            )
        finally:
            _, err = stop(proc)
        assert "No system tray found" in err
    finally:
        bare.stop()
