"""The status window: the state in words and at a glance. Also what the user gets when there is no tray."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from polaris_tray.core.state import LinkState
from polaris_tray.core.status import Snapshot, detail_lines
from polaris_tray.gui.icons import state_pixmap


class StatusWindow(QWidget):
    start_requested = Signal()
    stop_requested = Signal()
    settings_requested = Signal()
    quit_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Polaris Tray — Status")
        self.setObjectName("statusWindow")
        self._snapshot: Snapshot | None = None
        self.badge = QLabel()
        self.badge.setFixedSize(48, 48)
        self.headline = QLabel("Starting…")
        self.headline.setObjectName("headline")
        font = self.headline.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.headline.setFont(font)
        self.headline.setWordWrap(True)
        self.details = QLabel()
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice = QLabel()
        self.notice.setWordWrap(True)
        self.notice.setObjectName("notice")
        self.notice.hide()
        self.toggle = QPushButton("&Stop heartbeat")
        self.toggle.clicked.connect(self._on_toggle)
        settings = QPushButton("S&ettings…")
        settings.clicked.connect(self.settings_requested)
        self.quit_button = QPushButton("&Quit")
        self.quit_button.clicked.connect(self.quit_requested)
        top = QHBoxLayout()
        top.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        text.addWidget(self.headline)
        text.addWidget(self.details)
        top.addLayout(text, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.toggle)
        buttons.addWidget(settings)
        buttons.addStretch(1)
        buttons.addWidget(self.quit_button)
        self.body = QVBoxLayout(self)
        self.body.addWidget(self.notice)
        self.body.addLayout(top)
        self.body.addLayout(buttons)
        self.setMinimumWidth(480)
        self._ticker = QTimer(self)  # relative times ("12 s ago") move while the window is open
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self._render)

    def set_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))
        self.adjustSize()

    def show_snapshot(self, snap: Snapshot) -> None:
        self._snapshot = snap
        self._render()

    def _render(self) -> None:
        snap = self._snapshot
        if snap is None:
            return
        lines = detail_lines(snap, time.time())
        self.headline.setText(lines[0])
        self.details.setText("\n".join([*lines[1:], f"Miner id: {snap.miner_id_masked}"]))
        self.badge.setPixmap(state_pixmap(snap.state.colour, 48, self.devicePixelRatioF()))
        self.toggle.setText("&Stop heartbeat" if snap.running else "&Start heartbeat")
        self.toggle.setEnabled(snap.state is not LinkState.UNCONFIGURED)
        if self.height() < self.sizeHint().height():
            self.adjustSize()

    def _on_toggle(self) -> None:
        if self._snapshot is not None and self._snapshot.running:
            self.stop_requested.emit()
        else:
            self.start_requested.emit()

    def showEvent(self, event) -> None:
        self._ticker.start()
        super().showEvent(event)

    def hideEvent(self, event) -> None:
        self._ticker.stop()
        super().hideEvent(event)
