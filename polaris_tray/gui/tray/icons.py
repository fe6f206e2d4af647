"""State icons drawn from code at the screen's pixel ratio: a colour and a shape for each state.

Colour alone fails colour-blind users and some panels, so each state also has its own shape (ring, disc,
triangle, octagon) and glyph, with a dark rim and a light halo so it reads on dark and light panels.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

from polaris_tray.core.values.link_state import Colour

FILL = {
    Colour.GREY: QColor("#8a8f98"),
    Colour.GREEN: QColor("#1faa59"),
    Colour.AMBER: QColor("#f2a900"),
    Colour.RED: QColor("#e0312b"),
}
SIZES = (16, 22, 24, 32, 48, 64)


def _shape(colour: Colour, r: QRectF) -> QPainterPath:
    path = QPainterPath()
    c, half = r.center(), r.width() / 2
    if colour is Colour.AMBER:
        h = half * math.sqrt(3)
        top = c.y() - h * 0.62
        path.addPolygon(
            QPolygonF(
                [
                    QPointF(c.x(), top),
                    QPointF(c.x() + half, top + h),
                    QPointF(c.x() - half, top + h),
                    QPointF(c.x(), top),
                ]
            )
        )
    elif colour is Colour.RED:
        points = [
            QPointF(
                c.x() + half * math.cos(math.radians(22.5 + 45 * i)),
                c.y() + half * math.sin(math.radians(22.5 + 45 * i)),
            )
            for i in range(9)
        ]
        path.addPolygon(QPolygonF(points))
    else:
        path.addEllipse(r)
    return path


def _glyph(p: QPainter, colour: Colour, r: QRectF) -> None:
    w = r.width()
    c = r.center()
    pen = QPen(
        QColor("white"),
        max(1.5, w * 0.13),
        Qt.PenStyle.SolidLine,
        Qt.PenCapStyle.RoundCap,
        Qt.PenJoinStyle.RoundJoin,
    )
    p.setPen(pen)
    if colour is Colour.GREEN:  # a tick
        p.drawPolyline(
            QPolygonF(
                [
                    QPointF(c.x() - w * 0.22, c.y() + w * 0.0),
                    QPointF(c.x() - w * 0.05, c.y() + w * 0.17),
                    QPointF(c.x() + w * 0.24, c.y() - w * 0.16),
                ]
            )
        )
    elif colour is Colour.AMBER:  # an exclamation mark, dark on amber
        pen.setColor(QColor("#3a2a00"))
        p.setPen(pen)
        p.drawLine(QPointF(c.x(), c.y() - w * 0.12), QPointF(c.x(), c.y() + w * 0.1))
        p.drawPoint(QPointF(c.x(), c.y() + w * 0.26))
    elif colour is Colour.RED:  # a cross
        d = w * 0.17
        p.drawLine(QPointF(c.x() - d, c.y() - d), QPointF(c.x() + d, c.y() + d))
        p.drawLine(QPointF(c.x() + d, c.y() - d), QPointF(c.x() - d, c.y() + d))
    else:  # a pause bar: stopped or not configured
        p.drawLine(QPointF(c.x() - w * 0.18, c.y()), QPointF(c.x() + w * 0.18, c.y()))


def state_pixmap(colour: Colour, size: int, dpr: float = 1.0) -> QPixmap:
    pixels = max(1, round(size * dpr))
    pm = QPixmap(pixels, pixels)
    pm.setDevicePixelRatio(dpr)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    margin = max(1.0, size * 0.08)
    r = QRectF(margin, margin, size - 2 * margin, size - 2 * margin)
    shape = _shape(colour, r)
    p.setPen(QPen(QColor(255, 255, 255, 170), max(2.0, size * 0.12)))  # halo for dark panels
    p.drawPath(shape)
    p.setPen(QPen(QColor(20, 20, 20, 220), max(1.0, size * 0.05)))  # rim for light panels
    p.setBrush(FILL[colour])
    p.drawPath(shape)
    _glyph(p, colour, r)
    p.end()
    return pm


def state_icon(colour: Colour, dpr: float = 1.0) -> QIcon:
    icon = QIcon()
    for size in SIZES:
        icon.addPixmap(state_pixmap(colour, size, dpr))
        if dpr != 1.0:
            icon.addPixmap(state_pixmap(colour, size, 1.0))
    return icon
