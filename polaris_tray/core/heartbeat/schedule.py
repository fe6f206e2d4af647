"""When the next heartbeat goes: fixed-rate while healthy, jittered exponential backoff while failing.

Pure: time comes in as arguments (monotonic seconds), randomness from an injected random.Random, so the
policy is tested exactly and the BeatRunner obeys the same rules in headless and in the tray.
"""

from __future__ import annotations

import math
import random

from polaris_tray.core.config.limits import FIRST_RETRY_S
from polaris_tray.core.config.limits import RUN_INTERVAL_MIN_S as MIN_INTERVAL_S

MAX_BACKOFF_S = 300.0


class BeatSchedule:
    def __init__(self, interval_s: float, rng: random.Random | None = None) -> None:
        self.interval_s = interval_s
        self._rng = rng or random.Random()
        self.failures = 0
        # The fixed-rate grid: tick n is at origin + n * interval (no float drift from repeated adds).
        self._origin: float | None = None
        self._tick = 0

    @property
    def interval_s(self) -> float:
        return self._interval

    @interval_s.setter
    def interval_s(self, value: float) -> None:
        if not value >= MIN_INTERVAL_S:
            raise ValueError(f"the interval must be at least {MIN_INTERVAL_S} s")
        self._interval = float(value)

    def start(self, now: float) -> float:
        """The first beat goes out at once."""
        self.failures = 0
        self._origin, self._tick = now, 0
        return now

    def backoff_window(self, failures: int) -> tuple[float, float]:
        """The [d/2, d] window after the k-th consecutive failure."""
        base = min(FIRST_RETRY_S, self._interval)
        d = min(MAX_BACKOFF_S, base * 2.0 ** min(failures - 1, 64))
        return d / 2.0, d

    def after_success(self, now: float) -> float:
        if self.failures or self._origin is None:
            # A success that ends an outage starts a new grid one interval after it.
            self.failures = 0
            self._origin, self._tick = now, 1
            return now + self._interval
        # Fixed rate: the first grid tick strictly after now; missed ticks are skipped, never burst.
        self._tick = math.floor((now - self._origin) / self._interval) + 1
        return self._origin + self._tick * self._interval

    def after_failure(self, now: float, retry_after: float | None = None) -> float:
        self.failures += 1
        low, high = self.backoff_window(self.failures)
        wait = self._rng.uniform(low, high)
        if retry_after is not None and retry_after > 0:
            wait = max(wait, min(retry_after, MAX_BACKOFF_S))
        return now + wait

    def reschedule(self, now: float) -> float:
        """After an interval change: keep the failure state, restart the grid from now."""
        if self.failures:
            return now
        self._origin, self._tick = now, 1
        return now + self._interval
