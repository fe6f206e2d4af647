"""--doctor beside a tray that holds the one-agent lock but does not beat (Stopped): the doctor's heartbeat
must say 'offline', never 'online', or the orchestrator would count a stopped machine online for 45 s.
The tray's controller runs in this process (real worker, real loopback orchestrator); the doctor is a real
process of the same "user" (the same instance name)."""

from __future__ import annotations

import os

import pytest

from polaris_tray.core.values.link_state import LinkState
from tests.support.app import run_app
from tests.support.routed_orchestrator import RoutedOrchestrator
from tests.support.worker import MINER


def start_tray(url: str):
    """The tray's controller as app.py starts it: after taking the one-agent lock."""
    from PySide6.QtWidgets import QApplication

    from polaris_tray.cli.args import build_parser, launch_options
    from polaris_tray.gui.controller import AppController
    from polaris_tray.gui.single_instance import SingleInstance

    instance = SingleInstance()
    assert instance.acquire()
    args = build_parser().parse_args(["--server-url", url, "--interval", "30"])
    controller = AppController(QApplication.instance(), launch_options(args), instance)
    controller.worker_thread.start()
    return controller


@pytest.fixture
def orchestrator():
    server = RoutedOrchestrator(miners={MINER})
    yield server
    server.stop()


@pytest.fixture
def other_orchestrator():
    server = RoutedOrchestrator(miners={MINER})
    yield server
    server.stop()


def test_the_doctor_sends_offline_beside_a_stopped_tray(qtbot, orchestrator, home, monkeypatch):
    monkeypatch.setenv("POLARIS_MINER_ID", MINER)
    monkeypatch.setenv("POLARIS_TRAY_INSTANCE", f"attack-doctor-{os.getpid()}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "DBUS_"))}
    env.update(PYTHONUNBUFFERED="1")
    controller = start_tray(orchestrator.url)
    try:
        qtbot.waitUntil(
            lambda: controller.snapshot is not None and controller.snapshot.state is LinkState.ONLINE,
            timeout=10000,
        )
        beating = run_app(["--doctor", "--server-url", orchestrator.url], env, timeout=60)
        assert "status 'online'" in beating.stdout, beating.stdout  # a beating tray: online is true
        controller.request_stop()
        qtbot.waitUntil(lambda: not controller._stop_pending, timeout=5000)
        sent_before = len(orchestrator.statuses())
        stopped = run_app(["--doctor", "--server-url", orchestrator.url], env, timeout=60)
        assert "status 'offline'" in stopped.stdout and "does not beat this server" in stopped.stdout, (
            stopped.stdout
        )
        assert orchestrator.statuses()[sent_before:] == ["offline"]
        assert MINER not in stopped.stdout + stopped.stderr
    finally:
        controller.lifecycle.quit()
        controller.instance.release()


def test_the_doctor_sends_offline_to_a_server_the_running_agent_does_not_beat(
    qtbot, orchestrator, other_orchestrator, home, monkeypatch
):
    """A tray beating server A; the user asks the doctor about server B (--server-url): B must not be told
    'online', nothing beats it."""
    monkeypatch.setenv("POLARIS_MINER_ID", MINER)
    monkeypatch.setenv("POLARIS_TRAY_INSTANCE", f"attack-doctor-b-{os.getpid()}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "DBUS_"))}
    env.update(PYTHONUNBUFFERED="1")
    controller = start_tray(orchestrator.url)
    try:
        qtbot.waitUntil(
            lambda: controller.snapshot is not None and controller.snapshot.state is LinkState.ONLINE,
            timeout=10000,
        )
        other = run_app(["--doctor", "--server-url", other_orchestrator.url], env, timeout=60)
        assert "status 'offline'" in other.stdout and "does not beat this server" in other.stdout, (
            other.stdout
        )
        assert other_orchestrator.statuses() == ["offline"]
        same = run_app(["--doctor", "--server-url", orchestrator.url + "/"], env, timeout=60)
        assert "status 'online'" in same.stdout, same.stdout  # the server it beats (a trailing / or not)
    finally:
        controller.lifecycle.quit()
        controller.instance.release()
