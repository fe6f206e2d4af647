"""Two clocks every OS has under its own name: one that counts time asleep (uptime, and the reference a
wake is measured against) and one that stops while the machine sleeps.

Linux: CLOCK_BOOTTIME / CLOCK_MONOTONIC (time.monotonic). Windows: GetTickCount64 /
QueryUnbiasedInterruptTime (time.monotonic counts sleep there, so it cannot be the second one). macOS:
CLOCK_MONOTONIC (counts sleep there) / CLOCK_UPTIME_RAW (time.monotonic's clock, which does not).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable


def through_sleep_clock() -> Callable[[], float] | None:
    """Seconds since boot, counting suspend; None where the OS offers no such clock."""
    if sys.platform == "win32":
        from polaris_tray.core.platform.win32 import tick_count_s

        return tick_count_s
    if sys.platform == "darwin":
        return lambda: time.clock_gettime(time.CLOCK_MONOTONIC)
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    if boottime is None:
        return None
    return lambda: time.clock_gettime(boottime)


def awake_clock() -> Callable[[], float]:
    """Seconds that stop while the machine sleeps."""
    if sys.platform == "win32":
        from polaris_tray.core.platform.win32 import unbiased_interrupt_time_s

        return unbiased_interrupt_time_s
    if sys.platform == "darwin":
        return lambda: time.clock_gettime(time.CLOCK_UPTIME_RAW)
    return time.monotonic
