"""The status window: the state in words and at a glance, the last hour charted, the last 50 attempts.

It is also what the user gets when there is no system tray.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from polaris_tray.core.status.snapshot import Snapshot, detail_lines
from polaris_tray.core.status.state import Colour, LinkState
from polaris_tray.core.storage.history import HistoryStore
from polaris_tray.gui.icons import FILL, state_pixmap
from polaris_tray.gui.latency_chart import WINDOW_S, LatencyChart, failure_colour

TABLE_ROWS = 50
REFRESH_MIN_MS = 1000


def _ratio(value: float | None, total: int) -> str:
    return "no attempts" if value is None else f"{value * 100:.1f} % of {total}"


class StatusWindow(QWidget):
    start_requested = Signal()
    stop_requested = Signal()
    settings_requested = Signal()
    quit_requested = Signal()

    def __init__(
        self, history: HistoryStore | None = None, diagnostics: Callable[[], str] | None = None, parent=None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Status")  # Qt appends " — Polaris Tray"
        self.setObjectName("statusWindow")
        self._history = history
        self._diagnostics = diagnostics
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
        self.ratios = QLabel()
        self.ratios.setAccessibleName("Success ratios")
        self.notice = QLabel()
        self.notice.setWordWrap(True)
        self.notice.setObjectName("notice")
        self.notice.hide()
        self.chart = LatencyChart()
        self.table = QTableWidget(0, 4)
        self.table.setAccessibleName("Last 50 attempts")
        self.table.setHorizontalHeaderLabels(["Time", "Outcome", "HTTP", "Latency"])
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumHeight(180)

        self.toggle = QPushButton("&Stop heartbeat")
        self.toggle.clicked.connect(self._on_toggle)
        settings = QPushButton("S&ettings…")
        settings.clicked.connect(self.settings_requested)
        self.copy_button = QPushButton("&Copy diagnostics")
        self.copy_button.clicked.connect(self.copy_diagnostics)
        self.copy_button.setEnabled(diagnostics is not None)
        self.quit_button = QPushButton("&Quit")
        self.quit_button.clicked.connect(self.quit_requested)

        top = QHBoxLayout()
        top.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        text.addWidget(self.headline)
        text.addWidget(self.details)
        text.addWidget(self.ratios)
        top.addLayout(text, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.toggle)
        buttons.addWidget(settings)
        buttons.addWidget(self.copy_button)
        buttons.addStretch(1)
        buttons.addWidget(self.quit_button)
        self.body = QVBoxLayout(self)
        self.body.addWidget(self.notice)
        self.body.addLayout(top)
        self.body.addWidget(self.chart)
        self.body.addWidget(self.table, 1)
        self.body.addLayout(buttons)
        self.setMinimumWidth(560)
        self.resize(640, 620)

        self._ticker = QTimer(self)  # relative times ("12 s ago") move while the window is open
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self._render)
        self._refresh_timer = QTimer(self)  # history reads at most once a second, however fast the beats
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.timeout.connect(self.refresh_history)
        self._last_refresh = 0.0

    def set_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def show_snapshot(self, snap: Snapshot) -> None:
        self._snapshot = snap
        self._render()

    def history_changed(self) -> None:
        if not self.isVisible() or self._refresh_timer.isActive():
            return
        wait = max(0, int(REFRESH_MIN_MS - (time.monotonic() - self._last_refresh) * 1000))
        self._refresh_timer.start(wait)

    def refresh_history(self) -> None:
        self._last_refresh = time.monotonic()
        if self._history is None:
            self.ratios.setText("History is not available.")
            return
        try:
            self._show_history()
        except sqlite3.Error as exc:  # a locked or vanished file costs the chart, never the window
            self.ratios.setText(f"History is not available: {exc}")

    def _show_history(self) -> None:
        assert self._history is not None
        now = time.time()
        hour, hour_n = self._history.success_ratio(3600)
        day, day_n = self._history.success_ratio(86400)
        self.ratios.setText(f"Accepted, last hour: {_ratio(hour, hour_n)} · last 24 h: {_ratio(day, day_n)}")
        self.chart.set_attempts(self._history.since(now - WINDOW_S), now)
        recent = self._history.recent(TABLE_ROWS)
        self.table.setRowCount(len(recent))
        for row, attempt in enumerate(recent):
            when = datetime.fromtimestamp(attempt.at).strftime("%H:%M:%S")
            outcome = attempt.outcome.replace("_", " ")
            cells = [
                when,
                outcome,
                "" if attempt.status_code is None else str(attempt.status_code),
                f"{attempt.latency_ms:.0f} ms",
            ]
            for column, value in enumerate(cells):
                item = QTableWidgetItem(value)
                if column == 1:
                    colour = FILL[Colour.GREEN] if attempt.ok else FILL[failure_colour(attempt)]
                    item.setForeground(QColor(colour).darker(130))
                    if attempt.error:
                        item.setToolTip(attempt.error)
                if column >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)

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

    def copy_diagnostics(self) -> str:
        text = self._diagnostics() if self._diagnostics else ""
        QGuiApplication.clipboard().setText(text)
        self.copy_button.setText("&Copied")
        QTimer.singleShot(2000, self, lambda: self.copy_button.setText("&Copy diagnostics"))  # dies with us
        return text

    def _on_toggle(self) -> None:
        if self._snapshot is not None and self._snapshot.running:
            self.stop_requested.emit()
        else:
            self.start_requested.emit()

    def showEvent(self, event) -> None:
        self._ticker.start()
        self.refresh_history()
        super().showEvent(event)

    def hideEvent(self, event) -> None:
        self._ticker.stop()
        self._refresh_timer.stop()
        super().hideEvent(event)
