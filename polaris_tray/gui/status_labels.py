"""Small builders for the status window's labels, and the shortening of long error text for a heading."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

HEADLINE_CHARS = 60


def label(text: str = "", *, name: str = "", scale: float = 1.0, bold: bool = False, wrap: bool = False):
    widget = QLabel(text)
    if name:
        widget.setObjectName(name)
    if scale != 1.0 or bold:
        font = widget.font()
        font.setPointSizeF(font.pointSizeF() * scale)
        font.setBold(bold)
        widget.setFont(font)
    widget.setWordWrap(wrap)
    return widget


def short(text: str, limit: int = HEADLINE_CHARS) -> str:
    """The first line, cut to `limit` characters with an ellipsis: the whole text goes in a tooltip."""
    first = text.split("\n", 1)[0]
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"
