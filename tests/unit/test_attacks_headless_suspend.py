"""A suspend under the headless agent (no Qt, no wake watcher): the monotonic clock stands still while the
machine sleeps, so without owning up to it the log, STATUS= and Prometheus would keep saying "online" for
up to 45 s after a wake although the orchestrator counted the miner offline during the sleep, and the next
beat would wait out the rest of its interval.

The suspend is a 10-minute gap injected into the clock that runs through sleep (CLOCK_BOOTTIME's
stand-in), as tests/unit/test_wake_worker.py does for the tray; the rest is real: the BeatThread, the
BeatSender, a loopback orchestrator."""

from __future__ import annotations

import logging
import time

from polaris_tray.core.heartbeat import wake
from polaris_tray.core.heartbeat.cycle import BeatCycle
from polaris_tray.core.heartbeat.sender import BeatSender
from polaris_tray.core.values.link_state import LinkState
from polaris_tray.service.beat_thread import BeatThread

MINER = "miner-abcdef123456"


class SleepyClocks:
    def __init__(self) -> None:
        self.asleep = 0.0

    def pair(self):
        return time.monotonic, lambda: time.monotonic() + self.asleep


def test_headless_owns_up_to_a_suspend_and_beats_at_once(orchestrator, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="polaris_tray.service.beat_thread")
    clocks = SleepyClocks()
    monkeypatch.setattr(wake, "default_clocks", clocks.pair)
    loop = BeatThread(BeatCycle(BeatSender(orchestrator.url, MINER), 30.0), goodbye=False)
    tracker, clock = loop.runner.cycle.tracker, loop.runner.cycle.clock
    loop.start()
    try:
        assert orchestrator.wait_for(1, timeout=10)
        end = time.monotonic() + 5
        while tracker.state(clock()) is not LinkState.ONLINE and time.monotonic() < end:
            time.sleep(0.01)
        assert tracker.state(clock()) is LinkState.ONLINE
        clocks.asleep = 600.0  # the machine slept ten minutes; the 30 s interval is far from due
        resumed_at = time.monotonic()
        assert orchestrator.wait_for(2, timeout=6), "no beat after the wake: it waits out the interval"
        beat_at = orchestrator.times()[1]
    finally:
        loop.stop()
        loop.join(3)
    changes = [r.getMessage() for r in caplog.records if r.getMessage().startswith("State ")]
    print(f"resume to beat: {beat_at - resumed_at:.3f} s; {changes}")
    assert beat_at - resumed_at < 4.0
    # Not "online" between the wake and that beat's answer: the log says so before the beat.
    assert any(c.startswith("State online -> connecting") for c in changes), changes
