"""The last hour of one miner's attempts, held in memory and grown by the new rows only.

Re-reading the hour on every beat is what made the status window's cost grow with history; here a beat
costs one small query for the rows after the newest one held, and counts are bisections, not scans.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

from polaris_tray.core.status.uptime import Coverage
from polaris_tray.core.storage.history import HistoryStore
from polaris_tray.core.storage.history_schema import Attempt


@dataclass
class RecentRows:
    rows: list[Attempt] = field(default_factory=list)  # oldest first; the same list grows between re-reads
    times: list[float] = field(default_factory=list)
    beats: list[tuple[float, bool]] = field(default_factory=list)  # accepted rows as (at, goodbye)
    beat_times: list[float] = field(default_factory=list)
    coverage: Coverage = field(default_factory=Coverage)  # the spans counted online, fed as rows come
    key: tuple[str | None, float] | None = None  # (miner, window) the rows were read for

    def read(self, history: HistoryStore, miner: str | None, start: float, window: float) -> None:
        """Rows since start: all of them for a new miner, or after the wall clock stepped back (the window
        ends earlier, or rows held lie past its end: rows written since may be older than them); else the
        new ones, old ones dropped on a roll."""
        key = self.key
        stepped = key is not None and (window < key[1] or bool(self.rows and self.rows[-1].at > window))
        if key is None or key[0] != miner or stepped:
            self.rows, self.times, self.beats, self.beat_times = [], [], [], []
            self.coverage = Coverage()
            new = history.since(start, limit=1_000_000, miner=miner)
        else:
            if key[1] != window:  # a minute rolled: new lists (a chart holding the old one redraws)
                cut, beat_cut = bisect_left(self.times, start), bisect_left(self.beat_times, start)
                self.rows, self.times = self.rows[cut:], self.times[cut:]
                self.beats, self.beat_times = self.beats[beat_cut:], self.beat_times[beat_cut:]
                self.coverage.forget_before(start)
            last = self.rows[-1].at if self.rows else start
            new = [a for a in history.since(last, limit=1_000_000, miner=miner) if a.at > last]
        self.key = (miner, window)
        self.rows.extend(new)
        self.times.extend(a.at for a in new)
        beats = [(a.at, a.goodbye) for a in new if a.ok]
        self.beats.extend(beats)
        self.beat_times.extend(at for at, _ in beats)
        self.coverage.feed(beats)

    def counts_since(self, start: float) -> tuple[int, int]:
        """(accepted, attempts) since start."""
        accepted = len(self.beat_times) - bisect_left(self.beat_times, start)
        return accepted, len(self.times) - bisect_left(self.times, start)
