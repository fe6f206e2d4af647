"""What a user would see cut off in a window: a visible scroll bar, or a label smaller than its text.

Used by the render scripts (their own processes, so a scale factor can be set first)."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractScrollArea, QLabel, QScrollArea, QWidget


def visible_scrollbars(window: QWidget, allowed=()) -> list[str]:
    """Scroll areas (other than the allowed ones, e.g. a 50-row table) showing a scroll bar."""
    found = []
    for area in window.findChildren(QAbstractScrollArea):
        if area in allowed or not area.isVisible():
            continue
        for bar in (area.verticalScrollBar(), area.horizontalScrollBar()):
            if bar.isVisible() and bar.maximum() > bar.minimum():
                found.append(area.objectName() or type(area).__name__)
    return found


def clipped_labels(window: QWidget, scrolled: tuple[QScrollArea, ...] = ()) -> list[str]:
    """Visible labels whose text needs more room than they have: wider (one line) or taller (wrapped).

    A label in one of the `scrolled` areas (a form that scrolls on a short screen) must lie inside the
    area's page, which scrolls into view, rather than inside the window."""
    found = []
    for label in window.findChildren(QLabel):
        if not label.isVisible() or not label.text():
            continue
        if label.wordWrap():
            short = label.heightForWidth(label.width()) > label.height() + 1
        else:
            short = label.sizeHint().width() > label.width() + 1
        frame = next((a.widget() for a in scrolled if a.widget().isAncestorOf(label)), window)
        if short or not frame.rect().contains(label.mapTo(frame, label.rect().bottomRight())):
            found.append(label.objectName() or label.accessibleName() or label.text()[:30])
    return found
