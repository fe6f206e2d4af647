"""A Stopped tray whose goodbye was not delivered, then Test connection's accepted "offline" beat: the
orchestrator counts the miner offline at once, so the tray stops saying "still counted online". A real
ConnectionTest posts to a loopback orchestrator, a real BeatRunner on its own thread (tests/unit/
test_runner.py's Driven), a private one-agent lock name (no tray holds it: the test says "offline")."""

from __future__ import annotations

import os

import pytest

from polaris_tray.core.heartbeat.runner import Attempted, ToldOffline
from polaris_tray.core.heartbeat.runner import Stop as StopCommand
from polaris_tray.core.setup.connection_test import ConnectionTest
from polaris_tray.core.values.link_state import LinkState
from tests.support.orchestrator import Orchestrator, Reply
from tests.unit.test_runner import MINER, driven  # noqa: F401 (the fixture)


@pytest.fixture(autouse=True)
def own_lock(monkeypatch):
    monkeypatch.setenv("POLARIS_TRAY_INSTANCE", f"told-offline-{os.getpid()}")


def stopped_with_a_failed_goodbye(orchestrator, driven):  # noqa: F811
    d = driven(orchestrator.url)
    assert d.wait_until(lambda: any(s.state is LinkState.ONLINE for s in d.snapshots()))
    orchestrator.switch(Reply(500))
    d.runner.submit(StopCommand())
    assert d.wait_until(lambda: d.snapshots()[-1].state is LinkState.STOPPED)
    assert orchestrator.bodies()[-1]["status"] == "offline"  # the goodbye went and failed
    assert "still counted online for" in d.snapshots()[-1].words  # true: the orchestrator waits its 45 s
    orchestrator.switch(Reply())
    return d


def test_an_accepted_offline_test_beat_ends_a_stopped_trays_count(orchestrator, driven):  # noqa: F811
    d = stopped_with_a_failed_goodbye(orchestrator, driven)
    result = ConnectionTest(orchestrator.url, MINER.value, None).run()
    assert result.ok and orchestrator.bodies()[-1]["status"] == "offline"
    assert result.told is not None and MINER.value not in repr(result)
    published = len(d.snapshots())
    d.runner.submit(result.told)
    assert d.wait_until(lambda: len(d.snapshots()) > published)
    assert d.snapshots()[-1].state is LinkState.STOPPED
    assert d.snapshots()[-1].words == LinkState.STOPPED.words  # before: "… still counted online for 44 s"
    assert not d.runner.cycle.tracker.counted(d.runner.cycle.clock())
    said = [e for e, _ in d.events if isinstance(e, Attempted)][-1]
    assert said.goodbye and said.outcome.ok  # the history's coverage ends with it too


def test_a_test_beat_for_another_miner_or_server_changes_nothing(orchestrator, driven):  # noqa: F811
    d = stopped_with_a_failed_goodbye(orchestrator, driven)
    other = Orchestrator()
    try:
        told = ConnectionTest(orchestrator.url, MINER.value, None).run().told
        assert told is not None
        for not_ours in (
            ToldOffline(told.server_url, "someone-else-1234", told.outcome),
            ToldOffline(other.url, told.miner_id, told.outcome),
        ):
            published = len(d.snapshots())
            d.runner.submit(not_ours)
            d.runner.submit(StopCommand())  # publishes: the told one has been handled by then
            assert d.wait_until(lambda n=published: len(d.snapshots()) > n)
            assert "still counted online for" in d.snapshots()[-1].words
    finally:
        other.stop()


def test_a_failed_or_online_test_beat_tells_the_tray_nothing(orchestrator):
    orchestrator.switch(Reply(500))
    assert ConnectionTest(orchestrator.url, MINER.value, None).run().told is None
    orchestrator.switch(Reply())
    assert ConnectionTest(orchestrator.url, MINER.value, None).run().told is not None


def test_a_beating_tray_keeps_its_own_count(orchestrator, driven):  # noqa: F811
    d = driven(orchestrator.url)
    assert d.wait_until(lambda: any(s.state is LinkState.ONLINE for s in d.snapshots()))
    told = ToldOffline(orchestrator.url, MINER.value, d.runner.cycle.tracker.last_outcome)
    orchestrator.switch(Reply(500))  # the Stop below says goodbye and fails: only the told one could end it
    d.runner.submit(told)  # e.g. a test that raced a Start: the running cycle's beats say what is counted
    d.runner.submit(StopCommand())
    assert d.wait_until(lambda: d.snapshots()[-1].state is LinkState.STOPPED)
    assert "still counted online for" in d.snapshots()[-1].words
