"""Re-evaluating the state by the clock on the GUI thread, so a request stuck in the worker thread cannot
leave "still counted online" on screen after the orchestrator stopped counting.

The worker publishes full snapshots (after each attempt and each command); between them, this redoes only
the state and its words from the tracker (thread-safe) at the tracker's next_change_at: one single-shot
timer, idle while nothing changes by time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from polaris_tray.core.status.snapshot import Snapshot
from polaris_tray.core.status.state import StateTracker


class ViewClock(QObject):
    """Made on the GUI thread (not a child of the worker, so it stays there when the worker moves)."""

    _rearm = Signal()

    def __init__(
        self,
        tracker: StateTracker,
        clock: Callable[[], float],
        time_scale: float,
        emit: Callable[[Snapshot], None],
    ) -> None:
        super().__init__()
        self._tracker = tracker
        self._clock = clock
        self._scale = time_scale
        self._emit = emit
        self._last: Snapshot | None = None
        self._stopped = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)  # a coarse timer may be 5 % late: 2 s at 45 s
        self._timer.timeout.connect(self._tick)
        self._rearm.connect(self._arm, Qt.ConnectionType.QueuedConnection)

    def published(self, snap: Snapshot) -> None:
        """Any thread: the worker published this; the timer is set again from it on the GUI thread."""
        self._last = snap
        self._rearm.emit()

    def stop(self) -> None:
        """Any thread: no more re-evaluations (Quit)."""
        self._stopped = True
        self._rearm.emit()

    @Slot()
    def _arm(self) -> None:
        now = self._clock()
        change_at = None if self._stopped else self._tracker.next_change_at(now)
        if change_at is None:
            self._timer.stop()
        else:
            self._timer.start(max(0, math.ceil((change_at - now) * self._scale * 1000)))

    @Slot()
    def _tick(self) -> None:
        snap = self._last
        if snap is None or self._stopped:
            return
        state, words = self._tracker.view(self._clock())
        if (state, words) != (snap.state, snap.words):
            snap = replace(snap, state=state, words=words)
            self._last = snap
            self._emit(snap)
        self._arm()
