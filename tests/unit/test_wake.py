"""Resume detection on an injected clock pair, and the state owning up to the time asleep."""

from polaris_tray.core.heartbeat.wake import ResumeDetector, account_sleep, default_clocks
from polaris_tray.core.status.state import StateTracker
from polaris_tray.core.values.link_state import LinkState
from polaris_tray.core.values.outcome import NetworkReason, Outcome, OutcomeKind

OK = Outcome(OutcomeKind.ACCEPTED, 200)
FAIL = Outcome(OutcomeKind.NETWORK_ERROR, error="refused", reason=NetworkReason.REFUSED)


class Clocks:
    """A monotonic clock that stops while 'asleep' and a boottime clock that does not."""

    def __init__(self) -> None:
        self.mono = 100.0
        self.boot = 100.0

    def run(self, seconds: float) -> None:
        self.mono += seconds
        self.boot += seconds

    def sleep(self, seconds: float) -> None:
        self.boot += seconds


def test_a_ten_minute_suspend_is_reported_once_with_its_length():
    clocks = Clocks()
    detector = ResumeDetector(lambda: clocks.mono, lambda: clocks.boot)
    assert detector.poll() is None  # the first poll only sets the baseline
    clocks.run(1)
    assert detector.poll() is None
    clocks.sleep(600)
    clocks.run(0.5)
    assert detector.poll() == 600
    clocks.run(1)
    assert detector.poll() is None


def test_noise_and_a_clock_set_back_are_not_a_resume():
    clocks = Clocks()
    detector = ResumeDetector(lambda: clocks.mono, lambda: clocks.boot)
    detector.poll()
    clocks.sleep(0.5)
    assert detector.poll() is None
    clocks.boot -= 3600  # the wall clock stepped back (the fallback clock elsewhere)
    assert detector.poll() is None
    clocks.sleep(5)
    assert detector.poll() == 5


def test_after_a_suspend_green_waits_for_a_beat_and_the_45_s_rule_counts_the_sleep():
    tracker = StateTracker()
    tracker.start(0)
    tracker.record(OK, 10)
    assert tracker.state(20) is LinkState.ONLINE
    account_sleep(tracker, 0)  # the network came back: a beat goes out, green stays until it answers
    assert tracker.state(20) is LinkState.ONLINE
    account_sleep(tracker, 600)  # woke at monotonic 20 after 10 minutes asleep
    assert tracker.state(20) is LinkState.CONNECTING  # not green: nothing covered the sleep
    assert tracker.last_success_at == 10 - 600
    tracker.record(FAIL, 21)  # the first beat after the wake fails
    assert tracker.state(21) is LinkState.OFFLINE  # the orchestrator counted us offline long ago
    tracker.record(OK, 22)
    assert tracker.state(22) is LinkState.ONLINE


def test_a_suspend_while_failing_moves_the_failure_back_too():
    tracker = StateTracker()
    tracker.start(0)
    tracker.record(OK, 1)
    tracker.record(FAIL, 5)
    assert tracker.state(10) is LinkState.RETRYING
    account_sleep(tracker, 60)
    assert tracker.state(10) is LinkState.OFFLINE


def test_default_clocks_read():
    mono, through = default_clocks()
    assert mono() > 0 and through() > 0
