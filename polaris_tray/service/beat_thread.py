"""The agent with no GUI and no Qt: the BeatRunner on a plain thread, and a main thread that only waits for a
stop signal. The log lines and the service manager's hooks are made here from the runner's events."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable

from polaris_tray.console import EXIT_FAILED
from polaris_tray.core.heartbeat import wake
from polaris_tray.core.heartbeat.cycle import BeatCycle
from polaris_tray.core.heartbeat.runner import (
    Attempted,
    BeatConfig,
    BeatRunner,
    Event,
    MinerId,
    Notice,
    Published,
    Quit,
    Woke,
)
from polaris_tray.core.status.state_log import StateLog
from polaris_tray.core.values.outcome import Outcome
from polaris_tray.service.hooks import ServiceHooks

log = logging.getLogger(__name__)

STOP_SIGNALS = tuple(s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s)
JOIN_BUDGET_S = 1.8  # the process must end within 2 s of a stop signal
RESUME_POLL_S = 2.0  # how often the loop asks whether the machine slept (the tray's watcher: about 1 s)


class BeatThread(threading.Thread):
    """A thread because an attempt blocks up to its deadline, and the main thread must stay free for signals.

    It waits until the next beat, a submitted command, the resume poll or the watchdog's tick, then runs the
    runner. The state is re-evaluated by the clock on StateClock meanwhile: an attempt stuck on this thread
    up to its deadline must not keep the log and STATUS= saying "online" after the orchestrator stopped
    counting us.
    """

    def __init__(
        self,
        cycle: BeatCycle,
        *,
        miner_origin: str = "settings",
        on_outcome: Callable[[Outcome], None] | None = None,
        goodbye: bool = True,
        service: ServiceHooks | None = None,  # systemd and Prometheus
    ) -> None:
        super().__init__(name="heartbeat", daemon=True)
        sender = cycle.sender
        miner = MinerId(sender.miner_id, miner_origin) if sender.miner_id else None
        config = BeatConfig(sender.server_url, cycle.schedule.interval_s)
        self.runner = BeatRunner(cycle, config, miner, emit=self._on_event)
        self._stopping = threading.Event()
        self._on_outcome = on_outcome
        self._goodbye = goodbye
        self._state_log = StateLog()
        self._service = service
        self._note_lock = threading.Lock()
        self._clock_thread = StateClock(self)
        # The monotonic clock stands still in a suspend: without this the state would say "online" after a
        # wake for what is left of the 45 s, and the next beat would wait out the rest of its interval.
        self._resume = wake.ResumeDetector(*wake.default_clocks())
        if service is not None:
            service.watch(cycle.tracker, cycle.clock)

    def stop(self) -> None:
        """Any thread: the request under way is cut and no new one starts; the runner says goodbye."""
        if self._service:
            self._service.stopping()
        self._stopping.set()
        self._clock_thread.poke()
        self.runner.submit(Quit(goodbye=self._goodbye))

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def note_state(self) -> None:
        """Either thread: the state and its words now, to the log (on a change) and to the service."""
        tracker, clock = self.runner.cycle.tracker, self.runner.cycle.clock
        with self._note_lock:
            if self._stopping.is_set():
                return  # "Stopping" stays the last word
            state, words = tracker.view(clock())
            outcome = tracker.last_outcome
            for line in self._state_log.lines(state, words, outcome):
                log.info("%s", line)
            if self._service:
                self._service.state_changed(state, words, outcome)

    def _on_event(self, event: Event) -> None:
        """The runner's events, on this thread."""
        if isinstance(event, Published):
            self.note_state()  # recomputed under the lock: StateClock may have noted a later moment
            self._clock_thread.poke()  # the next change may have moved
        elif isinstance(event, Attempted) and not event.goodbye:
            outcome, cycle = event.outcome, self.runner.cycle
            log.debug(
                "Heartbeat %s (HTTP %s, %.0f ms); next in %.2f s",
                outcome.kind.value,
                outcome.status_code,
                outcome.latency_ms,
                (cycle.next_at or 0) - cycle.clock(),
            )
            self.note_state()  # before READY=1, which carries the state line
            self._clock_thread.poke()
            if self._service:
                self._service.outcome(outcome)
            if self._on_outcome:
                self._on_outcome(outcome)
        elif isinstance(event, Notice):
            log.info("%s", event.text)

    def _wait(self) -> None:
        """Until a beat is due, a command is queued or the machine woke; the watchdog is pinged meanwhile.
        Re-checks the clock, so a beat never goes before its time."""
        runner = self.runner
        clock = runner.cycle.clock
        while True:
            now = clock()
            if self._service:
                self._service.alive()  # the loop came round: progress, whatever comes next
            due = runner.next_at
            if (due is not None and now >= due) or self._woke():
                return
            until = now + RESUME_POLL_S if due is None else min(due, now + RESUME_POLL_S)
            if self._service and self._service.tick_s:
                until = min(until, now + self._service.tick_s)
            if runner.wait(until - now):
                return

    def _woke(self) -> bool:
        """The machine slept since the last look: the time asleep counts against the 45 s, and a beat goes
        now (as the tray's worker does on a wake)."""
        slept = self._resume.poll()
        if slept is None:
            return False
        log.info("Resumed after %.0f s asleep: beating now", slept)
        self.runner.submit(Woke(slept))
        return True

    def run(self) -> None:
        runner = self.runner
        try:
            self._resume.poll()  # the baseline: a sleep is the growth from here
            runner.begin()
            self._clock_thread.start()
            while not runner.finished:
                runner.run()
                if not runner.finished:
                    self._wait()
        except Exception:
            log.exception("The heartbeat loop failed")
        finally:
            self._clock_thread.poke()
            runner.submit(Quit(goodbye=self._goodbye))  # ignored when stop() already asked
            runner.run()


