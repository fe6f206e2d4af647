"""The tray's worker re-evaluates the state by the clock, not only when an attempt ends: in-process, with
a real loopback orchestrator and a fast clock (100 clock seconds per real second)."""

from __future__ import annotations

import time

from polaris_tray.core.status.snapshot import headline
from polaris_tray.core.status.state import LinkState
from polaris_tray.gui.worker import WorkerConfig
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
