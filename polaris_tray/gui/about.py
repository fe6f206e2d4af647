"""About Polaris Tray: icon, version, licence, project link, and where the log is."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QVBoxLayout,
)

from polaris_tray import APP_DISPLAY_NAME, __version__
from polaris_tray.core.values.link_state import Colour
from polaris_tray.gui.tray.icons import state_pixmap

PROJECT_URL = "https://github.com/bigideaafrica/polariscloud"
LICENCE = "MIT"
ICON_SIZE = 64
ICON_FILE = Path("resources") / "icons" / "polaris-tray-256.png"


def _icon(dpr: float) -> QPixmap:
    """The application icon (beside the frozen build or the source tree), else the drawn green state."""
    roots = [Path(getattr(sys, "_MEIPASS", "")), Path(__file__).resolve().parents[2]]
    for root in roots:
        candidate = root / ICON_FILE
        if str(root) and candidate.is_file():
            pixmap = QPixmap(str(candidate))
            if not pixmap.isNull():
                side = round(ICON_SIZE * dpr)
                scaled = pixmap.scaled(
                    side, side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
                )
                scaled.setDevicePixelRatio(dpr)
                return scaled
    return state_pixmap(Colour.GREEN, ICON_SIZE, dpr)


def about_text(state: str, log_file: Path | str | None, demo: bool = False) -> str:
    where = str(log_file) if log_file else "not being written (the log folder is not available)"
    mode = " — Demo" if demo else ""
    return (
        f"<p><b>{APP_DISPLAY_NAME} {__version__}</b>{mode}</p>"
        "<p>Keeps this machine visible to the Polaris orchestrator.</p>"
        f"<p>Licence: {LICENCE}<br>Project: <a href='{PROJECT_URL}'>{PROJECT_URL}</a></p>"
        f"<p>State: {state}<br>Log: {where}</p>"
    )


def build_about(state: str, log_file: Path | str | None, demo: bool = False) -> QDialog:
    box = QDialog()
    box.setObjectName("aboutBox")
    box.setWindowTitle(f"About {APP_DISPLAY_NAME}")
    screen = QGuiApplication.primaryScreen()
    icon = QLabel()
    icon.setPixmap(_icon(screen.devicePixelRatio() if screen else 1.0))
    icon.setAlignment(Qt.AlignmentFlag.AlignTop)
    text = QLabel(about_text(state, log_file, demo))
    text.setObjectName("aboutText")
    text.setTextFormat(Qt.TextFormat.RichText)
    text.setWordWrap(True)
    text.setOpenExternalLinks(True)
    text.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
    text.setMinimumWidth(420)  # a log path wraps at its slashes, not at every word
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.button(QDialogButtonBox.StandardButton.Close).setText("&Close")
    buttons.rejected.connect(box.reject)
    row = QHBoxLayout()
    row.addWidget(icon)
    row.addWidget(text, 1)
    layout = QVBoxLayout(box)
    layout.addLayout(row)
    layout.addWidget(buttons)
    layout.setSizeConstraint(QLayout.SizeConstraint.SetFixedSize)
    return box


def show_about(state: str, log_file: Path | str | None, demo: bool = False) -> QDialog:
    """Non-modal: the tray keeps answering while About is open. Keep the returned box referenced."""
    box = build_about(state, log_file, demo)
    box.show()
    box.raise_()
    box.activateWindow()
    return box
