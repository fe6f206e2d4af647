"""Round numbers for chart axes (0/50/100 ms, 04:15/04:30), kept apart from painting so tests read them."""

from __future__ import annotations

import math
import time

MINUTE_S = 60.0


def nice_step(top: float, max_intervals: int = 4) -> float:
    """The smallest 1/2/5 x 10^k step that covers `top` in at most `max_intervals` steps."""
    top = max(top, 1e-9)
    magnitude = 10 ** math.floor(math.log10(top / max_intervals))
    for factor in (1, 2, 5, 10):
        step = factor * magnitude
        if step * max_intervals >= top:
            return step
    return 10 * magnitude


def nice_ticks(highest: float, max_intervals: int = 4) -> list[float]:
    """Ticks from 0 to a round top at or above `highest` (a little headroom kept above the highest point)."""
    step = nice_step(highest * 1.1, max_intervals)
    count = max(1, math.ceil(highest * 1.1 / step))
    return [i * step for i in range(count + 1)]


def window_end(now: float) -> float:
    """The chart's right edge: the end of the current minute, so points stay put until the minute rolls."""
    return math.floor(now / MINUTE_S) * MINUTE_S + MINUTE_S


def time_ticks(start: float, end: float, every_s: float = 900.0) -> list[float]:
    """Wall-clock instants in [start, end] on local-time multiples of `every_s` (e.g. each quarter hour)."""
    offset = time.localtime(start).tm_gmtoff
    first = math.ceil((start + offset) / every_s) * every_s - offset
    ticks = []
    at = first
    while at <= end:
        ticks.append(at)
        at += every_s
    return ticks
