"""Many agents failing together spread out; wall-clock jumps and suspends change nothing."""

import random
import time

import pytest

from polaris_tray.core.heartbeat.cycle import BeatCycle
from polaris_tray.core.values.outcome import Outcome, OutcomeKind
from tests.support.herd import simulate


def test_jitter_spreads_a_herd_of_1000_agents():
    result = simulate(agents=1000, outage_s=600.0, interval_s=30.0)
    assert result["peak_plain"] == 1000  # without jitter every agent retries in the same second
    # the first wave is bounded by the first window, [2.5 s, 5 s]: about 1000 / 2.5 a second
    assert result["peak_jittered"] <= 0.45 * result["peak_plain"]
    # and the herd dissolves: without jitter it stays locked together in every later wave
    assert result["later_peak_plain"] == 1000
    assert result["later_peak_jittered"] <= result["later_peak_plain"] / 15


class FakeSender:
    """Counts attempts; the tests here are about time, not about the network."""

    miner_id = "m"

    def __init__(self):
        self.attempts = []
        self.clock = None

    def attempt(self):
        self.attempts.append(self.clock())
        return Outcome(OutcomeKind.ACCEPTED, 200)

    def abort(self):
        pass

    def close(self):
        pass


def make(interval=30.0):
    now = [1000.0]
    sender = FakeSender()
    sender.clock = lambda: now[0]
    cycle = BeatCycle(sender, interval, clock=lambda: now[0], rng=random.Random(1))
    return cycle, sender, now


def run_until(cycle, now, end):
    """The runner's loop on a fake clock: wait for the deadline (jump to it), beat."""
    while cycle.next_at <= end:
        now[0] = max(now[0], cycle.next_at)
        cycle.beat()


@pytest.mark.parametrize("jump", [-3600.0, 3600.0, -86400.0 * 365])
def test_wall_clock_jumps_change_nothing(monkeypatch, jump):
    cycle, sender, now = make()
    cycle.start()
    real_time = time.time
    run_until(cycle, now, 1000.0 + 90)
    monkeypatch.setattr(time, "time", lambda: real_time() + jump)  # the user changes the system clock
    run_until(cycle, now, 1000.0 + 300)
    assert sender.attempts == [1000.0 + 30 * k for k in range(11)]


def test_after_a_suspend_exactly_one_beat_goes_out_then_the_grid_resumes():
    cycle, sender, now = make()
    cycle.start()
    run_until(cycle, now, 1060.0)
    assert len(sender.attempts) == 3
    now[0] += (
        7200.0  # the laptop slept two hours (a monotonic clock that counts suspend, like CLOCK_BOOTTIME)
    )
    before = len(sender.attempts)
    run_until(cycle, now, now[0])  # what is due right now
    assert len(sender.attempts) == before + 1  # one beat, not 240 to catch up
    nxt = cycle.next_at
    assert 0 < nxt - now[0] <= 30.0
    assert (nxt - 1000.0) % 30.0 == pytest.approx(0.0, abs=1e-6)  # back on the original grid


def test_an_unexpected_error_in_an_attempt_never_ends_the_schedule():
    cycle, sender, now = make()

    def broken():
        raise RuntimeError("psutil went away")

    sender.attempt = broken
    cycle.start()
    outcome = cycle.beat()
    assert not outcome.ok and "Internal error (RuntimeError)" in outcome.error
    assert cycle.next_at is not None and 2.5 <= cycle.next_at - now[0] <= 5.0  # retried like any failure
