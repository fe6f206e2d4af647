"""The notification policy defers, never drops: the latest change is told once the minute is up."""

from polaris_tray.core.status.snapshot import NOTIFY_MIN_GAP_S, NotificationPolicy
from polaris_tray.core.values.link_state import LinkState


def test_recovery_inside_the_minute_is_announced_when_the_minute_is_up():
    policy = NotificationPolicy()
    policy.consider(LinkState.ONLINE, 0)
    assert policy.consider(LinkState.OFFLINE, 100, "refused").startswith("Offline")
    assert policy.consider(LinkState.ONLINE, 120) is None  # 20 s later: too soon to say
    assert policy.next_due_at() == 100 + NOTIFY_MIN_GAP_S
    assert policy.due(159.9) is None
    assert policy.due(160).startswith("Back online")
    assert policy.due(161) is None and policy.next_due_at() is None  # said once


def test_only_the_latest_change_waits_and_a_return_to_what_was_told_cancels_it():
    policy = NotificationPolicy()
    assert policy.consider(LinkState.OFFLINE, 0).startswith("Offline")
    assert policy.consider(LinkState.ONLINE, 10) is None
    assert policy.consider(LinkState.RETRYING, 15) is None
    assert policy.consider(LinkState.ATTENTION, 20) is None  # red again: the user already knows red
    assert policy.next_due_at() is None
    assert policy.due(100) is None
    assert policy.consider(LinkState.ONLINE, 110).startswith("Back online")  # the minute is up: at once


def test_a_first_red_inside_the_minute_of_another_message_waits_too():
    policy = NotificationPolicy()
    assert policy.consider(LinkState.OFFLINE, 0).startswith("Offline")
    assert policy.consider(LinkState.ONLINE, 5) is None
    assert policy.due(60).startswith("Back online")
    assert policy.consider(LinkState.ATTENTION, 70, "miner not found") is None
    assert policy.due(120) == "Needs attention: miner not found"


def test_stopping_before_a_deferred_recovery_drops_only_that_recovery():
    policy = NotificationPolicy()
    policy.consider(LinkState.OFFLINE, 0)
    policy.consider(LinkState.ONLINE, 10)
    policy.consider(LinkState.STOPPED, 20)
    assert policy.due(100) is None


def test_turned_off_nothing_waits():
    policy = NotificationPolicy(enabled=False)
    assert policy.consider(LinkState.OFFLINE, 0) is None
    assert policy.next_due_at() is None and policy.due(1000) is None
