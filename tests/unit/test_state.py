"""The truth model (TRUTH-MODEL.md) on a fake clock: every state is the orchestrator's count at `now`."""

import random
import time

import pytest

from polaris_tray.core.config.limits import OFFLINE_AFTER_S
from polaris_tray.core.status.state import StateTracker
from polaris_tray.core.values.link_state import Colour, LinkState
from polaris_tray.core.values.outcome import NetworkReason, Outcome, OutcomeKind

OK = Outcome(OutcomeKind.ACCEPTED, 200)
E500 = Outcome(OutcomeKind.SERVER_ERROR, 500, error="HTTP 500")
E404 = Outcome(OutcomeKind.NOT_REGISTERED, 404)
TLS = Outcome(OutcomeKind.NETWORK_ERROR, reason=NetworkReason.TLS)
REFUSED = Outcome(OutcomeKind.NETWORK_ERROR, reason=NetworkReason.REFUSED, error="Connection refused")
NOT_DELIVERED = Outcome(OutcomeKind.NETWORK_ERROR, reason=NetworkReason.TIMEOUT, error="timed out")


def running(interval_s: float | None = 30.0) -> StateTracker:
    t = StateTracker(interval_s=interval_s)
    t.start(0.0)
    return t


def test_colours_follow_the_documented_rules():
    t = StateTracker(interval_s=30.0)
    assert t.state(0).colour is Colour.GREY  # stopped
    t.start(0.0)
    assert t.state(0) is LinkState.CONNECTING
    t.record(OK, 1.0)
    assert t.state(1.0).colour is Colour.GREEN
    t.record(E500, 20.0)
    assert t.state(20.0).colour is Colour.AMBER
    assert t.state(45.9).colour is Colour.AMBER  # 44.9 s since the last success
    assert t.state(46.0) is LinkState.OFFLINE  # 45 s since the last success: counted offline
    t.record(OK, 50.0)
    assert t.state(50.0) is LinkState.ONLINE


def test_needs_attention_is_red_at_once():
    for outcome in (E404, TLS, Outcome(OutcomeKind.REJECTED, 422), Outcome(OutcomeKind.CONFIG_ERROR)):
        t = running()
        t.record(OK, 1.0)
        t.record(outcome, 2.0)
        assert t.state(2.0).colour is Colour.RED, outcome


def test_a_never_accepted_agent_that_fails_is_red_not_still_counted_online():
    t = running()
    t.record(REFUSED, 0.1)
    assert t.state(0.1) is LinkState.OFFLINE
    assert t.state(0.1).colour is Colour.RED
    words = t.words(0.1, wall=1000.0)
    assert words == "Not counted online yet — Connection refused; retrying"
    assert "still counted" not in words
    assert t.next_change_at(0.1) is None  # nothing changes by time alone: no timer at all


def test_a_reason_that_ends_a_sentence_reads_once_in_the_words():
    """The status window showed "No complete reply within 10 s.; retrying" (walk, a hanging server)."""
    t = running()
    t.record(Outcome(OutcomeKind.NETWORK_ERROR, reason=NetworkReason.TIMEOUT, error="No reply in 10 s."), 0.1)
    assert t.words(0.1, wall=1000.0) == "Not counted online yet — No reply in 10 s; retrying"


def test_an_accepted_online_beat_counts_45_s_whatever_the_interval():
    t = running(interval_s=120.0)  # --interval 120: the orchestrator still counts 45 s only
    t.record(OK, 10.0)
    assert t.state(10.0) is LinkState.ONLINE
    assert t.next_change_at(10.0) == 55.0  # the count runs out before the beat is overdue
    assert t.state(54.9) is LinkState.ONLINE
    assert t.state(55.0) is LinkState.OFFLINE
    assert t.state(55.0).colour is Colour.RED
    wall_then = time.mktime((2026, 1, 2, 12, 0, 0, 0, 0, -1))
    assert t.words(60.0, wall=wall_then + 5) == "Offline — not counted since 12:00:00"


def test_an_overdue_beat_turns_amber_then_red_at_45_s():
    t = running(interval_s=30.0)
    t.record(OK, 0.0)
    assert t.next_change_at(0.0) == 40.0  # last + interval + the 10 s request deadline
    assert t.state(39.9) is LinkState.ONLINE
    assert t.state(40.0) is LinkState.RETRYING  # e.g. a request stuck in a proxy
    assert t.words(40.0, wall=0) == "Heartbeat overdue — still counted online for 5 s"
    assert t.next_change_at(40.0) == 41.0  # the countdown moves by the second
    assert t.words(44.2, wall=0) == "Heartbeat overdue — still counted online for 1 s"
    assert t.next_change_at(44.2) == 45.0
    assert t.state(45.0) is LinkState.OFFLINE


def test_retrying_words_count_down_the_seconds_left():
    t = running()
    t.record(OK, 0.0)
    t.record(E500, 5.0)
    assert t.words(5.0, wall=0) == "Retrying — still counted online for 40 s"
    assert t.words(5.5, wall=0) == "Retrying — still counted online for 40 s"
    assert t.next_change_at(5.5) == 6.0
    assert t.words(6.0, wall=0) == "Retrying — still counted online for 39 s"


