"""Noticing that the machine slept, and making the state own up to it.

The schedule runs on the monotonic clock, which stops during suspend: after a wake the next beat would wait
out the rest of its interval and the state would still say green for minutes the orchestrator already
counted as offline. A clock that keeps running through suspend (CLOCK_BOOTTIME on Linux; the wall clock
elsewhere) drifts ahead of the monotonic one by exactly the time asleep: that growth is the resume signal.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from polaris_tray.core.status.state import StateTracker

MIN_SLEEP_S = 2.0  # a smaller drift is scheduling noise (or a wall-clock slew), not a suspend


def default_clocks() -> tuple[Callable[[], float], Callable[[], float]]:
    """(monotonic, a clock that counts suspended time too)."""
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    if sys.platform.startswith("linux") and boottime is not None:
        return time.monotonic, lambda: time.clock_gettime(boottime)
    return time.monotonic, time.time  # a wall-clock jump against the monotonic clock


@dataclass
class ResumeDetector:
    """Polled (about once a second) or asked when logind says we woke: how long did we sleep?"""

    monotonic: Callable[[], float]
    through_sleep: Callable[[], float]
    min_sleep_s: float = MIN_SLEEP_S
    _offset: float | None = None

    def poll(self) -> float | None:
        """Seconds slept since the last poll when that is at least min_sleep_s; else None.

        The baseline moves with every poll, so one suspend is reported once. A backward step (the wall
        clock set back) only moves the baseline.
        """
        offset = self.through_sleep() - self.monotonic()
        previous, self._offset = self._offset, offset
        if previous is None:
            return None
        slept = offset - previous
        return slept if slept >= self.min_sleep_s else None


def account_sleep(tracker: StateTracker, slept: float) -> None:
    """Time asleep counts against the 45 s rule: our moments move back by it, and green waits for a beat.

    The tracker runs on the monotonic clock, so shifting its remembered moments back by the time asleep
    makes it judge as if its clock had kept running. A last success is no proof of being online after a
    wake: the state reads "connecting" until the next beat's outcome arrives.
    """
    if slept <= 0:  # the network came back, or no time was lost: nothing to own up to
        return
    tracker.shift_back(slept)
