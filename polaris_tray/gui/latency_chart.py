"""The last hour at a glance: latency per heartbeat, failures marked in the state colours."""

from __future__ import annotations

import time

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from polaris_tray.core.status.state import Colour
from polaris_tray.core.storage.history import Attempt
from polaris_tray.gui.icons import FILL

WINDOW_S = 3600.0
_TRANSIENT = {"server_error", "network_error", "rate_limited"}


def failure_colour(attempt: Attempt) -> Colour:
    return Colour.AMBER if attempt.outcome in _TRANSIENT else Colour.RED


class LatencyChart(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("latencyChart")
        self.setAccessibleName("Latency of the last hour")
        self.setMinimumSize(420, 140)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._attempts: list[Attempt] = []
        self._now = time.time()

    def set_attempts(self, attempts: list[Attempt], now: float | None = None) -> None:
        self._attempts = attempts
        self._now = time.time() if now is None else now
        self.update()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.windowText().color()
        grid = QColor(text)
        grid.setAlpha(50)
        plot = QRectF(self.rect()).adjusted(44, 8, -8, -24)
        p.fillRect(plot, palette.base())
        ok = [a for a in self._attempts if a.ok]
        top = max([a.latency_ms for a in ok] + [50.0]) * 1.15
        p.setPen(QPen(grid, 1))
        for frac in (0.0, 0.5, 1.0):
            y = plot.bottom() - frac * plot.height()
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            p.setPen(text)
            p.drawText(
                QRectF(0, y - 8, 40, 16),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                f"{top * frac:.0f}",
            )
            p.setPen(QPen(grid, 1))
        p.setPen(text)
        axis = QRectF(plot.left(), plot.bottom() + 4, plot.width(), 16)
        p.drawText(axis, Qt.AlignmentFlag.AlignLeft, "60 min ago")
        p.drawText(axis, Qt.AlignmentFlag.AlignRight, "now")
        p.drawText(axis, Qt.AlignmentFlag.AlignHCenter, "latency, ms")

        def x_of(at: float) -> float:
            return plot.left() + (1 - min(WINDOW_S, max(0.0, self._now - at)) / WINDOW_S) * plot.width()

        line = QPainterPath()
        for i, attempt in enumerate(ok):
            point = QPointF(x_of(attempt.at), plot.bottom() - attempt.latency_ms / top * plot.height())
            line.moveTo(point) if i == 0 else line.lineTo(point)
        p.setPen(QPen(FILL[Colour.GREEN], 1.6))
        p.drawPath(line)
        for attempt in self._attempts:
            if attempt.ok:
                continue
            x = x_of(attempt.at)
            p.setPen(QPen(FILL[failure_colour(attempt)], 2.5))
            p.drawLine(QPointF(x, plot.bottom()), QPointF(x, plot.bottom() - plot.height() * 0.25))
        p.end()
