"""Flat resources under the user's hands: threads and file descriptors after 100 Start/Stop
toggles and 20 Test connections are back at their baseline. In-process worker, real loopback server."""

import contextlib
import os
import threading

from polaris_tray.core.config.settings import Settings, SettingsStore
from polaris_tray.core.heartbeat.runner import Start, Stop
from polaris_tray.core.platform.autostart.xdg import XdgAutostart
from polaris_tray.core.values.link_state import LinkState
from polaris_tray.gui.beat.worker import WorkerConfig
from tests.support.worker import MINER, make_worker, stop_worker


def counts() -> tuple[int, int, int]:
    """Python threads, OS threads (Qt's too) and open descriptors of this process."""
    return threading.active_count(), len(os.listdir("/proc/self/task")), len(os.listdir("/proc/self/fd"))


def at_most(now, baseline) -> bool:
    return all(n <= b for n, b in zip(now, baseline, strict=True))


def settle(qtbot, baseline):
    """Ended threads and closed sockets go asynchronously (server handler threads, the OS): wait up to 5 s
    for the counts to come back, then report them whatever they are."""
    with contextlib.suppress(TimeoutError, AssertionError, Exception):
        qtbot.waitUntil(lambda: at_most(counts(), baseline), timeout=5000)
    return counts()


def test_100_start_stop_toggles_leave_threads_and_fds_at_baseline(qtbot, orchestrator):
    thread, worker, relay = make_worker(WorkerConfig(orchestrator.url, 30.0))

    def toggle():
        with qtbot.waitSignal(
            relay.snapshot, timeout=5000, check_params_cb=lambda s: s.state is LinkState.STOPPED
        ):
            worker.submit(Stop())
        with qtbot.waitSignal(
            relay.snapshot, timeout=5000, check_params_cb=lambda s: s.state is LinkState.ONLINE
        ):
            worker.submit(Start())

    try:
        with qtbot.waitSignal(
            relay.snapshot, timeout=5000, check_params_cb=lambda s: s.state is LinkState.ONLINE
        ):
            thread.start()
        toggle()  # warm: the first of everything (imports, pools) is not a leak
        baseline = settle(qtbot, counts())
        for _ in range(100):
            toggle()
        after = settle(qtbot, baseline)
    finally:
        assert stop_worker(thread, worker)
    assert len(orchestrator.arrivals) >= 200  # each round: a beat and an offline notice
    assert at_most(after, baseline), (baseline, after)


def test_20_test_connections_leave_threads_and_fds_at_baseline(qtbot, home, orchestrator, monkeypatch):
    from polaris_tray.gui.settings.dialog import SettingsDialog

    SettingsStore().save(Settings(server_url=orchestrator.url))
    dialog = SettingsDialog(SettingsStore(), XdgAutostart())
    qtbot.addWidget(dialog)
    monkeypatch.setenv("POLARIS_MINER_ID", MINER)  # the id the agent would use (no keyring here)
    dialog.load(Settings(server_url=orchestrator.url))

    def test_once():
        dialog.test_result.setProperty("outcome", None)
        dialog.test_button.click()
        qtbot.waitUntil(lambda: dialog.test_result.property("outcome") is not None, timeout=5000)
        assert dialog.test_result.property("outcome") == "accepted"

    test_once()
    baseline = settle(qtbot, counts())
    for _ in range(20):
        test_once()
    after = settle(qtbot, baseline)
    assert at_most(after, baseline), (baseline, after)
