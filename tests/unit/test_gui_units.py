"""The Qt shell in-process (offscreen): the worker thread, the tray's rendering, the icons."""

import itertools
import time

import pytest

from polaris_tray.core.heartbeat.runner import Apply, Quit, Stop
from polaris_tray.core.status.snapshot import Snapshot
from polaris_tray.core.values.link_state import Colour, LinkState
from polaris_tray.gui.beat.worker import WorkerConfig
from polaris_tray.gui.tray.icon import TrayIcon
from polaris_tray.gui.tray.icons import state_pixmap
from tests.support.orchestrator import Hang, Orchestrator, Reply
from tests.support.worker import MINER, TEST_MINER, make_worker, stop_worker


@pytest.fixture
def worker_thread(qtbot):
    made = []

    def make(config, miner=TEST_MINER):
        thread, worker, _relay = make_worker(config, miner)
        made.append((thread, worker))
        return thread, worker

    yield make
    for thread, worker in made:
        assert stop_worker(thread, worker)


def state_is(state):
    return lambda snap: snap.state is state


def test_worker_goes_online_and_paces_beats(qtbot, orchestrator, worker_thread):
    thread, worker = worker_thread(WorkerConfig(orchestrator.url, 0.2))
    with qtbot.waitSignal(worker.relay.snapshot, timeout=5000, check_params_cb=state_is(LinkState.ONLINE)):
        thread.start()
    assert orchestrator.wait_for(4, timeout=5)
    t = orchestrator.times()[:4]
    assert all(0.18 < b - a < 0.3 for a, b in itertools.pairwise(t)), t
    assert orchestrator.bodies()[0]["metrics"]["miner_id"] == MINER


def test_worker_reports_attention_then_recovers(qtbot, orchestrator, worker_thread):
    orchestrator.behaviour = Reply(404, {"detail": "Miner not found"})
    thread, worker = worker_thread(WorkerConfig(orchestrator.url, 0.2))
    with qtbot.waitSignal(worker.relay.snapshot, timeout=5000, check_params_cb=state_is(LinkState.ATTENTION)):
        thread.start()
    orchestrator.behaviour = Reply(200)
    qtbot.waitSignal(worker.relay.snapshot, timeout=5000, check_params_cb=state_is(LinkState.ONLINE)).wait()


def test_apply_moves_the_running_worker_to_a_new_server_and_interval(qtbot, orchestrator, worker_thread):
    second = Orchestrator()
    try:
        thread, worker = worker_thread(WorkerConfig(orchestrator.url, 0.2))
        with qtbot.waitSignal(
            worker.relay.snapshot, timeout=5000, check_params_cb=state_is(LinkState.ONLINE)
        ):
            thread.start()

        def beat_to_second_done(snap):
            # published after the first beat to the new server: it succeeded, the next is an interval away
            return (
                snap.server_url == second.url
                and snap.state is LinkState.ONLINE
                and snap.next_attempt_wall is not None
                and snap.next_attempt_wall - time.time() > 20
            )

        with qtbot.waitSignal(
            worker.relay.snapshot, timeout=5000, check_params_cb=beat_to_second_done
        ) as blocker:
            worker.submit(Apply(WorkerConfig(second.url, 30.0)))  # the id in use stays
        assert second.wait_for(1)
        assert second.bodies()[0]["metrics"]["miner_id"] == MINER
        # the new interval governs the next beat: 30 s after the one just sent to the new server
        assert 25 < blocker.args[0].next_attempt_wall - time.time() <= 30.5
    finally:
        second.stop()


def test_unconfigured_worker_is_grey_and_sends_nothing(qtbot, orchestrator, worker_thread):
    thread, worker = worker_thread(WorkerConfig(orchestrator.url, 0.2), None)
    with qtbot.waitSignal(worker.relay.snapshot, timeout=5000) as blocker:
        thread.start()
    assert blocker.args[0].state is LinkState.UNCONFIGURED
    assert blocker.args[0].state.colour is Colour.GREY
    assert orchestrator.arrivals == []


def test_interrupt_frees_the_worker_thread_during_a_hanging_request(qtbot, orchestrator, worker_thread):
    orchestrator.behaviour = Hang()
    thread, worker = worker_thread(WorkerConfig(orchestrator.url, 0.2))
    thread.start()
    assert orchestrator.wait_for(1)
    started = time.monotonic()
    worker.submit(Quit())
    assert thread.wait(2000)
    assert time.monotonic() - started < 1.0


