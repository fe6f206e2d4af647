"""The BeatCycle owns the beat: Send now, retarget, interrupt and the one goodbye rule, on a
fake clock with senders that record what they were asked to do."""

import random
import threading

from polaris_tray.core.heartbeat.cycle import MANUAL_FLOOR_S, BeatCycle
from polaris_tray.core.values.link_state import LinkState
from polaris_tray.core.values.outcome import NetworkReason, Outcome, OutcomeKind

OK = Outcome(OutcomeKind.ACCEPTED, 200)
BUSY = Outcome(OutcomeKind.RATE_LIMITED, 429, retry_after=120.0, error="slow down")
DOWN = Outcome(OutcomeKind.SERVER_ERROR, 500, error="down")


class Sender:
    """Answers from a script; records attempts, goodbyes, aborts and closes."""

    def __init__(self, server_url="http://127.0.0.1:1/api/v1", miner_id="m", clock=None, script=None):
        self.server_url, self.miner_id = server_url, miner_id
        self.clock = clock
        self.script = script if script is not None else []
        self.attempts, self.goodbyes = [], 0
        self.aborted = self.closed = False
        self.during_attempt = None  # called inside attempt(), to act while "the request is under way"

    def attempt(self):
        self.attempts.append(self.clock())
        if self.during_attempt:
            self.during_attempt()
        if self.aborted:
            return Outcome(OutcomeKind.NETWORK_ERROR, error="Cancelled.", reason=NetworkReason.CANCELLED)
        return self.script.pop(0) if self.script else OK

    def say_goodbye(self):
        self.goodbyes += 1
        return OK

    def abort(self):
        self.aborted = True

    def close(self):
        self.closed = True


def make(interval=30.0, script=None):
    now = [1000.0]
    clock = lambda: now[0]  # noqa: E731
    sender = Sender(clock=clock, script=script)
    cycle = BeatCycle(
        sender,
        interval,
        clock=clock,
        rng=random.Random(1),
        sender_factory=lambda url, miner: Sender(url, miner, clock),
    )
    return cycle, now


def from_another_thread(fn):
    t = threading.Thread(target=fn)
    t.start()
    t.join()


def run_due(cycle, now):
    """What a runner does: wait until next_at, then beat."""
    now[0] = max(now[0], cycle.next_at)
    return cycle.beat()


def test_send_now_is_at_once_when_healthy_then_floored_and_merged():
    cycle, now = make(30.0)
    cycle.start()
    run_due(cycle, now)
    now[0] += 1.0
    assert cycle.beat_now() == now[0]  # a healthy interval may be shortened
    run_due(cycle, now)
    first_manual = now[0]
    for _ in range(10):  # ten clicks merge into one, no sooner than the floor
        assert cycle.beat_now() == first_manual + MANUAL_FLOOR_S
    run_due(cycle, now)
    assert len(cycle.sender.attempts) == 3
    assert cycle.beat() is None  # nothing more is due


def test_send_now_never_jumps_retry_after_or_backoff():
    cycle, now = make(5.0, script=[BUSY])
    cycle.start()
    run_due(cycle, now)
    planned = cycle.next_at
    assert planned - now[0] >= 120.0
    assert cycle.beat_now() == planned  # the server's request to wait stands
    pm2, now2 = make(5.0, script=[DOWN])
    pm2.start()
    run_due(pm2, now2)
    assert pm2.beat_now() == pm2.next_at >= now2[0] + 2.5  # inside the backoff window


def test_send_now_while_stopped_sends_one_beat_and_stays_stopped():
    cycle, now = make(0.2)
    assert cycle.next_at is None
    cycle.beat_now()
    outcome = run_due(cycle, now)
    assert outcome.ok and not cycle.running and cycle.next_at is None
    assert cycle.tracker.state(now[0]) is LinkState.STOPPED


def test_goodbye_only_after_an_accepted_attempt():
    cycle, now = make()
    cycle.start()
    run_due(cycle, now)
    sender = cycle.sender
    assert cycle.finish(goodbye=True).ok and sender.goodbyes == 1
    cycle, now = make(script=[DOWN])
    cycle.start()
    run_due(cycle, now)
    assert cycle.finish(goodbye=True) is None and cycle.sender.goodbyes == 0
    cycle, now = make()
    cycle.start()
    run_due(cycle, now)
    assert cycle.finish(goodbye=False) is None and cycle.sender.goodbyes == 0


