"""A simulated suspend through the real worker thread and a loopback orchestrator (Qt offscreen).

The suspend is a 10-minute gap injected into the clock that runs through sleep (CLOCK_BOOTTIME's stand-in);
the rest is real: the wake watcher polls, the worker beats, the orchestrator receives.
"""

import time

import pytest

from polaris_tray.core.heartbeat.runner import Woke
from polaris_tray.core.values.link_state import LinkState
from polaris_tray.gui.beat.wake_watch import WakeWatcher
from polaris_tray.gui.beat.worker import WorkerConfig
from tests.support.worker import make_worker, stop_worker


class SleepyClocks:
    """Monotonic time as it is; the through-sleep clock is monotonic plus the time 'asleep'."""

    def __init__(self) -> None:
        self.asleep = 0.0

    def pair(self):
        return time.monotonic, lambda: time.monotonic() + self.asleep


@pytest.fixture
def worker(qtbot, orchestrator):
    thread, worker, _relay = make_worker(WorkerConfig(orchestrator.url, 30.0))
    worker.thread_ = thread
    yield worker
    assert stop_worker(thread, worker)


def test_a_ten_minute_suspend_beats_within_2_s_and_is_never_green_before_that_beat(
    qtbot, orchestrator, worker
):
    with qtbot.waitSignal(
        worker.relay.snapshot, timeout=5000, check_params_cb=lambda s: s.state is LinkState.ONLINE
    ):
        worker.thread_.start()
    assert orchestrator.wait_for(1, timeout=5)
    clocks = SleepyClocks()
    watcher = WakeWatcher(clocks.pair())
    watcher.resumed.connect(lambda slept: worker.submit(Woke(slept)))  # as the controller does
    watcher.start()
    seen = []
    worker.relay.snapshot.connect(lambda snap: seen.append((time.monotonic(), snap.state)))

    clocks.asleep = 600.0  # the machine slept ten minutes; the interval (30 s) is far from due
    resumed_at = time.monotonic()
    with qtbot.waitSignal(
        worker.relay.snapshot, timeout=5000, check_params_cb=lambda s: s.state is LinkState.ONLINE
    ):
        pass
    watcher.stop()
    assert len(orchestrator.times()) == 2
    beat_at = orchestrator.times()[1]
    print(f"resume to beat: {beat_at - resumed_at:.3f} s")
    assert beat_at - resumed_at < 2.0
    states = [state for at, state in seen]
    assert states[0] is LinkState.CONNECTING, states  # the wake turned green off before any beat
    assert states.index(LinkState.ONLINE) > 0
    first_green_at = next(at for at, state in seen if state is LinkState.ONLINE)
    assert first_green_at >= beat_at  # green again only after the beat's success


def test_the_network_coming_back_beats_at_once_without_claiming_sleep(qtbot, orchestrator, worker):
    with qtbot.waitSignal(
        worker.relay.snapshot, timeout=5000, check_params_cb=lambda s: s.state is LinkState.ONLINE
    ):
        worker.thread_.start()
    assert orchestrator.wait_for(1, timeout=5)
    watcher = WakeWatcher(SleepyClocks().pair())
    watcher.network_up.connect(lambda: worker.submit(Woke(0.0)))
    watcher.network_up.emit()
    assert orchestrator.wait_for(2, timeout=2)
