import ssl
import time
from dataclasses import replace

from polaris_tray.core.heartbeat.classify import tls_message
from polaris_tray.core.status.snapshot import (
    NotificationPolicy,
    Snapshot,
    detail_lines,
    headline,
    outcome_words,
    relative,
    tooltip,
)
from polaris_tray.core.status.state import StateTracker
from polaris_tray.core.values.link_state import LinkState
from polaris_tray.core.values.outcome import NetworkReason, Outcome, OutcomeKind

URL = "https://orchestrator.example/api/v1"


class WrongVersion(ssl.SSLError):
    def __str__(self) -> str:
        return "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1000)"


def clock(wall: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(wall))


def test_tooltip_says_state_last_success_next_attempt_and_host():
    snap = Snapshot(LinkState.ONLINE, URL, "f3a9…", last_success_wall=1000.0, next_attempt_wall=1030.0)
    text = tooltip(snap, now_wall=1012.0)
    assert "Online" in text
    assert f"Last accepted: at {clock(1000.0)}" in text
    assert f"Next attempt: at {clock(1030.0)}" in text
    assert "Server: orchestrator.example" in text


def test_the_tooltip_is_still_true_when_read_a_beat_after_it_was_set():
    """The icon's tooltip is set per snapshot; read 10 s later it said "Last accepted: now" and "Next
    attempt: in 30 s" beside a status window saying "11 s ago" and "in 19 s" (walk, trayer)."""
    snap = Snapshot(LinkState.ONLINE, URL, "f3a9…", last_success_wall=1000.0, next_attempt_wall=1030.0)
    assert tooltip(snap, now_wall=1000.0) == tooltip(snap, now_wall=1011.0)
    assert "now" not in tooltip(snap, now_wall=1000.0)
    # an attempt due or under way (a hanging server) is "now", not a clock time already past
    assert "Next attempt: now" in tooltip(snap, now_wall=1031.0)


def test_retrying_shows_the_last_error_and_attention_shows_it_in_the_headline():
    err = Outcome(OutcomeKind.SERVER_ERROR, 500, error="Server error (HTTP 500: db down).")
    lines = detail_lines(Snapshot(LinkState.RETRYING, URL, last_outcome=err, next_attempt_wall=5.0), 0.0)
    assert lines[0].startswith("Retrying") and "Last error: Server error (HTTP 500: db down)." in lines
    attention = Outcome(
        OutcomeKind.NOT_REGISTERED, 404, error="This orchestrator does not know this miner id."
    )
    lines = detail_lines(Snapshot(LinkState.ATTENTION, URL, last_outcome=attention), 0.0)
    assert lines[0] == "Needs attention: This orchestrator does not know this miner id."


def test_relative_times():
    assert [relative(s) for s in (0.2, 1, 42, 600, 7200, 3 * 86400)] == [
        "now",
        "1 s",
        "42 s",
        "10 min",
        "2 h",
        "3 days",
    ]


def test_outcome_words_for_the_test_connection_button():
    assert outcome_words(Outcome(OutcomeKind.ACCEPTED, 200, latency_ms=84.2), "ab12…") == "Accepted in 84 ms"
    assert outcome_words(Outcome(OutcomeKind.NOT_REGISTERED, 404), "ab12…") == (
        "This server does not know miner ab12… (404)"
    )
    tls = Outcome(
        OutcomeKind.NETWORK_ERROR, reason=NetworkReason.TLS, error="The server's certificate is not trusted"
    )
    assert outcome_words(tls, "x").startswith("Certificate problem")
    # walk: an https URL to a plain-HTTP port read "Certificate problem: This server does not speak HTTPS…"
    plain = Outcome(OutcomeKind.NETWORK_ERROR, reason=NetworkReason.TLS, error=tls_message(WrongVersion()))
    assert outcome_words(plain, "x") == "This server does not speak HTTPS — did you mean http://?"
    expired = "TLS: the server's certificate has expired."
    assert outcome_words(replace(tls, error=expired), "x") == (
        "Certificate problem: the server's certificate has expired."
    )
    refused = Outcome(
        OutcomeKind.NETWORK_ERROR, reason=NetworkReason.REFUSED, error="Connection refused by h."
    )
    assert outcome_words(refused, "x") == "Unreachable: Connection refused by h."


