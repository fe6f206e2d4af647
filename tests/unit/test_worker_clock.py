"""The tray's worker re-evaluates the state by the clock, not only when an attempt ends: in-process, with
a real loopback orchestrator and a fast clock (100 clock seconds per real second)."""

from __future__ import annotations

import time

from polaris_tray.core.status.snapshot import headline
from polaris_tray.core.values.link_state import LinkState
from polaris_tray.gui.beat.worker import WorkerConfig
from tests.support.orchestrator import Hang, Reply
from tests.support.worker import make_worker, stop_worker

SPEED = 100.0


def fast_clock():
    base = time.monotonic()
    return lambda: base + (time.monotonic() - base) * SPEED


def test_the_worker_turns_red_45_s_after_the_accepted_beat_with_no_attempt_in_between(qtbot, orchestrator):
    clock = fast_clock()
    thread, worker, relay = make_worker(
        WorkerConfig(orchestrator.url, 120.0), clock=clock, time_scale=1 / SPEED
    )
    seen: list[tuple[float, LinkState, str]] = []
    relay.snapshot.connect(lambda s: seen.append((clock(), s.state, headline(s))))
    try:
        with qtbot.waitSignal(
            relay.snapshot, timeout=5000, check_params_cb=lambda s: s.state is LinkState.ONLINE
        ):
            thread.start()
        online_at = next(at for at, state, _ in seen if state is LinkState.ONLINE)
        qtbot.waitUntil(lambda: any(state is LinkState.OFFLINE for _, state, _ in seen), timeout=5000)
        at, _state, words = next(item for item in seen if item[1] is LinkState.OFFLINE)
        assert len(orchestrator.times()) == 1  # nothing was sent meanwhile (the next beat is 120 s away)
        assert online_at + 40 <= at <= online_at + 45 + 0.5 * SPEED, (
            at - online_at
        )  # within half a real second
        assert words.startswith("Offline — not counted since ")
    finally:
        assert stop_worker(thread, worker)


def test_a_request_stuck_in_the_worker_thread_cannot_hold_green_past_45_s(qtbot, orchestrator):
    """The worker thread is inside a request for 300 clock seconds (3 real): the view clock on the GUI
    thread turns the state red at 45 s all the same."""
    clock = fast_clock()
    orchestrator.script = lambda n, _body: Reply() if n == 0 else Hang()
    config = WorkerConfig(orchestrator.url, 10.0, deadline_s=3.0)
    thread, worker, relay = make_worker(config, clock=clock, time_scale=1 / SPEED)
    seen: list[tuple[float, LinkState, str]] = []
    relay.snapshot.connect(lambda s: seen.append((clock(), s.state, headline(s))))
    try:
        thread.start()
        assert orchestrator.wait_for(2, timeout=5)  # the second request is stuck now
        accepted_at = orchestrator.times()[0]
        qtbot.waitUntil(lambda: any(state is LinkState.OFFLINE for _, state, _ in seen), timeout=2500)
        at = next(at for at, state, _ in seen if state is LinkState.OFFLINE)
        assert len(orchestrator.times()) == 2  # still the stuck one: no attempt ended
        real_accepted = clock() - (time.monotonic() - accepted_at) * SPEED  # its arrival on our clock
        assert at <= real_accepted + 45 + 0.5 * SPEED, at - real_accepted
        assert all(state is not LinkState.ONLINE for t, state, _ in seen if t >= at)
    finally:
        assert stop_worker(thread, worker)