def test_tray_renders_colour_tooltip_and_menu(qtbot):
    tray = TrayIcon()
    snap = Snapshot(
        LinkState.ONLINE,
        "https://h.example/api/v1",
        "f3a9…",
        last_success_wall=time.time(),
        next_attempt_wall=time.time() + 30,
    )
    tray.show_snapshot(snap)
    assert tray.colour is Colour.GREEN
    assert "Online" in tray.icon.toolTip() and "h.example" in tray.icon.toolTip()
    tray.refresh_menu()
    assert tray.toggle_action.text() == "&Stop heartbeat"
    assert tray.status_action.text().startswith("Online")
    assert not tray.status_action.isEnabled()
    tray.show_snapshot(Snapshot(LinkState.STOPPED, "https://h.example/api/v1"))
    tray.refresh_menu()
    assert tray.colour is Colour.GREY and tray.toggle_action.text() == "&Start heartbeat"
    tray.show_snapshot(Snapshot(LinkState.UNCONFIGURED, "https://h.example/api/v1"))
    tray.refresh_menu()
    assert not tray.toggle_action.isEnabled() and not tray.beat_action.isEnabled()
    labels = [a.text() for a in tray.menu.actions() if a.text()]
    for expected in (
        "Send heartbeat &now",
        "S&ettings…",
        "Start at &login",
        "Open lo&g folder",
        "&About Polaris Tray",
        "&Quit",
    ):
        assert expected in labels


@pytest.mark.parametrize("dpr", [1.0, 2.0])
def test_icons_are_drawn_at_the_pixel_ratio_with_distinct_shapes(qtbot, dpr):
    images = {}
    for colour in Colour:
        pm = state_pixmap(colour, 22, dpr)
        assert pm.width() == round(22 * dpr)
        images[colour] = pm.toImage()
    # shape cue: the alpha masks differ, so the states differ even without colour
    masks = {c: bytes(img.convertToFormat(img.Format.Format_Alpha8).constBits()) for c, img in images.items()}
    assert len(set(masks.values())) >= 3


def test_frozen_app_gives_launched_programs_the_hosts_library_path(monkeypatch):
    """activitywatch#208: a file manager given the bundle's LD_LIBRARY_PATH crashes on its libraries."""
    import os
    import subprocess
    import sys

    from polaris_tray.gui.desktop import host_environment

    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setenv("LD_LIBRARY_PATH", "/bundle/_internal")
    monkeypatch.setenv("LD_LIBRARY_PATH_ORIG", "/host/lib")
    monkeypatch.setenv("QT_PLUGIN_PATH", "/bundle/plugins")
    monkeypatch.delenv("QT_PLUGIN_PATH_ORIG", raising=False)
    with host_environment():
        seen = subprocess.run(
            ["sh", "-c", 'echo "$LD_LIBRARY_PATH|${QT_PLUGIN_PATH-unset}"'], capture_output=True, text=True
        ).stdout.strip()
    assert seen == "/host/lib|unset"
    assert os.environ["LD_LIBRARY_PATH"] == "/bundle/_internal"  # the app itself keeps its own


def test_stopping_tells_a_healthy_orchestrator_we_are_offline(qtbot, orchestrator, worker_thread):
    thread, worker = worker_thread(WorkerConfig(orchestrator.url, 0.5))
    with qtbot.waitSignal(worker.relay.snapshot, timeout=5000, check_params_cb=state_is(LinkState.ONLINE)):
        thread.start()
    with qtbot.waitSignal(worker.relay.snapshot, timeout=5000, check_params_cb=state_is(LinkState.STOPPED)):
        worker.submit(Stop())
    assert orchestrator.bodies()[-1]["status"] == "offline"
    assert all(b["status"] == "online" for b in orchestrator.bodies()[:-1])


def test_qt_bindings_keep_none_alive(qtbot):
    """PySide6 6.12.0 on Python 3.11 dropped a reference to None on each call of a void method, so a tray that
    updates its tooltip every beat aborted ("deallocating None") after enough beats. Any upgrade must pass."""
    import sys

    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QLabel

    label, action, tray = QLabel(), QAction("x"), TrayIcon()
    before = sys.getrefcount(None)
    for _ in range(2000):
        label.setText("z")
        action.setEnabled(True)
        tray.icon.setToolTip("tip")
    assert abs(sys.getrefcount(None) - before) < 50
