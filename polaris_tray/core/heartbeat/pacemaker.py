"""The beat cycle shared by the headless loop and the Qt worker: they only wait; this decides."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

from polaris_tray.core.heartbeat.engine import HeartbeatEngine
from polaris_tray.core.heartbeat.schedule import BeatSchedule
from polaris_tray.core.status.outcome import NetworkReason, Outcome, OutcomeKind
from polaris_tray.core.status.state import StateTracker

log = logging.getLogger(__name__)


class Pacemaker:
    def __init__(
        self,
        engine: HeartbeatEngine,
        interval_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        tracker: StateTracker | None = None,
    ) -> None:
        self.engine = engine
        self.schedule = BeatSchedule(interval_s, rng)
        self.tracker = tracker or StateTracker()
        self.clock = clock
        self.next_at: float | None = None

    def start(self) -> float:
        now = self.clock()
        self.tracker.start(now)
        self.next_at = self.schedule.start(now)
        return self.next_at

    def stop(self) -> None:
        self.tracker.stop()
        self.next_at = None

    def beat(self) -> Outcome:
        """One attempt (blocks up to the client's deadline); sets next_at from its outcome.

        Nothing raised inside an attempt may end the schedule: an agent that silently stops beating costs
        the miner money, so an unexpected error is logged and retried like any failure.
        """
        try:
            outcome = self.engine.attempt()
        except Exception as exc:
            log.exception("A heartbeat attempt failed unexpectedly")
            outcome = Outcome(
                OutcomeKind.NETWORK_ERROR,
                error=f"Internal error ({type(exc).__name__}); see the log.",
                reason=NetworkReason.OTHER,
            )
        now = self.clock()
        self.tracker.record(outcome, now)
        if outcome.ok:
            self.next_at = self.schedule.after_success(now)
        else:
            self.next_at = self.schedule.after_failure(now, outcome.retry_after)
        return outcome

    def set_interval(self, interval_s: float) -> float:
        self.schedule.interval_s = interval_s
        self.next_at = self.schedule.reschedule(self.clock())
        return self.next_at
