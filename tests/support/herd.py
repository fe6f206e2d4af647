"""The herd simulation: agents on simulated time, all failing at t = 0 until the outage ends.

Shared by benchmarks/herd.py (prints the numbers) and the unit test that bounds them.
"""

from __future__ import annotations

import random
from collections import Counter

from polaris_tray.core.heartbeat.schedule import BeatSchedule


class _Unjittered(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b  # the top of the window: what a plain doubling gives every agent


def retry_times(agents: int, outage_s: float, interval_s: float, jitter: bool, seed: int = 1) -> list[float]:
    times: list[float] = []
    for n in range(agents):
        rng = random.Random(seed * 100_003 + n) if jitter else _Unjittered()
        schedule = BeatSchedule(interval_s, rng)
        schedule.start(0.0)
        now = 0.0  # every agent's request fails at the same moment
        while True:
            now = schedule.after_failure(now)
            if now >= outage_s:
                break
            times.append(now)
    return times


def peak_per_second(times: list[float], after: float = 0.0) -> int:
    counts = Counter(int(t) for t in times if t >= after)
    return max(counts.values()) if counts else 0


def simulate(agents: int = 1000, outage_s: float = 600.0, interval_s: float = 30.0) -> dict:
    jittered = retry_times(agents, outage_s, interval_s, jitter=True)
    plain = retry_times(agents, outage_s, interval_s, jitter=False)
    return {
        "agents": agents,
        "retries_jittered": len(jittered),
        "retries_plain": len(plain),
        "peak_jittered": peak_per_second(jittered),
        "peak_plain": peak_per_second(plain),
        # after the first minute: does the herd stay locked together, or dissolve?
        "later_peak_jittered": peak_per_second(jittered, after=60.0),
        "later_peak_plain": peak_per_second(plain, after=60.0),
    }
