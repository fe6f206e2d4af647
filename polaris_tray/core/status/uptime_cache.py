"""Uptime figures read from history, recomputed no more often than they can change visibly.

The last hour is cheap and moves; 24 h and 7 days read many rows and move slowly, so they are kept for a
minute. This keeps the status window's cost flat however fast the beats are.
"""

from __future__ import annotations

import sqlite3
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from polaris_tray.core.status.snapshot import Snapshot
from polaris_tray.core.status.state import OFFLINE_AFTER_S
from polaris_tray.core.status.uptime import HOUR_S, WINDOWS, Uptime, uptime
from polaris_tray.core.storage.history import HistoryStore

SLOW_EVERY_S = 60.0


@dataclass
class UptimeCache:
    fast_every_s: float = 0.0  # the last hour: recomputed when older than this (the tray asks every 10 s)
    slow_every_s: float = SLOW_EVERY_S
    retry_at: float = 0.0  # with_uptime: when to ask for a history that could not be opened
    _kept: dict = field(default_factory=dict)  # window_s -> (miner, computed_at, Uptime)

    def figures(
        self, history: HistoryStore, miner: str | None, now: float, windows=WINDOWS
    ) -> list[tuple[str, Uptime]]:
        """[(label, Uptime)] for each window of this miner (the last hour, 24 h and 7 days by default)."""
        stale = [w for w, _ in windows if not self._fresh(w, miner, now)]
        if stale:
            first = _first(history, miner, now)
            beats = history.accepted_since(now - max(stale) - OFFLINE_AFTER_S, miner)
            times = [at for at, _ in beats]
            for window_s in stale:
                begin = bisect_left(times, now - window_s - OFFLINE_AFTER_S)
                self._kept[window_s] = (miner, now, uptime(beats[begin:], now, window_s, first))
        return [(label, self._kept[w][2]) for w, label in windows]

    def hour(self, history: HistoryStore, miner: str | None, now: float) -> Uptime:
        if not self._fresh(HOUR_S, miner, now):
            first = _first(history, miner, now)
            beats = history.accepted_since(now - HOUR_S - OFFLINE_AFTER_S, miner)
            self._kept[HOUR_S] = (miner, now, uptime(beats, now, HOUR_S, first))
        return self._kept[HOUR_S][2]

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
