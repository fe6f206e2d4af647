"""The BeatRunner's command protocol, with no Qt: commands from another thread act at once during a hanging
request (Stop, Apply, Quit), nothing queued before Quit sends anything after it, and the events come on the
running thread in order. A plain thread drives it, a real BeatSender posts to a loopback orchestrator."""

from __future__ import annotations

import threading
import time

import pytest

from polaris_tray.core.heartbeat.cycle import BeatCycle
from polaris_tray.core.heartbeat.runner import (
    Apply,
    Attempted,
    BeatConfig,
    BeatRunner,
    MinerId,
    Published,
    Quit,
    SendNow,
    Start,
    Stop,
    UseId,
)
from polaris_tray.core.heartbeat.sender import BeatSender
from polaris_tray.core.values.link_state import LinkState
from tests.support.orchestrator import Hang, Orchestrator

MINER = MinerId("miner-abcdef123456", "test")


class Driven:
    """A runner on its own thread, waiting as the headless one does: until next_at or a command."""

    def __init__(self, url: str, miner: MinerId | None = MINER, interval_s: float = 30.0) -> None:
        cycle = BeatCycle(BeatSender(url, miner.value if miner else None), interval_s)
        self.events: list[tuple[object, int]] = []
        self._arrived = threading.Condition()
        self.runner = BeatRunner(cycle, BeatConfig(url, interval_s), miner, emit=self._emit)
        self.thread = threading.Thread(target=self._drive, daemon=True)

    def _emit(self, event: object) -> None:
        with self._arrived:
            self.events.append((event, threading.get_ident()))
            self._arrived.notify_all()

    def wait_until(self, predicate, timeout: float = 5.0) -> bool:
        """Until the events so far satisfy predicate (woken by each event, no polling)."""
        with self._arrived:
            return self._arrived.wait_for(predicate, timeout)

    def _drive(self) -> None:
        runner = self.runner
        runner.begin()
        while not runner.finished:
            runner.run()
            due = runner.next_at
            if not runner.finished:
                runner.wait(None if due is None else max(0.0, due - runner.cycle.clock()))

    def snapshots(self) -> list:
        return [e.snapshot for e, _ in self.events if isinstance(e, Published)]

    def start(self) -> Driven:
        self.thread.start()
        return self

    def quit(self, budget_s: float = 3.0) -> None:
        self.runner.submit(Quit())
        self.thread.join(budget_s)
        assert not self.thread.is_alive()


@pytest.fixture
def driven():
    made: list[Driven] = []

    def make(*args, **kw) -> Driven:
        made.append(Driven(*args, **kw).start())
        return made[-1]

    yield make
    for d in made:
        d.quit()


def test_stop_from_another_thread_cuts_a_hanging_request_and_nothing_follows(orchestrator, driven):
    orchestrator.behaviour = Hang()
    d = driven(orchestrator.url, interval_s=0.2)
    assert orchestrator.wait_for(1, timeout=5)
    asked = time.monotonic()
    d.runner.submit(Stop())
    assert d.wait_until(lambda: any(s.state is LinkState.STOPPED for s in d.snapshots()), timeout=2)
    assert time.monotonic() - asked < 1.0  # not the request's 10 s deadline
    time.sleep(1.0)  # five intervals: a beat that should not come would have come
    assert len(orchestrator.arrivals) == 1
    d.runner.submit(Start())  # the cut was settled: a Start beats again
    assert orchestrator.wait_for(2, timeout=5)


def test_send_now_queued_before_quit_sends_nothing_and_nothing_is_taken_after_it(orchestrator):
    orchestrator.behaviour = Hang()
    d = Driven(orchestrator.url).start()
    assert orchestrator.wait_for(1, timeout=5)
    for _ in range(3):
        d.runner.submit(SendNow())
    asked = time.monotonic()
    d.quit()
    assert time.monotonic() - asked < 1.5
    d.runner.submit(Start())
    d.runner.submit(SendNow())
    d.runner.run()  # on this thread now: the runner has finished and takes nothing
    time.sleep(0.3)
    assert len(orchestrator.arrivals) == 1
    assert d.runner.finished and d.runner.next_at is None


def test_apply_during_a_hang_sends_to_the_new_server_at_once(orchestrator, driven):
    orchestrator.behaviour = Hang()
    second = Orchestrator()
    try:
        d = driven(orchestrator.url)
        assert orchestrator.wait_for(1, timeout=5)
        d.runner.submit(Apply(BeatConfig(second.url, 30.0)))  # the id in use stays
        assert second.wait_for(1, timeout=2)
        assert second.bodies()[0]["metrics"]["miner_id"] == MINER.value
        assert d.wait_until(
            lambda: any(s.server_url == second.url and s.state is LinkState.ONLINE for s in d.snapshots())
        )
        assert len(orchestrator.arrivals) == 1
    finally:
        second.stop()


def test_events_come_on_the_running_thread_each_attempt_before_its_snapshot(orchestrator, driven):
    d = driven(orchestrator.url)
    assert d.wait_until(lambda: any(s.state is LinkState.ONLINE for s in d.snapshots()))
    kinds = [type(e).__name__ for e, _ in d.events]
    assert kinds[:3] == ["Published", "Attempted", "Published"], kinds
    assert d.snapshots()[0].state is LinkState.CONNECTING
    attempted = next(e for e, _ in d.events if isinstance(e, Attempted))
    assert attempted.outcome.ok and not attempted.goodbye
    assert {ident for _, ident in d.events} == {d.thread.ident}


def test_an_id_found_later_starts_the_wanted_beat(orchestrator, driven):
    d = driven(orchestrator.url, miner=None)
    assert d.wait_until(lambda: bool(d.snapshots()))
    assert d.snapshots()[0].state is LinkState.UNCONFIGURED
    assert not orchestrator.arrivals
    d.runner.submit(UseId(MINER))
    assert orchestrator.wait_for(1, timeout=5)
    assert d.wait_until(lambda: d.snapshots()[-1].miner_origin == "test")
