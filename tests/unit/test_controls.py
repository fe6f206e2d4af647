"""Controls act at once: Stop, Apply and Quit cut a hanging request; Send now is merged, floored
and never jumps a server's request to wait. In-process worker and controller, real loopback servers.

Counts and ordering only, with generous bounds; the latency figures are in benchmarks/controls.py.
"""

import threading

import pytest

from polaris_tray.core.config.settings import Settings
from polaris_tray.core.heartbeat.runner import SendNow
from polaris_tray.core.values.link_state import LinkState
from polaris_tray.gui.beat.background_call import BackgroundCall
from polaris_tray.gui.beat.worker import WorkerConfig
from tests.support.orchestrator import Hang, Orchestrator, Reply
from tests.support.worker import MINER, make_worker, start_controller, stop_worker


def state_is(state):
    return lambda snap: snap.state is state


@pytest.fixture
def controller_factory(qtbot, home, monkeypatch):
    monkeypatch.setenv("POLARIS_MINER_ID", MINER)
    made = []

    def make(url, interval="0.2"):
        controller = start_controller(url, interval)
        made.append(controller)
        return controller

    yield make
    for controller in made:
        controller.lifecycle.quit()


@pytest.fixture
def worker_factory(qtbot):
    made = []

    def make(config, **kw):
        thread, worker, relay = make_worker(config, **kw)
        made.append((thread, worker))
        return thread, relay, worker

    yield make
    for thread, worker in made:
        assert stop_worker(thread, worker)


def test_stop_during_a_hang_shows_stopped_at_once_and_nothing_follows(
    qtbot, orchestrator, controller_factory
):
    orchestrator.behaviour = Hang()
    controller = controller_factory(orchestrator.url)
    assert orchestrator.wait_for(1, timeout=10)
    qtbot.waitUntil(lambda: controller.snapshot is not None, timeout=5000)
    controller.request_stop()
    assert controller.snapshot.state is LinkState.STOPPED  # shown before the worker has even answered
    qtbot.waitUntil(lambda: not controller._stop_pending, timeout=3000)  # the worker confirmed it
    assert controller.snapshot.state is LinkState.STOPPED
    qtbot.wait(1000)  # five intervals: a beat that should not come would have come
    assert len(orchestrator.arrivals) == 1
    assert controller.snapshot.state is LinkState.STOPPED


def test_a_new_server_applied_during_a_hang_gets_the_next_request_at_once(
    qtbot, orchestrator, controller_factory
):
    orchestrator.behaviour = Hang()
    second = Orchestrator()
    try:
        controller = controller_factory(orchestrator.url, "30")
        assert orchestrator.wait_for(1, timeout=10)
        controller.overrides["server_url"] = None  # as the dialog does when the user changes the server
        controller.apply_settings(Settings(server_url=second.url, interval_s=30.0))
        assert second.wait_for(1, timeout=5)  # not after the hang's 10 s deadline
        qtbot.waitUntil(
            lambda: (
                controller.snapshot is not None
                and controller.snapshot.state is LinkState.ONLINE
                and controller.snapshot.server_url == second.url
            ),
            timeout=5000,
        )
        assert len(orchestrator.arrivals) == 1
    finally:
        second.stop()


def test_ten_send_now_clicks_during_a_hang_add_at_most_one_request(qtbot, orchestrator, worker_factory):
    orchestrator.script = lambda n, _body: Hang() if n == 0 else Reply()
    thread, relay, worker = worker_factory(WorkerConfig(orchestrator.url, 30.0, deadline_s=1.0))
    thread.start()
    assert orchestrator.wait_for(1, timeout=10)
    for _ in range(10):
        worker.submit(SendNow())
    # the hang ends at its 1 s deadline; backoff after it is 2.5-5 s: the merged Send now waits for it
    with qtbot.waitSignal(relay.snapshot, timeout=10000, check_params_cb=state_is(LinkState.ONLINE)):
        pass
    qtbot.wait(1500)
    assert len(orchestrator.arrivals) == 2
    gap = orchestrator.times()[1] - orchestrator.times()[0]
    assert gap >= 1.0 + 2.5 - 0.2  # not before the backoff window


