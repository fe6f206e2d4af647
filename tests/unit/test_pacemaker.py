"""The BeatCycle owns the beat (issue 14): Send now, retarget, interrupt and the one goodbye rule, on a
fake clock with engines that record what they were asked to do."""

import random
import threading

from polaris_tray.core.heartbeat.cycle import MANUAL_FLOOR_S, BeatCycle
from polaris_tray.core.values.link_state import LinkState
from polaris_tray.core.values.outcome import NetworkReason, Outcome, OutcomeKind

OK = Outcome(OutcomeKind.ACCEPTED, 200)
BUSY = Outcome(OutcomeKind.RATE_LIMITED, 429, retry_after=120.0, error="slow down")
DOWN = Outcome(OutcomeKind.SERVER_ERROR, 500, error="down")


class Engine:
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
    engine = Engine(clock=clock, script=script)
    pm = BeatCycle(
        engine,
        interval,
        clock=clock,
        rng=random.Random(1),
        sender_factory=lambda url, miner: Engine(url, miner, clock),
    )
    return pm, now


def from_another_thread(fn):
    t = threading.Thread(target=fn)
    t.start()
    t.join()


def run_due(pm, now):
    """What a runner does: wait until next_at, then beat."""
    now[0] = max(now[0], pm.next_at)
    return pm.beat()


def test_send_now_is_at_once_when_healthy_then_floored_and_merged():
    pm, now = make(30.0)
    pm.start()
    run_due(pm, now)
    now[0] += 1.0
    assert pm.beat_now() == now[0]  # a healthy interval may be shortened
    run_due(pm, now)
    first_manual = now[0]
    for _ in range(10):  # ten clicks merge into one, no sooner than the floor
        assert pm.beat_now() == first_manual + MANUAL_FLOOR_S
    run_due(pm, now)
    assert len(pm.sender.attempts) == 3
    assert pm.beat() is None  # nothing more is due


def test_send_now_never_jumps_retry_after_or_backoff():
    pm, now = make(5.0, script=[BUSY])
    pm.start()
    run_due(pm, now)
    planned = pm.next_at
    assert planned - now[0] >= 120.0
    assert pm.beat_now() == planned  # the server's request to wait stands
    pm2, now2 = make(5.0, script=[DOWN])
    pm2.start()
    run_due(pm2, now2)
    assert pm2.beat_now() == pm2.next_at >= now2[0] + 2.5  # inside the backoff window


def test_send_now_while_stopped_sends_one_beat_and_stays_stopped():
    pm, now = make(0.2)
    assert pm.next_at is None
    pm.beat_now()
    outcome = run_due(pm, now)
    assert outcome.ok and not pm.running and pm.next_at is None
    assert pm.tracker.state(now[0]) is LinkState.STOPPED


def test_goodbye_only_after_an_accepted_attempt():
    pm, now = make()
    pm.start()
    run_due(pm, now)
    engine = pm.sender
    assert pm.finish(goodbye=True).ok and engine.goodbyes == 1
    pm, now = make(script=[DOWN])
    pm.start()
    run_due(pm, now)
    assert pm.finish(goodbye=True) is None and pm.sender.goodbyes == 0
    pm, now = make()
    pm.start()
    run_due(pm, now)
    assert pm.finish(goodbye=False) is None and pm.sender.goodbyes == 0


def test_interrupt_cuts_the_attempt_records_nothing_and_holds_until_resumed():
    pm, now = make()
    pm.start()
    run_due(pm, now)  # online
    now[0] = pm.next_at
    cut_engine = pm.sender
    cut_engine.during_attempt = lambda: from_another_thread(pm.interrupt)
    assert pm.beat() is None  # cut: not an outcome
    assert cut_engine.aborted
    assert pm.tracker.last_outcome.ok  # the cut attempt is not counted as a failure
    assert pm.next_at is None  # halted: nothing starts


def test_a_stop_that_cuts_a_quick_attempt_still_says_goodbye_on_a_fresh_engine():
    """A Stop landing while a healthy server answers: the beat before was accepted, so goodbye goes."""
    pm, now = make()
    pm.start()
    run_due(pm, now)  # accepted
    now[0] = pm.next_at
    cut_engine = pm.sender
    cut_engine.during_attempt = lambda: from_another_thread(pm.interrupt)
    assert pm.beat() is None
    result = pm.finish(goodbye=True)
    assert result is not None and result.ok
    assert cut_engine.goodbyes == 0 and cut_engine.closed  # the aborted engine is not asked
    assert pm.sender is not cut_engine


def test_a_stop_that_cuts_a_hanging_attempt_sends_no_goodbye():
    pm, now = make()
    pm.start()
    run_due(pm, now)  # accepted
    now[0] = pm.next_at

    def hang_then_cut():
        now[0] += 1.0  # under way for the goodbye's whole bound: that server hangs
        from_another_thread(pm.interrupt)

    pm.sender.during_attempt = hang_then_cut
    assert pm.beat() is None
    assert pm.finish(goodbye=True) is None
    assert pm.sender.goodbyes == 0


def test_resume_after_an_interrupt_beats_again_at_once_with_a_fresh_engine():
    pm, now = make()
    pm.start()
    run_due(pm, now)
    now[0] = pm.next_at
    pm.sender.during_attempt = lambda: from_another_thread(pm.interrupt)
    assert pm.beat() is None
    first = pm.sender
    pm.resume()
    assert pm.next_at == now[0]
    assert run_due(pm, now).ok
    assert pm.sender is not first and first.closed


def test_retarget_uses_a_new_engine_and_beats_at_once():
    pm, now = make()
    pm.start()
    run_due(pm, now)
    old = pm.sender
    pm.retarget("http://127.0.0.1:2/api/v1", "other")
    assert pm.next_at == now[0]
    run_due(pm, now)
    assert old.closed and (pm.sender.server_url, pm.sender.miner_id) == ("http://127.0.0.1:2/api/v1", "other")


def test_an_interrupt_with_nothing_under_way_keeps_the_engine_and_the_goodbye():
    pm, now = make()
    pm.start()
    run_due(pm, now)
    engine = pm.sender
    pm.interrupt()  # Stop while idle
    assert not engine.aborted
    assert pm.finish(goodbye=True).ok and engine.goodbyes == 1


def test_an_accepted_goodbye_ends_the_count_and_the_interval_reaches_the_tracker():
    """The goodbye's outcome reaches the tracker: an accepted one means nothing counts us online now."""
    pm, now = make(20.0)
    assert pm.tracker.interval_s == 20.0
    pm.set_interval(25.0)
    assert pm.tracker.interval_s == 25.0
    pm.start()
    run_due(pm, now)
    assert pm.tracker.counted(now[0] + 1)
    now[0] += 3
    pm.finish(goodbye=True)
    assert not pm.tracker.counted(now[0])
    pm._factory = lambda url, miner: Engine(url, miner, lambda: now[0], script=[DOWN])  # the stop closed it
    pm.start()  # a restart right away is not "still counted online" on a first failure
    run_due(pm, now)
    assert pm.tracker.state(now[0]) is LinkState.OFFLINE


def test_a_goodbye_not_delivered_leaves_the_count_running():
    pm, now = make(20.0)
    pm.start()
    run_due(pm, now)
    pm.sender.say_goodbye = lambda: DOWN
    now[0] += 3
    pm.finish(goodbye=True)
    assert pm.tracker.counted(now[0]) and pm.tracker.counted_until == now[0] - 3 + 45
    pm.start()
    assert "still counted online for 42 s" in pm.tracker.words(now[0], wall=0)