def test_an_accepted_goodbye_ends_the_count_and_one_not_delivered_does_not():
    t = running()
    t.record(OK, 0.0)
    t.stop()
    t.record_goodbye(NOT_DELIVERED, 1.0)
    assert t.counted(1.0) and t.words(1.0, wall=0) == "Stopped — still counted online for 44 s"
    t.record_goodbye(OK, 2.0)
    assert not t.counted(2.0)
    assert t.words(2.0, wall=0) == "Stopped"
    t.start(3.0)
    assert t.state(3.0) is LinkState.CONNECTING and t.words(3.0, wall=0) == "Connecting…"
    t.record(E500, 4.0)
    assert t.state(4.0) is LinkState.OFFLINE  # not "still counted online": the goodbye ended it


def test_stop_and_start_keep_counted_until():
    t = running()
    t.record(OK, 10.0)
    t.stop()
    t.start(20.0)  # no goodbye went (or none was accepted): the orchestrator still counts us
    assert t.counted_until == 10.0 + OFFLINE_AFTER_S
    assert t.words(20.0, wall=0) == "Connecting… — still counted online for 35 s"
    t.record(E500, 21.0)
    assert t.state(21.0) is LinkState.RETRYING
    assert t.state(55.0) is LinkState.OFFLINE


def test_a_wake_from_sleep_moves_the_count_back():
    t = running()
    t.record(OK, 10.0)
    t.shift_back(600.0)
    assert t.state(20.0) is LinkState.CONNECTING and not t.counted(20.0)


@pytest.mark.parametrize("seed", range(20))
def test_invariants_hold_on_random_timelines(seed):
    """Never "still counted online" without an online beat accepted < 45 s ago; never green 45 s after."""
    rng = random.Random(seed)
    t = running(interval_s=rng.choice([10.0, 30.0, 120.0]))
    now, accepted_at, goodbye_at = 0.0, None, None
    for _ in range(300):
        now += rng.uniform(0.0, 20.0)
        roll = rng.random()
        if roll < 0.35:
            t.record(OK, now)
            accepted_at, goodbye_at = now, None
        elif roll < 0.6:
            t.record(rng.choice([E500, REFUSED, NOT_DELIVERED]), now)
        elif roll < 0.65:
            t.record(rng.choice([E404, TLS]), now)
        elif roll < 0.72:
            t.stop()
            goodbye = rng.choice([OK, NOT_DELIVERED])
            t.record_goodbye(goodbye, now)
            if goodbye.ok and accepted_at is not None:
                goodbye_at = now
        elif roll < 0.8:
            t.start(now)
        for probe in (now, now + rng.uniform(0, 50)):
            truly = accepted_at is not None and probe - accepted_at < OFFLINE_AFTER_S and goodbye_at is None
            state, words = t.view(probe, wall=0)
            assert t.counted(probe) == truly
            if "still counted online" in words:
                assert truly, (probe, accepted_at, words)
            if state.colour is Colour.GREEN:
                assert accepted_at is not None and probe - accepted_at < OFFLINE_AFTER_S
            change = t.next_change_at(probe)
            assert change is None or change > probe


def test_next_change_at_lands_on_every_change_of_colour_or_words():
    """Stepping by next_change_at sees every change that stepping by 0.1 s sees: no view is left stale."""
    t = running(interval_s=30.0)
    t.record(OK, 0.0)
    t.record(E500, 12.0)
    at, seen = 12.0, []
    while at is not None and at < 100:
        seen.append(t.view(at, wall=1000 + at))  # the wall clock runs with the monotonic one
        at = t.next_change_at(at)
    fine = [t.view(x / 10, wall=1000 + x / 10) for x in range(120, 1000)]
    distinct = [v for i, v in enumerate(fine) if i == 0 or v != fine[i - 1]]
    assert seen == distinct


def test_unconfigured_is_grey_whatever_else():
    t = StateTracker(configured=False)
    t.start(0.0)
    assert t.state(0.0) is LinkState.UNCONFIGURED
    assert t.state(0.0).colour is Colour.GREY


def test_the_45_s_run_from_when_the_beat_was_sent_not_when_the_answer_came():
    """The orchestrator accepted it somewhere in between: the agent never counts longer than it does."""
    t = running()
    t.record(OK, 9.0, sent_at=1.0)  # a slow answer: 8 s on the way
    assert t.counted_until == 46.0
    assert t.state(45.9) is not LinkState.OFFLINE and t.state(46.0) is LinkState.OFFLINE


def test_a_dns_failure_says_retrying_once_and_once_does_not_promise_it():
    """A dead resolver read "…did not answer; retrying.", so --once (which does not retry) promised a
    retry and the tray's words said "…; retrying; retrying" (walk: the default server with no network)."""
    import socket

    from polaris_tray.core.heartbeat.classify import classify_failure

    reason, message = classify_failure(socket.gaierror(socket.EAI_AGAIN, "Temporary failure"), "o.example")
    assert reason is NetworkReason.DNS and "retrying" not in message
    t = running()
    t.record(Outcome(OutcomeKind.NETWORK_ERROR, reason=reason, error=message), 0.1)
    assert t.words(0.1, wall=1000.0).count("retrying") == 1