def test_send_now_never_jumps_a_retry_after(qtbot, orchestrator, worker_factory):
    orchestrator.behaviour = Reply(429, {"detail": "slow down"}, {"Retry-After": "120"})
    thread, relay, worker = worker_factory(WorkerConfig(orchestrator.url, 5.0))
    with qtbot.waitSignal(relay.snapshot, timeout=5000, check_params_cb=state_is(LinkState.OFFLINE)):
        thread.start()  # never accepted: red "Not counted online yet"
    for _ in range(15):
        worker.submit(SendNow())
        qtbot.wait(100)
    assert len(orchestrator.arrivals) == 1


def test_send_now_is_floored_to_one_per_two_seconds(qtbot, orchestrator, worker_factory):
    thread, relay, worker = worker_factory(WorkerConfig(orchestrator.url, 60.0))
    with qtbot.waitSignal(relay.snapshot, timeout=5000, check_params_cb=state_is(LinkState.ONLINE)):
        thread.start()
    for _ in range(20):  # 20 clicks over about a second
        worker.submit(SendNow())
        qtbot.wait(50)
    # the first click goes at once, the rest merge into one at least 2 s after it
    assert 2 <= len(orchestrator.arrivals) <= 3
    assert orchestrator.wait_for(3, timeout=5)
    qtbot.wait(500)
    assert len(orchestrator.arrivals) == 3
    assert orchestrator.times()[2] - orchestrator.times()[1] >= 2.0 - 0.05


def test_send_now_while_stopped_sends_one_beat_and_stays_stopped(qtbot, orchestrator, worker_factory):
    config = WorkerConfig(orchestrator.url, 0.2, start_beating=False)
    thread, relay, worker = worker_factory(config)
    with qtbot.waitSignal(relay.snapshot, timeout=5000, check_params_cb=state_is(LinkState.STOPPED)):
        thread.start()
    with qtbot.waitSignal(relay.outcome, timeout=5000):
        worker.submit(SendNow())
    qtbot.wait(1000)  # five intervals: continuous beating would show here
    assert len(orchestrator.arrivals) == 1
    assert orchestrator.bodies()[0]["status"] == "online"


def test_quit_with_send_now_queued_sends_nothing_after_quitting(qtbot, orchestrator, controller_factory):
    orchestrator.behaviour = Hang()
    controller = controller_factory(orchestrator.url)
    assert orchestrator.wait_for(1, timeout=10)
    for _ in range(3):
        controller.worker.submit(SendNow())
    controller.lifecycle.quit()  # returns only once the worker's thread has ended (else the process exits)
    assert controller.worker_thread.isFinished()
    qtbot.wait(500)
    assert len(orchestrator.arrivals) == 1


def test_quit_during_a_test_connection_against_a_hanging_server_ends_the_call(
    qtbot, orchestrator, controller_factory
):
    hanging = Orchestrator(behaviour=Hang())
    try:
        controller = controller_factory(orchestrator.url, "30")
        controller.windows.open_settings()
        dialog = controller.windows.settings_dialog
        dialog.url_edit.setText(hanging.url)
        dialog.miner_edit.setText(MINER)
        dialog.test_button.click()
        assert hanging.wait_for(1, timeout=10)
        threads = [t for t in threading.enumerate() if t.name == "background-call"]
        assert threads
        controller.lifecycle.quit()
        assert not any(t.is_alive() for t in threads)
        assert not BackgroundCall._live
        qtbot.wait(200)  # a late done() into a deleted dialog would raise here
        assert len(hanging.arrivals) == 1
    finally:
        hanging.stop()


def test_the_log_says_why_the_state_changed(qtbot, orchestrator, home, controller_factory):
    """The tray's log said only "State online -> attention" (walk): the words and the reason, as headless."""
    orchestrator.behaviour = Reply(404, {"detail": "Not Found"})
    controller = controller_factory(orchestrator.url.replace("/api/v1", "/api"), "5")
    qtbot.waitUntil(lambda: getattr(controller.snapshot, "state", None) is LinkState.ATTENTION, timeout=5000)
    from polaris_tray.core.storage.logs import LOG_FILE_NAME
    from polaris_tray.core.storage.paths import log_dir

    log_file = log_dir() / LOG_FILE_NAME
    line = next(line for line in log_file.read_text().splitlines() if "-> attention" in line)
    assert "(Needs attention): Check the server URL: it should end in /api/v1" in line
    controller.request_stop()  # a Stop is not caused by the last error: its line does not name it
    qtbot.waitUntil(lambda: "-> stopped" in log_file.read_text(), timeout=5000)
    assert log_file.read_text().splitlines()[-1].endswith("-> stopped (Stopped)")
