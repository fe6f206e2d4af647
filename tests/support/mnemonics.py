"""Keyboard mnemonics (&X) of a window or menu, so a test can say no two share a letter."""

from __future__ import annotations

from collections import Counter

from PySide6.QtWidgets import QAbstractButton, QGroupBox, QLabel, QMenu, QWidget


def mnemonic(text: str) -> str | None:
    """The letter after a single '&' ('&&' is a literal ampersand), lower-cased; None without one."""
    i = 0
    while i < len(text) - 1:
        if text[i] == "&":
            if text[i + 1] != "&":
                return text[i + 1].lower()
            i += 1
        i += 1
    return None


def labels(root: QWidget) -> list[str]:
    """The texts that carry a mnemonic: visible buttons, buddied labels, group boxes, menu actions."""
    if isinstance(root, QMenu):
        return [a.text() for a in root.actions() if a.isVisible() and not a.isSeparator()]
    texts = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not widget.isVisibleTo(root) and widget is not root:
            continue
        if isinstance(widget, QAbstractButton) or (isinstance(widget, QLabel) and widget.buddy() is not None):
            texts.append(widget.text())
        elif isinstance(widget, QGroupBox):
            texts.append(widget.title())
    return texts


def duplicates(root: QWidget) -> dict[str, list[str]]:
    texts = labels(root)
    keys = Counter(k for k in map(mnemonic, texts) if k)
    return {k: [t for t in texts if mnemonic(t) == k] for k, n in keys.items() if n > 1}


def missing(root: QWidget) -> list[str]:
    return [t for t in labels(root) if t and mnemonic(t) is None]
