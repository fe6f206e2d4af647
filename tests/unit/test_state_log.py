"""The log's account of the link: a state change names its reason, and a failure's reason reaches the log
once even when the 45 s clock changed the state a moment before the attempt failed."""

from __future__ import annotations

import logging

from polaris_tray.core.heartbeat.cycle import BeatCycle
from polaris_tray.core.heartbeat.sender import BeatSender
from polaris_tray.core.status.state_log import StateLog
from polaris_tray.core.values.link_state import LinkState
from polaris_tray.core.values.outcome import NetworkReason, Outcome, OutcomeKind
from polaris_tray.service.beat_thread import BeatThread

ACCEPTED = Outcome(OutcomeKind.ACCEPTED, status_code=200)
TIMEOUT = Outcome(
    OutcomeKind.NETWORK_ERROR, error="No complete reply within 10 s.", reason=NetworkReason.TIMEOUT
)
REFUSED = Outcome(OutcomeKind.NETWORK_ERROR, error="Connection refused.", reason=NetworkReason.REFUSED)
OVERDUE = "Heartbeat overdue — still counted online for 34 s"


def test_a_failure_after_the_clock_turned_the_state_is_still_logged_once():
    log = StateLog()
    assert log.lines(LinkState.ONLINE, "Online", ACCEPTED) == ["State start -> online (Online)"]
    assert log.lines(LinkState.RETRYING, OVERDUE, ACCEPTED) == [f"State online -> retrying ({OVERDUE})"]
    said = log.lines(LinkState.RETRYING, OVERDUE, TIMEOUT)
    assert said == [f"Heartbeat not delivered ({OVERDUE}): No complete reply within 10 s."]
    assert log.lines(LinkState.RETRYING, OVERDUE, TIMEOUT) == []  # the same reason, retry after retry
    assert log.lines(LinkState.RETRYING, OVERDUE, REFUSED)[0].endswith(": Connection refused.")  # a new one
    assert log.lines(LinkState.OFFLINE, "Offline", REFUSED) == [
        "State retrying -> offline (Offline): Connection refused."
    ]
    assert log.lines(LinkState.OFFLINE, "Offline", REFUSED) == []


def test_after_an_accepted_beat_the_same_reason_is_news_again():
    log = StateLog()
    log.lines(LinkState.RETRYING, "Retrying", TIMEOUT)
    log.lines(LinkState.RETRYING, "Retrying", ACCEPTED)  # accepted, the clock has not said online yet
    assert log.lines(LinkState.RETRYING, "Retrying", TIMEOUT) == [
        "Heartbeat not delivered (Retrying): No complete reply within 10 s."
    ]


def test_a_reason_the_words_already_carry_is_not_repeated_and_stop_names_none():
    log = StateLog()
    words = "Needs attention: No complete reply within 10 s"
    assert log.lines(LinkState.ATTENTION, words, TIMEOUT) == [f"State start -> attention ({words})"]
    assert log.lines(LinkState.ATTENTION, words, TIMEOUT) == []
    assert log.lines(LinkState.STOPPED, "Stopped", TIMEOUT) == ["State attention -> stopped (Stopped)"]
    assert log.lines(LinkState.STOPPED, "Stopped", REFUSED) == []  # not beating: no reason to give


def test_headless_logs_the_reason_when_the_clock_won_the_race(caplog):
    """Seen in CI: the state turned "retrying" by the clock at the very moment the dripping attempt hit its
    10 s deadline, and headless' log never said why (the reason was only written on a state change)."""
    caplog.set_level(logging.INFO, logger="polaris_tray.service.beat_thread")
    now = [100.0]
    cycle = BeatCycle(
        BeatSender("http://127.0.0.1:9/api/v1", "miner-abcdef123456"), 1.0, clock=lambda: now[0]
    )
    beat = BeatThread(cycle, goodbye=False)  # never started: the test plays the beat thread's part
    tracker = cycle.tracker
    tracker.interval_s = 1.0
    tracker.start(now[0])
    tracker.record(ACCEPTED, at=now[0])
    beat.note_state()
    now[0] += 11.0  # last success + interval + the 10 s deadline: overdue, by the clock
    beat.note_state()
    tracker.record(TIMEOUT, at=now[0])  # the attempt's own deadline, the same moment
    beat.note_state()
    beat.note_state()
    said = [r.getMessage() for r in caplog.records]
    assert said[:2] == [
        "State start -> online (Online)",
        "State online -> retrying (Heartbeat overdue — still counted online for 34 s)",
    ]
    assert said[2:] == [
        "Heartbeat not delivered (Retrying — still counted online for 34 s): No complete reply within 10 s."
    ]
