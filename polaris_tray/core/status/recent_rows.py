"""The last hour of one miner's attempts, held in memory and grown by the new rows only.

Re-reading the hour on every beat is what made the status window's cost grow with history; here a beat
costs one small query for the rows after the newest one held, and counts are bisections, not scans.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

from polaris_tray.core.storage.history import Attempt, HistoryStore


@dataclass
class RecentRows:
    rows: list[Attempt] = field(default_factory=list)  # oldest first; the same list grows between re-reads
    times: list[float] = field(default_factory=list)
    beats: list[tuple[float, bool]] = field(default_factory=list)  # accepted rows as (at, goodbye)
    beat_times: list[float] = field(default_factory=list)
    key: tuple | None = None  # (miner, window) the rows were read for

    def read(self, history: HistoryStore, miner: str | None, start: float, window: float) -> None:
        """Rows since start; only the new ones unless the miner or the window (a minute's roll) changed."""
        if self.key != (miner, window):
            self.rows, self.times, self.beats, self.beat_times = [], [], [], []
            self.key = (miner, window)
            new = history.since(start, limit=1_000_000, miner=miner)
        else:
            last = self.rows[-1].at if self.rows else start
            new = [a for a in history.since(last, limit=1_000_000, miner=miner) if a.at > last]
        self.rows.extend(new)
        self.times.extend(a.at for a in new)
        beats = [(a.at, a.goodbye) for a in new if a.ok]
        self.beats.extend(beats)
        self.beat_times.extend(at for at, _ in beats)

    def counts_since(self, start: float) -> tuple[int, int]:
        """(accepted, attempts) since start."""
        accepted = len(self.beat_times) - bisect_left(self.beat_times, start)
        return accepted, len(self.times) - bisect_left(self.times, start)
