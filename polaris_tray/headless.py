"""The agent with no GUI and no Qt: a beat thread, and a main thread that only waits for a signal."""

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
from polaris_tray.core.values.link_state import LinkState
from polaris_tray.core.values.outcome import Outcome

log = logging.getLogger(__name__)

STOP_SIGNALS = tuple(s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s)
JOIN_BUDGET_S = 1.8  # the process must end within 2 s of a stop signal
RESUME_POLL_S = 2.0  # how often the loop asks whether the machine slept (the tray's watcher: about 1 s)


class BeatLoop(threading.Thread):
    """Waits for each deadline and beats. stop() cuts a hanging request.

    The state is re-evaluated by the clock on a second, mostly sleeping thread (StateClock), at the
    tracker's next_change_at: an attempt stuck on this thread up to its deadline must not keep the log and
    STATUS= saying "online" after the orchestrator stopped counting us.
    """

    def __init__(
        self,
        pacemaker: BeatCycle,
        *,
        on_outcome: Callable[[Outcome], None] | None = None,
        goodbye: bool = True,
        service=None,  # polaris_tray.service.hooks.ServiceHooks: systemd and Prometheus
    ) -> None:
        super().__init__(name="heartbeat", daemon=True)
        self.pacemaker = pacemaker
        self._stop_event = threading.Event()
        self._on_outcome = on_outcome
        self._goodbye = goodbye
        self._state: LinkState | None = None
        self._service = service
        self._note_lock = threading.Lock()
        self._clock_thread = StateClock(self)
        # The monotonic clock stands still in a suspend: without this the state would say "online" after a
        # wake for what is left of the 45 s, and the next beat would wait out the rest of its interval.
        self._resume = wake.ResumeDetector(*wake.default_clocks())
        if service is not None:
            service.watch(pacemaker.tracker, pacemaker.clock)

    def stop(self) -> None:
        """Any thread: the request under way is cut and no new one starts."""
        if self._service:
            self._service.stopping()
        self._stop_event.set()
        self._clock_thread.poke()
        self.pacemaker.interrupt()

    @property
    def stopping(self) -> bool:
        return self._stop_event.is_set()

    def note_state(self) -> None:
        """Either thread: the state and its words now, to the log (on a change) and to the service."""
        tracker, clock = self.pacemaker.tracker, self.pacemaker.clock
        with self._note_lock:
            if self._stop_event.is_set():
                return  # "Stopping" stays the last word
            state, words = tracker.view(clock())
            outcome = tracker.last_outcome
            if state is not self._state:
                previous, self._state = self._state, state
                failed = outcome is not None and not outcome.ok and outcome.error
                detail = f": {outcome.error}" if failed and outcome is not None else ""
                start = previous.value if previous else "start"
                log.info("State %s -> %s (%s)%s", start, state.value, words, detail)
            if self._service:
                self._service.state_changed(state, words, outcome)

    def _wait_until(self, deadline: float) -> bool:
        """False when asked to stop. Re-checks the clock, so a beat never goes before its deadline."""
        pm = self.pacemaker
        while not self._stop_event.is_set():
            now = pm.clock()
            if self._service:
                self._service.alive()  # the loop came round: progress, whatever comes next
            if now >= deadline or self._woke():
                return True
            until = min(deadline, now + RESUME_POLL_S)
            if self._service and self._service.tick_s:
                until = min(until, now + self._service.tick_s)
            if self._stop_event.wait(until - now):
                return False
        return False

    def _woke(self) -> bool:
        """The machine slept since the last look: the time asleep counts against the 45 s, and a beat goes
        now (as the tray's worker does on a wake)."""
        slept = self._resume.poll()
        if slept is None:
            return False
        log.info("Resumed after %.0f s asleep: beating now", slept)
        wake.account_sleep(self.pacemaker.tracker, slept)
        self.pacemaker.beat_now()
        self.note_state()
        self._clock_thread.poke()
        return True

    def run(self) -> None:
        pm = self.pacemaker
        try:
            pm.start()
            self._resume.poll()  # the baseline: a sleep is the growth from here
            self.note_state()
            self._clock_thread.start()
            while pm.next_at is not None and self._wait_until(pm.next_at):
                outcome = pm.beat()
                if outcome is None:  # not due yet, or cut by stop()
                    continue
                log.debug(
                    "Heartbeat %s (HTTP %s, %.0f ms); next in %.2f s",
                    outcome.kind.value,
                    outcome.status_code,
                    outcome.latency_ms,
                    (pm.next_at or 0) - pm.clock(),
                )
                self.note_state()
                self._clock_thread.poke()  # the next change moved
                if self._service:
                    self._service.outcome(outcome)
                if self._on_outcome:
                    self._on_outcome(outcome)
        except Exception:
            log.exception("The heartbeat loop failed")
        finally:
            self._clock_thread.poke()
            pm.finish(goodbye=self._goodbye)


class StateClock(threading.Thread):
    """Sleeps until the tracker's next change by time alone (or a poke), then has the loop note the state.

    Healthy and green, it wakes about once per beat; it counts down by the second only while the words do.
    """

    def __init__(self, loop: BeatLoop) -> None:
        super().__init__(name="state-clock", daemon=True)
        self._loop = loop
        self._changed = threading.Condition()
        self._poked = False
        self._until: float | None = None  # what the thread sleeps until (None: until poked)

    def poke(self) -> None:
        """The tracker changed: wake the thread only if the next change now comes before its alarm."""
        pm = self._loop.pacemaker
        change_at = pm.tracker.next_change_at(pm.clock())
        with self._changed:
            if self._loop.stopping or (
                change_at is not None and (self._until is None or change_at < self._until)
            ):
                self._poked = True
                self._changed.notify()

    def run(self) -> None:
        loop, pm = self._loop, self._loop.pacemaker
        while not loop.stopping:
            with self._changed:  # computed under the lock: a poke cannot slip in between
                now = pm.clock()
                change_at = pm.tracker.next_change_at(now)
                if self._poked or loop.stopping:
                    self._poked = False
                    continue  # a new alarm, from the new state
                self._until = change_at
                timeout = None if change_at is None else max(0.0, change_at - now)
                poked = self._changed.wait(timeout) and self._poked
                self._poked = False
            if not poked:
                loop.note_state()


def run_until_signal(loop: BeatLoop) -> int:
    """Blocks the stop signals in every thread and takes them with sigwait: no polling, no races."""
    if sys.platform != "win32" and threading.current_thread() is threading.main_thread():
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        loop.start()
        received = signal.sigwait(STOP_SIGNALS)
        log.info("Received %s; stopping", signal.Signals(received).name)
    else:  # Windows: Python's handlers run in the main thread between short joins.
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        loop.start()
        while not stop.is_set() and loop.is_alive():
            stop.wait(0.5)
    loop.stop()
    loop.join(JOIN_BUDGET_S)
    logging.shutdown()
    if loop.is_alive():
        os._exit(EXIT_FAILED)  # a request stuck beyond our reach must not keep the process alive
    return 0
