"""The last attempts as a compact table: coloured by the one severity rule, as tall as the window lets it,
never taller than its rows need."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from polaris_tray.core.storage.history_schema import Attempt
from polaris_tray.core.values.severity import outcome_colour
from polaris_tray.gui.tray.icons import FILL

MIN_ROWS = 3  # however short the window, this many rows show before the table scrolls


def outcome_text(attempt: Attempt) -> str:
    text = attempt.outcome.replace("_", " ")
    if attempt.network_reason is not None:
        text += f" ({attempt.network_reason.value})"
    return text + (" — offline beat" if attempt.goodbye else "")


class AttemptsTable(QTableWidget):
    def __init__(self, rows: int, parent: QWidget | None = None) -> None:
        super().__init__(0, 4, parent)
        self.setObjectName("attemptsTable")
        self.setAccessibleName(f"Last {rows} attempts")
        self.setHorizontalHeaderLabels(["Time", "Outcome", "HTTP", "Latency"])
        self.verticalHeader().hide()
        row_h = self.fontMetrics().height() + 6
        self.verticalHeader().setDefaultSectionSize(row_h)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setTabKeyNavigation(False)  # Tab moves on to the buttons; arrows still walk the rows
        header = self.horizontalHeader()
        header.setSectionResizeMode(
            1, QHeaderView.ResizeMode.Stretch
        )  # fixed widths: no re-measuring per row
        metrics = self.fontMetrics()
        for column, sample in ((0, "00:00:00"), (2, "HTTP"), (3, "00000 ms")):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(column, metrics.horizontalAdvance(sample) + 16)
        self._row_h = row_h
        self._chrome = header.sizeHint().height() + 2 * self.frameWidth()
        self.setMinimumHeight(self._chrome + MIN_ROWS * row_h)
        self._fit_rows()
        self._shown: list[Attempt] = []

    def _fit_rows(self) -> None:
        """Grows into the window's free height up to every row: spare height past that goes below it."""
        self.setMaximumHeight(self._chrome + max(MIN_ROWS, self.rowCount()) * self._row_h)

    def show_attempts(self, attempts: list[Attempt]) -> None:
        """Newest first. New attempts go in at the top, old ones drop off: no full rebuild per beat."""
        fresh = None  # how many attempts at the top are new; None: rebuild (first time, another miner)
        if self._shown:
            fresh = next((i for i, a in enumerate(attempts) if a == self._shown[0]), None)
        if fresh == 0 and len(attempts) == len(self._shown):
            return
        if fresh is None:
            self.setRowCount(0)
            fresh = len(attempts)
        for row, attempt in enumerate(attempts[:fresh]):
            self.insertRow(row)
            self._fill(row, attempt)
        self.setRowCount(len(attempts))
        self._fit_rows()
        self._shown = list(attempts)

    def _fill(self, row: int, attempt: Attempt) -> None:
        cells = [
            datetime.fromtimestamp(attempt.at).strftime("%H:%M:%S"),
            outcome_text(attempt),
            "" if attempt.status_code is None else str(attempt.status_code),
            f"{attempt.latency_ms:.0f} ms",
        ]
        for column, value in enumerate(cells):
            item = QTableWidgetItem(value)
            if column == 1:
                item.setForeground(FILL[outcome_colour(attempt.kind, attempt.network_reason)].darker(130))
                if attempt.error:
                    item.setToolTip(attempt.error)
            if column >= 2:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.setItem(row, column, item)
