"""Python's cyclic garbage collected on the GUI thread only.

CPython's collector runs in whichever thread happens to allocate when a threshold is crossed. When that
is the heartbeat worker's thread and the garbage holds Qt objects of the GUI thread (a QAction, a timer,
a widget caught in a reference cycle with a lambda), their C++ destructors run there and can deadlock
with the GUI thread: each holds what the other waits for (a Qt mutex, the GIL). The tray then freezes
and the worker with it, so no heartbeat leaves: found by the suite as a hang that no timeout could cut.
So automatic collection is switched off, and a timer on the GUI thread collects each generation once
its threshold is crossed, as the automatic collector would have done.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

CHECK_EVERY_MS = 2000  # garbage waits at most this long; a check with nothing due costs ~1 µs


def due_generation(counts: tuple[int, int, int], thresholds: tuple[int, int, int]) -> int | None:
    """The generation the automatic collector would collect now, or None (CPython's own rule)."""
    (c0, c1, c2), (t0, t1, t2) = counts, thresholds
    if t0 <= 0 or c0 <= t0:
        return None
    if c1 > t1:
        return 2 if c2 > t2 else 1
    return 0


class GuiThreadCollector(QObject):
    """Create on the GUI thread, once; lives as long as its parent (the application)."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_EVERY_MS)
        self._timer.timeout.connect(self.collect_if_due)
        self._timer.start()

    def collect_if_due(self) -> None:
        generation = due_generation(gc.get_count(), gc.get_threshold())
        if generation is not None:
            gc.collect(generation)


def install(app: QObject) -> GuiThreadCollector:
    """Idempotent: the application keeps one collector."""
    found = app.findChild(GuiThreadCollector)
    return found if isinstance(found, GuiThreadCollector) else GuiThreadCollector(app)