def test_notifications_only_on_meaningful_transitions_and_at_most_one_a_minute():
    policy = NotificationPolicy()
    assert policy.consider(LinkState.CONNECTING, 0) is None
    assert policy.consider(LinkState.ONLINE, 1) is None  # a normal start says nothing
    assert policy.consider(LinkState.RETRYING, 2) is None  # amber is not worth a popup
    assert policy.consider(LinkState.OFFLINE, 50, "refused").startswith("Offline")
    assert policy.consider(LinkState.ATTENTION, 51) is None  # still red
    assert policy.consider(LinkState.ONLINE, 70) is None  # within the minute: deferred
    assert policy.due(110).startswith("Back online")  # announced when the minute is up
    assert policy.consider(LinkState.ATTENTION, 200).startswith("Needs attention")
    assert policy.consider(LinkState.ONLINE, 300).startswith("Back online")


def test_notifications_can_be_turned_off():
    policy = NotificationPolicy(enabled=False)
    assert policy.consider(LinkState.OFFLINE, 0) is None


def test_views_show_the_trackers_words_taken_with_the_snapshot():
    words = "Retrying — still counted online for 12 s"
    snap = Snapshot(LinkState.RETRYING, URL, words=words)
    assert headline(snap) == words and detail_lines(snap, 0.0)[0] == words
    assert tooltip(snap, 0.0).startswith(f"Polaris Tray — {words}")
    plain = Snapshot(LinkState.OFFLINE, URL)  # made by hand (a stand-in): the state's own words
    assert headline(plain) == "Offline — not counted online"


def test_no_acceptance_in_this_run_does_not_deny_the_older_ones_in_the_table():
    """After a restart the table listed accepted beats minutes old beside "Last accepted: not yet" (walk)."""
    lines = detail_lines(Snapshot(LinkState.CONNECTING, URL, next_attempt_wall=5.0), 0.0)
    assert "Last accepted: none since this app started" in lines


def test_red_says_the_error_once_where_the_headline_carries_it():
    """Red before any count: the headline says the reason; a "Last error:" line said the same again."""
    refused = Outcome(
        OutcomeKind.NETWORK_ERROR,
        error="Could not connect to 127.0.0.1:9: connection refused.",
        reason=NetworkReason.REFUSED,
    )
    tracker = StateTracker(interval_s=30.0)
    tracker.start(0.0)
    tracker.record(refused, at=1.0)
    state, words = tracker.view(2.0, wall=1002.0)
    assert state is LinkState.OFFLINE and words == (
        "Not counted online yet — Could not connect to 127.0.0.1:9: connection refused; retrying"
    )
    snap = Snapshot(state, URL, last_outcome=refused, next_attempt_wall=1010.0, words=words)
    lines = detail_lines(snap, 1002.0)
    assert lines[0] == words
    assert not any(line.startswith("Last error") for line in lines), lines
    assert sum("connection refused" in line for line in tooltip(snap, 1002.0).splitlines()) == 1
    # amber's headline counts the seconds left, not the error: the error line stays
    tracker.record(Outcome(OutcomeKind.ACCEPTED, 200), at=3.0)
    tracker.record(refused, at=4.0)
    state, words = tracker.view(5.0, wall=1005.0)
    assert state is LinkState.RETRYING and words.startswith("Retrying — still counted online for")
    lines = detail_lines(replace(snap, state=state, words=words), 1005.0)
    assert "Last error: Could not connect to 127.0.0.1:9: connection refused." in lines
