"""Uptime as the orchestrator counts it: the share of time covered by accepted heartbeats.

The orchestrator holds a miner online for 45 s after each heartbeat it accepts. So an accepted beat at t
covers [t, t + 45 s), cut short by the next accepted beat (which starts its own span) and ended at once by
an accepted "offline" goodbye. Failed attempts neither cover time nor end coverage. Stopped, quit and
sleeping time is simply time without beats: offline once the last beat's 45 s run out.

Pure and clock-free: the caller passes `now`, so tests replay hand-made timelines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from polaris_tray.core.config.limits import OFFLINE_AFTER_S

HOUR_S = 3600.0
DAY_S = 86400.0
WEEK_S = 7 * DAY_S
WINDOWS = ((HOUR_S, "last hour"), (DAY_S, "24 h"), (WEEK_S, "7 days"))
SLOW_WINDOWS = WINDOWS[1:]


@dataclass(frozen=True)
class Uptime:
    window_s: float  # the window asked for (last hour, 24 h, 7 days)
    span_s: float  # the part of it that is counted: from the miner's first record (or the window start)
    covered_s: float  # the part of the span the orchestrator counted online

    @property
    def ratio(self) -> float | None:
        return self.covered_s / self.span_s if self.span_s > 0 else None

    @property
    def clipped(self) -> bool:
        """True when history starts inside the window (a new install, a new miner id)."""
        return self.span_s < self.window_s


@dataclass(frozen=True)
class Span:
    start: float
    end: float


@dataclass
class Coverage:
    """The covered spans so far, fed accepted beats oldest first, in as many feeds as needed.

    Incremental, so a week of history is read once and then only the new beats: the spans are few (one per
    outage), the beats many.
    """

    grace_s: float = OFFLINE_AFTER_S
    closed: list[Span] = field(default_factory=list)
    open_at: float | None = None  # start of the span being built
    until: float = 0.0  # where its coverage runs out
    last_at: float = float("-inf")  # the newest beat fed

    def feed(self, beats: Iterable[tuple[float, bool]]) -> None:
        """beats: (at, goodbye) of accepted beats, oldest first and newer than any fed before."""
        for at, goodbye in beats:
            self.last_at = at
            if self.open_at is not None and at > self.until:  # a gap: the span ended when coverage ran out
                self.closed.append(Span(self.open_at, self.until))
                self.open_at = None
            if goodbye:
                if self.open_at is not None:
                    self.closed.append(Span(self.open_at, at))
                    self.open_at = None
                continue
            if self.open_at is None:
                self.open_at = at
            self.until = at + self.grace_s

    def spans(self, start: float, end: float) -> list[Span]:
        """The covered spans inside [start, end)."""
        spans = list(self.closed)
        if self.open_at is not None:
            spans.append(Span(self.open_at, self.until))
        clipped = (Span(max(s.start, start), min(s.end, end)) for s in spans)
        return [s for s in clipped if s.end > s.start]

    def forget_before(self, at: float) -> None:
        self.closed = [s for s in self.closed if s.end > at]


def online_spans(
    beats: Iterable[tuple[float, bool]], start: float, end: float, grace_s: float = OFFLINE_AFTER_S
) -> list[Span]:
    """The covered spans inside [start, end), merged. beats: (at, goodbye) of accepted beats, oldest first.

    Include beats from up to grace_s before start: a window may open in the middle of a beat's coverage.
    """
    coverage = Coverage(grace_s)
    coverage.feed(beats)
    return coverage.spans(start, end)


def uptime_of(coverage: Coverage, now: float, window_s: float, first_at: float | None = None) -> Uptime:
    """Uptime over [now - window_s, now); first_at: the miner's first record (None: the whole window)."""
    start = now - window_s
    if first_at is not None:
        start = max(start, first_at)
    covered = sum(s.end - s.start for s in coverage.spans(start, now))
    return Uptime(window_s, max(0.0, now - start), covered)


def uptime(
    beats: Iterable[tuple[float, bool]],
    now: float,
    window_s: float,
    first_at: float | None = None,
    grace_s: float = OFFLINE_AFTER_S,
) -> Uptime:
    """Uptime over [now - window_s, now) from the beats (include those up to grace_s before the window)."""
    coverage = Coverage(grace_s)
    coverage.feed(beats)
    return uptime_of(coverage, now, window_s, first_at)


def history_span(result: Uptime) -> str:
    """How much history the figure rests on, in words: "18 min", "2.5 h", "3.1 days"."""
    seconds = result.span_s
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