class StateClock(threading.Thread):
    """A thread because the beat thread may sit in a request up to its deadline while the state changes by
    the clock. Sleeps until the tracker's next change by time alone (or a poke), then notes the state.

    Healthy and green, it wakes about once per beat; it counts down by the second only while the words do.
    """

    def __init__(self, beat: BeatThread) -> None:
        super().__init__(name="state-clock", daemon=True)
        self._beat = beat
        self._changed = threading.Condition()
        self._poked = False
        self._until: float | None = None  # what the thread sleeps until (None: until poked)

    def poke(self) -> None:
        """The tracker changed: wake the thread only if the next change now comes before its alarm."""
        cycle = self._beat.runner.cycle
        change_at = cycle.tracker.next_change_at(cycle.clock())
        with self._changed:
            if self._beat.stopping or (
                change_at is not None and (self._until is None or change_at < self._until)
            ):
                self._poked = True
                self._changed.notify()

    def run(self) -> None:
        beat, cycle = self._beat, self._beat.runner.cycle
        while not beat.stopping:
            with self._changed:  # computed under the lock: a poke cannot slip in between
                now = cycle.clock()
                change_at = cycle.tracker.next_change_at(now)
                if self._poked or beat.stopping:
                    self._poked = False
                    continue  # a new alarm, from the new state
                self._until = change_at
                timeout = None if change_at is None else max(0.0, change_at - now)
                poked = self._changed.wait(timeout) and self._poked
                self._poked = False
            if not poked:
                beat.note_state()


def run_until_signal(beat: BeatThread) -> int:
    """Blocks the stop signals in every thread and takes them with sigwait: no polling, no races."""
    if sys.platform != "win32" and threading.current_thread() is threading.main_thread():
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        beat.start()
        received = signal.sigwait(STOP_SIGNALS)
        log.info("Received %s; stopping", signal.Signals(received).name)
    else:  # Windows: Python's handlers run in the main thread between short joins.
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        beat.start()
        while not stop.is_set() and beat.is_alive():
            stop.wait(0.5)
    beat.stop()
    beat.join(JOIN_BUDGET_S)
    logging.shutdown()
    if beat.is_alive():
        os._exit(EXIT_FAILED)  # a request stuck beyond our reach must not keep the process alive
    return 0
