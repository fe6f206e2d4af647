from polaris_tray.core.status.outcome import NetworkReason, Outcome, OutcomeKind
from polaris_tray.core.status.state import Colour, LinkState, StateTracker

OK = Outcome(OutcomeKind.ACCEPTED, 200)
E500 = Outcome(OutcomeKind.SERVER_ERROR, 500)
E404 = Outcome(OutcomeKind.NOT_REGISTERED, 404)
TLS = Outcome(OutcomeKind.NETWORK_ERROR, reason=NetworkReason.TLS)
REFUSED = Outcome(OutcomeKind.NETWORK_ERROR, reason=NetworkReason.REFUSED)


def test_colours_follow_the_documented_rules():
    t = StateTracker()
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
        t = StateTracker()
        t.start(0.0)
        t.record(OK, 1.0)
        t.record(outcome, 2.0)
        assert t.state(2.0).colour is Colour.RED, outcome


def test_failures_from_the_start_count_from_the_first_failure():
    t = StateTracker()
    t.start(0.0)
    t.record(REFUSED, 0.1)
    assert t.state(30.0) is LinkState.RETRYING
    assert t.next_change_at(30.0) == 45.1
    t.record(REFUSED, 50.0)
    assert t.state(50.0) is LinkState.OFFLINE


def test_unconfigured_is_grey_whatever_else():
    t = StateTracker(configured=False)
    t.start(0.0)
    assert t.state(0.0) is LinkState.UNCONFIGURED
    assert t.state(0.0).colour is Colour.GREY