def test_interrupt_cuts_the_attempt_records_nothing_and_holds_until_resumed():
    cycle, now = make()
    cycle.start()
    run_due(cycle, now)  # online
    now[0] = cycle.next_at
    cut_sender = cycle.sender
    cut_sender.during_attempt = lambda: from_another_thread(cycle.interrupt)
    assert cycle.beat() is None  # cut: not an outcome
    assert cut_sender.aborted
    assert cycle.tracker.last_outcome.ok  # the cut attempt is not counted as a failure
    assert cycle.next_at is None  # halted: nothing starts


def test_a_stop_that_cuts_a_quick_attempt_still_says_goodbye_on_a_fresh_sender():
    """A Stop landing while a healthy server answers: the beat before was accepted, so goodbye goes."""
    cycle, now = make()
    cycle.start()
    run_due(cycle, now)  # accepted
    now[0] = cycle.next_at
    cut_sender = cycle.sender
    cut_sender.during_attempt = lambda: from_another_thread(cycle.interrupt)
    assert cycle.beat() is None
    result = cycle.finish(goodbye=True)
    assert result is not None and result.ok
    assert cut_sender.goodbyes == 0 and cut_sender.closed  # the aborted sender is not asked
    assert cycle.sender is not cut_sender


def test_a_stop_that_cuts_a_hanging_attempt_sends_no_goodbye():
    cycle, now = make()
    cycle.start()
    run_due(cycle, now)  # accepted
    now[0] = cycle.next_at

    def hang_then_cut():
        now[0] += 1.0  # under way for the goodbye's whole bound: that server hangs
        from_another_thread(cycle.interrupt)

    cycle.sender.during_attempt = hang_then_cut
    assert cycle.beat() is None
    assert cycle.finish(goodbye=True) is None
    assert cycle.sender.goodbyes == 0


def test_resume_after_an_interrupt_beats_again_at_once_with_a_fresh_sender():
    cycle, now = make()
    cycle.start()
    run_due(cycle, now)
    now[0] = cycle.next_at
    cycle.sender.during_attempt = lambda: from_another_thread(cycle.interrupt)
    assert cycle.beat() is None
    first = cycle.sender
    cycle.resume()
    assert cycle.next_at == now[0]
    assert run_due(cycle, now).ok
    assert cycle.sender is not first and first.closed


def test_retarget_uses_a_new_sender_and_beats_at_once():
    cycle, now = make()
    cycle.start()
    run_due(cycle, now)
    old = cycle.sender
    cycle.retarget("http://127.0.0.1:2/api/v1", "other")
    assert cycle.next_at == now[0]
    run_due(cycle, now)
    sender = cycle.sender
    assert old.closed and (sender.server_url, sender.miner_id) == ("http://127.0.0.1:2/api/v1", "other")


def test_an_interrupt_with_nothing_under_way_keeps_the_sender_and_the_goodbye():
    cycle, now = make()
    cycle.start()
    run_due(cycle, now)
    sender = cycle.sender
    cycle.interrupt()  # Stop while idle
    assert not sender.aborted
    assert cycle.finish(goodbye=True).ok and sender.goodbyes == 1


def test_an_accepted_goodbye_ends_the_count_and_the_interval_reaches_the_tracker():
    """The goodbye's outcome reaches the tracker: an accepted one means nothing counts us online now."""
    cycle, now = make(20.0)
    assert cycle.tracker.interval_s == 20.0
    cycle.set_interval(25.0)
    assert cycle.tracker.interval_s == 25.0
    cycle.start()
    run_due(cycle, now)
    assert cycle.tracker.counted(now[0] + 1)
    now[0] += 3
    cycle.finish(goodbye=True)
    assert not cycle.tracker.counted(now[0])
    cycle._factory = lambda url, miner: Sender(url, miner, lambda: now[0], script=[DOWN])  # stop closed it
    cycle.start()  # a restart right away is not "still counted online" on a first failure
    run_due(cycle, now)
    assert cycle.tracker.state(now[0]) is LinkState.OFFLINE


def test_a_goodbye_not_delivered_leaves_the_count_running():
    cycle, now = make(20.0)
    cycle.start()
    run_due(cycle, now)
    cycle.sender.say_goodbye = lambda: DOWN
    now[0] += 3
    cycle.finish(goodbye=True)
    assert cycle.tracker.counted(now[0]) and cycle.tracker.counted_until == now[0] - 3 + 45
    cycle.start()
    assert "still counted online for 42 s" in cycle.tracker.words(now[0], wall=0)
