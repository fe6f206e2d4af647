"""A second launch parses its own arguments and hands the running tray a checked message, never its argv."""

import subprocess
import sys

import pytest

from tests.support.app import start_app
from tests.support.gui import gui_env, stop, wait_colour
from tests.support.orchestrator import Orchestrator

pytestmark = pytest.mark.gui


def launch(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "polaris_tray", *args], env=env, capture_output=True, text=True, timeout=20
    )


def test_a_second_launchs_server_url_moves_the_running_agent(home, orchestrator, x_display):
    env = gui_env(home, x_display)
    other = Orchestrator()
    proc = start_app(["--server-url", orchestrator.url, "--interval", "0.5"], env)
    try:
        wait_colour(x_display, "green", 10)
        second = launch(env, "--server-url", other.url, "--interval", "0.3")
        assert second.returncode == 0, second.stderr
        assert other.wait_for(3, timeout=10)  # the running instance beats against the new server now
        assert proc.poll() is None
    finally:
        stop(proc)
        other.stop()


def test_a_second_launch_with_a_bad_url_is_refused_before_it_reaches_the_tray(home, orchestrator, x_display):
    env = gui_env(home, x_display)
    proc = start_app(["--server-url", orchestrator.url, "--interval", "0.5"], env)
    try:
        wait_colour(x_display, "green", 10)
        second = launch(env, "--server-url", "http://example.org/api/v1")
        assert second.returncode == 2 and "https://" in second.stderr
        before = len(orchestrator.times())
        assert orchestrator.wait_for(before + 2, timeout=10)  # the running one carries on where it was
    finally:
        _out, err = stop(proc)
    assert "example.org" not in err
