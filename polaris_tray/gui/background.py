"""Run a blocking call (keyring, network) on Qt's thread pool and get its result back on the GUI thread."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QThreadPool, Signal


class BackgroundCall(QObject):
    """done(result, error) arrives on the thread that owns this object (queued across threads)."""

    done = Signal(object, object)

    def __init__(self, fn: Callable[[], object], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fn = fn

    def start(self) -> BackgroundCall:
        def run() -> None:
            try:
                result, error = self._fn(), None
            except Exception as exc:
                result, error = None, exc
            self.done.emit(result, error)

        QThreadPool.globalInstance().start(run)
        return self
