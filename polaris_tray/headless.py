"""The agent with no GUI and no Qt: a beat thread, and a main thread that only waits for a signal."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable

from polaris_tray.console import EXIT_FAILED
from polaris_tray.core.heartbeat.pacemaker import Pacemaker
from polaris_tray.core.status.outcome import Outcome
from polaris_tray.core.status.state import LinkState

log = logging.getLogger(__name__)

STOP_SIGNALS = tuple(s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s)
JOIN_BUDGET_S = 1.8  # the process must end within 2 s of a stop signal


class BeatLoop(threading.Thread):
    """Waits for each deadline, beats, logs every state change. stop() cuts a hanging request."""

    def __init__(
        self,
        pacemaker: Pacemaker,
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

    def stop(self) -> None:
        """Any thread: the request under way is cut and no new one starts."""
        if self._service:
            self._service.stopping()
        self._stop_event.set()
        self.pacemaker.interrupt()

    def _note_state(self, outcome: Outcome | None) -> None:
        tracker, clock = self.pacemaker.tracker, self.pacemaker.clock
        state = tracker.state(clock())
        if state is self._state:
            return
        previous, self._state = self._state, state
        detail = f": {outcome.error}" if outcome is not None and outcome.error else ""
        log.info("State %s -> %s%s", previous.value if previous else "start", state.value, detail)
        if self._service:
            self._service.state_changed(state, outcome)

    def _wait_until(self, deadline: float) -> bool:
        """False when asked to stop. Re-checks the clock, so a beat never goes before its deadline."""
        pm = self.pacemaker
        while not self._stop_event.is_set():
            now = pm.clock()
            if self._service:
                self._service.alive()  # the loop came round: progress, whatever comes next
            if now >= deadline:
                return True
            change_at = pm.tracker.next_change_at(now)
            wake = min(deadline, change_at) if change_at and change_at > now else deadline
            if self._service and self._service.tick_s:
                wake = min(wake, now + self._service.tick_s)
            if self._stop_event.wait(wake - now):
                return False
            self._note_state(None)
        return False

    def run(self) -> None:
        pm = self.pacemaker
        try:
            pm.start()
            self._note_state(None)
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
                self._note_state(outcome)
                if self._service:
                    self._service.outcome(outcome)
                if self._on_outcome:
                    self._on_outcome(outcome)
        except Exception:
            log.exception("The heartbeat loop failed")
        finally:
            pm.finish(goodbye=self._goodbye)


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
