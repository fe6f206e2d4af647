"""Uptime figures read from history, recomputed no more often than they can change visibly.

The history is read once per miner (up to the longest window), then only the beats after the newest one
seen; 24 h and 7 days move slowly and are recomputed once a minute. The cost stays flat however long the
history and however fast the beats.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from polaris_tray.core.config.limits import OFFLINE_AFTER_S
from polaris_tray.core.status.snapshot import Snapshot
from polaris_tray.core.status.uptime import HOUR_S, WEEK_S, WINDOWS, Coverage, Uptime, uptime_of
from polaris_tray.core.storage.history import HistoryStore

SLOW_EVERY_S = 60.0


@dataclass
class UptimeCache:
    """One miner's coverage, read once for the horizon and then fed only the new beats."""

    fast_every_s: float = 0.0  # the last hour: recomputed when older than this (the tray asks every 10 s)
    slow_every_s: float = SLOW_EVERY_S
    horizon_s: float = WEEK_S  # the longest window asked for: history older than this is never read
    retry_at: float = 0.0  # with_uptime: when to ask for a history that could not be opened
    _kept: dict[float, tuple[str | None, float, Uptime]] = field(default_factory=dict)  # window_s ->
    _coverage: Coverage | None = None
    _miner: str | None = None

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
        coverage = self._coverage
        if coverage is None or self._miner != miner:
            coverage, self._miner = Coverage(), miner
            self._coverage = coverage
            coverage.feed(history.accepted_since(now - self.horizon_s - OFFLINE_AFTER_S, miner))
        else:
            last = coverage.last_at
            coverage.feed(b for b in history.accepted_since(last, miner) if b[0] > last)
        coverage.forget_before(now - self.horizon_s)
        return coverage

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

    open_history is asked again at most once a minute after it gave nothing (it may log each failure).
    """
    if now < cache.retry_at:
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
