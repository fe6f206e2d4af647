"""The last hour at a glance: latency per accepted heartbeat, failures where they happened, and a strip of
the spans the orchestrator counted online.

Cost stays flat as history grows: the x-axis is anchored to the end of the current minute, so drawn points
never move until the minute rolls. Points are painted once into a cached pixmap and new ones appended;
the whole chart is redrawn only on a resize, a minute's roll or a new latency peak.
"""

from __future__ import annotations

import math
import time
from datetime import datetime

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPixmap, QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from polaris_tray.core.config.limits import OFFLINE_AFTER_S
from polaris_tray.core.status.uptime import Span
from polaris_tray.core.storage.history_schema import Attempt
from polaris_tray.core.values.link_state import Colour
from polaris_tray.core.values.severity import outcome_colour
from polaris_tray.gui.tray.icons import FILL

WINDOW_S = 3600.0
MINUTE_S = 60.0
MIN_TOP_MS = 50.0
LEFT, TOP, RIGHT = 44, 8, 10
STRIP_H, AXIS_H = 10, 18  # the online strip under the plot, then the time axis


# --- round numbers for the axes (0/50/100 ms, 04:15/04:30), pure so the tests read them
def nice_step(top: float, max_intervals: int = 4) -> float:
    """The smallest 1/2/5 x 10^k step that covers `top` in at most `max_intervals` steps."""
    top = max(top, 1e-9)
    magnitude = 10.0 ** math.floor(math.log10(top / max_intervals))
    for factor in (1, 2, 5, 10):
        step = factor * magnitude
        if step * max_intervals >= top:
            return step
    return 10 * magnitude


def nice_ticks(highest: float, max_intervals: int = 4) -> list[float]:
    """Ticks from 0 to a round top at or above `highest` (a little headroom kept above the highest point)."""
    step = nice_step(highest * 1.1, max_intervals)
    count = max(1, math.ceil(highest * 1.1 / step))
    return [i * step for i in range(count + 1)]


def window_end(now: float) -> float:
    """The chart's right edge: the end of the current minute, so points stay put until the minute rolls."""
    return math.floor(now / MINUTE_S) * MINUTE_S + MINUTE_S


def time_ticks(start: float, end: float, every_s: float = 900.0) -> list[float]:
    """Wall-clock instants in [start, end] on local-time multiples of `every_s` (e.g. each quarter hour)."""
    offset = time.localtime(start).tm_gmtoff
    first = math.ceil((start + offset) / every_s) * every_s - offset
    ticks = []
    at = first
    while at <= end:
        ticks.append(at)
        at += every_s
    return ticks


class LatencyChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("latencyChart")
        self.setAccessibleName("Latency of the last hour; when the orchestrator counted this miner online")
        self.setMinimumSize(360, 150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._attempts: list[Attempt] = []
        self._spans: list[Span] = []
        self._known_from: float | None = None
        self._now = time.time()
        self._pixmap: QPixmap | None = None
        self._key: tuple[int, int, float, float] | None = None  # what the cached pixmap was drawn for
        self._drawn = 0  # attempts already painted into the pixmap
        self._prev_ok: tuple[float, QPointF] | None = None  # the line continues from here
        self._peak = 0.0
        self.full_redraws = 0  # for the benchmark and the tests: how often the whole chart was painted

    # --- data
    def set_attempts(
        self,
        attempts: list[Attempt],
        now: float | None = None,
        spans: list[Span] | None = None,
        known_from: float | None = None,
    ) -> None:
        """attempts: oldest first; the same list object may grow (only the new tail is painted)."""
        if attempts is not self._attempts or len(attempts) < self._drawn:
            self._key = None
        self._attempts = attempts
        self._now = time.time() if now is None else now
        self._spans = spans or []
        self._known_from = known_from
        self.update()

    def move_now(self, now: float) -> None:
        """Time passes without new attempts: only the strip and the "now" marker move."""
        self._now = now
        self.update()

    # --- geometry
    def _plot(self) -> QRectF:
        return QRectF(self.rect()).adjusted(LEFT, TOP, -RIGHT, -(STRIP_H + AXIS_H + 6))

    def _x(self, plot: QRectF, end: float, at: float) -> float:
        return plot.left() + (1 - (end - at) / WINDOW_S) * plot.width()

    def _y(self, plot: QRectF, top: float, latency: float) -> float:
        return plot.bottom() - min(latency, top) / top * plot.height()

    # --- painting
    def paintEvent(self, event: QPaintEvent) -> None:
        end = window_end(self._now)
        start = end - WINDOW_S
        peak = max((a.latency_ms for a in self._attempts[self._drawn :] if a.ok and a.at >= start), default=0)
        dpr = self.devicePixelRatioF()
        key = (self.size().width(), self.size().height(), dpr, end)
        if self._key != key or peak > self._top():
            self._redraw(key, start, end)
        else:
            self._append(end)
        assert self._pixmap is not None  # _redraw made it
        p = QPainter(self)
        p.drawPixmap(0, 0, self._pixmap)
        self._paint_strip(p, start, end)
        p.end()

    def _top(self) -> float:
        return nice_ticks(max(self._peak, MIN_TOP_MS))[-1]

    def _redraw(self, key: tuple[int, int, float, float], start: float, end: float) -> None:
        self.full_redraws += 1
        self._key = key
        self._peak = max((a.latency_ms for a in self._attempts if a.ok and a.at >= start), default=0.0)
        dpr = key[2]
        self._pixmap = QPixmap(int(self.width() * dpr), int(self.height() * dpr))
        self._pixmap.setDevicePixelRatio(dpr)
        self._pixmap.fill(Qt.GlobalColor.transparent)
        p = QPainter(self._pixmap)
        self._paint_frame(p, start, end)
        p.end()
        self._drawn, self._prev_ok = 0, None
        self._append(end)

    def _paint_frame(self, p: QPainter, start: float, end: float) -> None:
        palette = self.palette()
        text = palette.windowText().color()
        grid = QColor(text)
        grid.setAlpha(45)
        plot = self._plot()
        p.fillRect(plot, palette.base())
        top = self._top()
        for value in nice_ticks(max(self._peak, MIN_TOP_MS)):
            y = self._y(plot, top, value)
            p.setPen(QPen(grid, 1))
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            p.setPen(text)
            label = QRectF(0, y - 8, LEFT - 4, 16)
            p.drawText(label, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{value:g}")
        p.save()
        p.translate(10, plot.center().y())
        p.rotate(-90)
        p.setPen(grid.darker(50) if text.lightness() > 128 else QColor(text).lighter(180))
        p.drawText(QRectF(-40, -8, 80, 16), Qt.AlignmentFlag.AlignCenter, "ms")
        p.restore()
        axis_y = plot.bottom() + STRIP_H + 6
        for at in time_ticks(start, end):
            x = self._x(plot, end, at)
            p.setPen(QPen(grid, 1))
            p.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
            p.setPen(text)
            stamp = datetime.fromtimestamp(at).strftime("%H:%M")
            p.drawText(self.tick_label_rect(x, axis_y), Qt.AlignmentFlag.AlignHCenter, stamp)

    def tick_label_rect(self, x: float, axis_y: float) -> QRectF:
        """A time label centred on its tick, but kept inside the widget: a tick near the right edge (the
        next quarter hour) must not lose its last digit."""
        half = self.fontMetrics().horizontalAdvance("00:00") / 2 + 2
        centre = min(max(x, half), self.width() - half)
        return QRectF(centre - half, axis_y, 2 * half, AXIS_H)

    def _append(self, end: float) -> None:
        """Paint the attempts not yet in the pixmap: the line goes on, gaps stay gaps."""
        new = self._attempts[self._drawn :]
        if not new:
            return
        plot, top, start = self._plot(), self._top(), end - WINDOW_S
        assert self._pixmap is not None  # appended to only after _redraw made it
        p = QPainter(self._pixmap)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setClipRect(plot.adjusted(-2, -2, 2, 2))
        line = QPen(FILL[Colour.GREEN], 1.6)
        for attempt in new:
            if attempt.at < start or attempt.at > end:
                continue
            x = self._x(plot, end, attempt.at)
            if attempt.goodbye:  # the miner said it went offline: the line must not run on
                self._prev_ok = None
                continue
            if not attempt.ok:
                p.setPen(QPen(FILL[outcome_colour(attempt.kind, attempt.network_reason)], 2.0))
                p.drawLine(QPointF(x, plot.bottom()), QPointF(x, plot.bottom() - plot.height() * 0.3))
                continue
            point = QPointF(x, self._y(plot, top, attempt.latency_ms))
            prev = self._prev_ok
            if prev is not None and attempt.at - prev[0] <= OFFLINE_AFTER_S:
                p.setPen(line)
                p.drawLine(prev[1], point)
            else:  # the first point after a gap: a dot, so a lone success shows
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(FILL[Colour.GREEN])
                p.drawEllipse(point, 2.2, 2.2)
            self._prev_ok = (attempt.at, point)
        p.end()
        self._drawn = len(self._attempts)

    def _paint_strip(self, p: QPainter, start: float, end: float) -> None:
        """Online spans in green over an offline band (only where history exists); nothing in the future."""
        plot = self._plot()
        strip = QRectF(plot.left(), plot.bottom() + 3, plot.width(), STRIP_H)
        known = max(start, self._known_from) if self._known_from is not None else None
        now = min(self._now, end)
        if known is not None and known < now:
            off = QColor(FILL[Colour.GREY])
            off.setAlpha(110)
            x0, x1 = self._x(plot, end, known), self._x(plot, end, now)
            p.fillRect(QRectF(x0, strip.top(), x1 - x0, strip.height()), off)
        for span in self._spans:
            x0 = self._x(plot, end, max(span.start, start))
            x1 = self._x(plot, end, min(span.end, now))
            if x1 > x0:
                p.fillRect(QRectF(x0, strip.top(), max(1.0, x1 - x0), strip.height()), FILL[Colour.GREEN])
        marker = QColor(self.palette().windowText().color())
        marker.setAlpha(120)
        x = self._x(plot, end, now)
        p.setPen(QPen(marker, 1, Qt.PenStyle.DashLine))
        p.drawLine(QPointF(x, plot.top()), QPointF(x, strip.bottom()))

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._key = None
        super().resizeEvent(event)
