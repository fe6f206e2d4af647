"""About Polaris Tray: icon, version, licence, project link, and where the log is."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QPixmap
from PySide6.QtWidgets import QMessageBox

from polaris_tray import APP_DISPLAY_NAME, __version__
from polaris_tray.core.status.state import Colour
from polaris_tray.gui.icons import state_pixmap

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


def about_text(state: str, log_file, demo: bool = False) -> str:
    where = str(log_file) if log_file else "not being written (the log folder is not available)"
    mode = " — Demo" if demo else ""
    return (
        f"<p><b>{APP_DISPLAY_NAME} {__version__}</b>{mode}</p>"
        "<p>Keeps this machine visible to the Polaris orchestrator.</p>"
        f"<p>Licence: {LICENCE}<br>Project: <a href='{PROJECT_URL}'>{PROJECT_URL}</a></p>"
        f"<p>State: {state}<br>Log: {where}</p>"
    )


def build_about(state: str, log_file, demo: bool = False) -> QMessageBox:
    box = QMessageBox()
    box.setObjectName("aboutBox")
    box.setWindowTitle(f"About {APP_DISPLAY_NAME}")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(about_text(state, log_file, demo))
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
    screen = QGuiApplication.primaryScreen()
    box.setIconPixmap(_icon(screen.devicePixelRatio() if screen else 1.0))
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
    return box


def show_about(state: str, log_file, demo: bool = False) -> QMessageBox:
    """Non-modal: the tray keeps answering while About is open. Keep the returned box referenced."""
    box = build_about(state, log_file, demo)
    box.show()
    box.raise_()
    box.activateWindow()
    return box
