"""Uptime figures read from history, recomputed no more often than they can change visibly.

The history is read once per miner (up to the longest window), then only the beats after the newest one
seen; 24 h and 7 days move slowly and are recomputed once a minute. The cost stays flat however long the
history and however fast the beats. A wall-clock step back (NTP, a user, a VM restore) makes "after the
newest one seen" miss the rows written since: then, and while rows ahead of the clock are in sight, the
horizon is read again, so the figures are always a fresh count of the history (never above 100 %).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from polaris_tray.core.config.limits import OFFLINE_AFTER_S
from polaris_tray.core.status.snapshot import Snapshot
from polaris_tray.core.status.uptime import HOUR_S, WEEK_S, WINDOWS, Coverage, Uptime, uptime_of
from polaris_tray.core.storage.history import HistoryStore

SLOW_EVERY_S = 60.0
STEP_SLACK_S = 1.0  # the wall clock may lag the monotonic one this much (slewing) without being a step


@dataclass
class UptimeCache:
    """One miner's coverage, read once for the horizon and then fed only the new beats."""

    fast_every_s: float = 0.0  # the last hour: recomputed when older than this (the tray asks every 10 s)
    slow_every_s: float = SLOW_EVERY_S
    horizon_s: float = WEEK_S  # the longest window asked for: history older than this is never read
    retry_at: float = 0.0  # with_uptime: when to ask for a history that could not be opened
    monotonic: Callable[[], float] = time.monotonic  # shows a step back the wall clock alone hides
    _kept: dict[float, tuple[str | None, float, Uptime]] = field(default_factory=dict)  # window_s ->
    _coverage: Coverage | None = None
    _miner: str | None = None
    _read_at: tuple[float, float] | None = None  # (now, monotonic) of the last read

    def figures(
        self,
        history: HistoryStore,
        miner: str | None,
        now: float,
        windows: Sequence[tuple[float, str]] = WINDOWS,
    ) -> list[tuple[str, Uptime]]:
        """[(label, Uptime)] for each window of this miner (the last hour, 24 h and 7 days by default)."""
        stale = [w for w, _ in windows if not self._fresh(w, miner, now)]
        if stale:
            coverage = self._update(history, miner, now)
            first = _first(history, miner, now)
            for window_s in stale:
                self._kept[window_s] = (miner, now, uptime_of(coverage, now, window_s, first))
        return [(label, self._kept[w][2]) for w, label in windows]

    def hour(self, history: HistoryStore, miner: str | None, now: float) -> Uptime:
        return self.figures(history, miner, now, ((HOUR_S, "last hour"),))[0][1]

    def _update(self, history: HistoryStore, miner: str | None, now: float) -> Coverage:
        """Coverage holds the beats up to now (a later one cannot change the figures up to now)."""
        coverage, new = self._coverage, None
        if coverage is not None and self._miner == miner and not self._stepped_back(now):
            last = coverage.last_at
            new = [b for b in history.accepted_since(last, miner) if b[0] > last]
            if new and new[-1][0] > now:  # rows ahead of the clock: the clock stepped back past them, and
                new = None  # rows written since may be older than the ones held: read the horizon again
        if coverage is None or new is None:
            coverage, self._miner = Coverage(), miner
            self._coverage = coverage
            new = history.accepted_since(now - self.horizon_s - OFFLINE_AFTER_S, miner)
        coverage.feed(b for b in new if b[0] <= now)
        coverage.forget_before(now - self.horizon_s)
        self._read_at = (now, self.monotonic())
        return coverage

    def _stepped_back(self, now: float) -> bool:
        """The wall clock went back since the last read (even when the time since hides it)."""
        if self._read_at is None:
            return False
        then, then_mono = self._read_at
        return now - then < self.monotonic() - then_mono - STEP_SLACK_S or now < then

    def _fresh(self, window_s: float, miner: str | None, now: float) -> bool:
        kept = self._kept.get(window_s)
        if kept is None or kept[0] != miner or kept[2].span_s == 0:  # no history yet: ask again next time
            return False
        every = self.fast_every_s if window_s == HOUR_S else self.slow_every_s
        return 0 <= now - kept[1] < every


TRAY_EVERY_S = 10.0


def _first(history: HistoryStore, miner: str | None, now: float) -> float:
    """When the miner's history begins; no history at all is no figure (a span of zero), not 0 %."""
    first = history.first_at(miner)
    return now if first is None else first


def with_uptime(
    snap: Snapshot, open_history: Callable[[], HistoryStore | None], cache: UptimeCache, now: float
) -> Snapshot:
    """The snapshot with the last hour's uptime filled in, for the tray's tooltip (as is without history).

    open_history is asked again at most once a minute after it gave nothing (it may log each failure), and
    at once after the wall clock stepped back past that minute's start.
    """
    if cache.retry_at - SLOW_EVERY_S <= now < cache.retry_at:
        return snap
    history = open_history()
    if history is None:
        cache.retry_at = now + SLOW_EVERY_S
        return snap
    try:
        miner = snap.miner_tag if snap.miner_tag is not None else history.latest_miner()
        return replace(snap, uptime_hour=cache.hour(history, miner, now).ratio)
    except sqlite3.Error:
        return snap
