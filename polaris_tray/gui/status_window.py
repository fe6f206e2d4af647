"""The status window: am I being paid? Uptime as the orchestrator counts it, the state in words, the last
hour charted with the spans counted online, the last attempts.

It is also what the user gets when there is no system tray. Its cost does not grow with history: rows are
read incrementally (the new ones only), the chart appends, and slow figures are kept for a minute.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from polaris_tray.core.status.recent_rows import RecentRows
from polaris_tray.core.status.snapshot import Snapshot, detail_lines, state_words
from polaris_tray.core.status.state import OFFLINE_AFTER_S, Colour, LinkState
from polaris_tray.core.status.uptime import HOUR_S, SLOW_WINDOWS, history_span, uptime_of
from polaris_tray.core.status.uptime_cache import UptimeCache
from polaris_tray.core.storage.history import HistoryStore
from polaris_tray.gui.attempts_table import AttemptsTable
from polaris_tray.gui.chart_scale import window_end
from polaris_tray.gui.icons import state_pixmap
from polaris_tray.gui.latency_chart import WINDOW_S, LatencyChart
from polaris_tray.gui.status_labels import label, short

TABLE_ROWS = 50
REFRESH_MIN_MS = 1000
QUIET_REFRESH_S = 5.0  # without beats (stopped, failing) the figures still move: re-read this often
UPTIME_TIP = (
    f"The share of time the orchestrator counted this miner online: each accepted heartbeat counts for "
    f"{OFFLINE_AFTER_S:.0f} s; stopped, quit and sleeping time count as offline."
)


class StatusWindow(QWidget):
    start_requested = Signal()
    stop_requested = Signal()
    settings_requested = Signal()
    quit_requested = Signal()

    def __init__(
        self,
        history: HistoryStore | None = None,
        diagnostics: Callable[[], str] | None = None,
        parent=None,
        clock: Callable[[], float] = time.time,
        demo: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Status")  # Qt appends " — Polaris Tray"
        self.setObjectName("statusWindow")
        self._history = history
        self._diagnostics = diagnostics
        self._clock = clock
        self._demo = demo  # a demo run: a local demo orchestrator, no settings
        self._snapshot: Snapshot | None = None
        self._uptimes = UptimeCache()
        self._recent = RecentRows()  # the last hour (+45 s) of the shown miner
        self._badge: tuple | None = None
        self.badge = QLabel()
        self.badge.setFixedSize(48, 48)
        self.headline = label("Starting…", name="headline", scale=1.3, bold=True, wrap=True)
        self.problem = label(name="problem")  # the error of a red state, shortened; all of it in the tooltip
        self.problem.hide()
        self.action = QPushButton()  # "Enter miner id…" / "Open settings" when the user must act
        self.action.setObjectName("actionButton")
        self.action.clicked.connect(self.settings_requested)
        self.action.hide()
        self.uptime = label("Uptime: —", name="uptime", scale=1.15, bold=True)
        self.uptime.setToolTip(UPTIME_TIP)
        self.uptime_more = label(wrap=True)
        self.details = label(wrap=True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.ratios = label()
        self.ratios.setAccessibleName("Accepted attempts")
        self.notice = label(name="notice", wrap=True)
        self.notice.hide()
        self.chart = LatencyChart()
        self.table = AttemptsTable(TABLE_ROWS)

        self.toggle = QPushButton("&Stop heartbeat")
        self.toggle.clicked.connect(self._on_toggle)
        self.settings_button = QPushButton("S&ettings…")
        self.settings_button.clicked.connect(self.settings_requested)
        self.copy_button = QPushButton("&Copy diagnostics")
        self.copy_button.clicked.connect(self.copy_diagnostics)
        self.copy_button.setEnabled(diagnostics is not None)
        self.quit_button = QPushButton("&Quit")
        self.quit_button.clicked.connect(self.quit_requested)
        self._layout()
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.close)

        self._ticker = QTimer(self)  # relative times ("12 s ago") and the strip move while the window is open
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self._tick)
        self._refresh_timer = QTimer(self)  # history reads at most once a second, however fast the beats
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.timeout.connect(self.refresh_history)
        self._last_refresh = 0.0

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        text.addWidget(self.headline)
        text.addWidget(self.problem)
        fix = QHBoxLayout()
        fix.addWidget(self.action)
        fix.addStretch(1)
        text.addLayout(fix)
        text.addWidget(self.uptime)
        text.addWidget(self.uptime_more)
        text.addWidget(self.details)
        text.addWidget(self.ratios)
        top.addLayout(text, 1)
        content = QWidget()
        inner = QVBoxLayout(content)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addLayout(top)
        inner.addWidget(self.chart)
        inner.addWidget(self.table)
        inner.addStretch(1)  # spare height goes below the table, not between the lines of text
        scroll = QScrollArea()  # small or scaled screens scroll the content; the buttons stay in view
        scroll.setObjectName("statusScroll")
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area = scroll  # not self.scroll: that would hide QWidget.scroll()
        buttons = QHBoxLayout()
        for button in (self.toggle, self.settings_button, self.copy_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.quit_button)
        self.body = QVBoxLayout(self)
        self.body.addWidget(self.notice)
        self.body.addWidget(scroll, 1)
        self.body.addLayout(buttons)
        content.setMinimumWidth(self.chart.minimumWidth())
        self.setMinimumSize(max(buttons.minimumSize().width() + 24, 380), 260)
        screen = QGuiApplication.primaryScreen()
        room = screen.availableGeometry() if screen else None
        width, height = 640, min(600, content.sizeHint().height() + buttons.sizeHint().height() + 100)
        if room is not None:
            width, height = min(width, room.width() - 40), min(height, room.height() - 60)
        self.resize(max(width, self.minimumWidth()), max(height, self.minimumHeight()))

    def set_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def show_snapshot(self, snap: Snapshot) -> None:
        previous, self._snapshot = self._snapshot, snap
        self._render()
        if previous is not None and previous.miner_tag != snap.miner_tag and self.isVisible():
            self.refresh_history()  # another miner: its own rows and figures, at once
        elif previous is not None and previous.state is not snap.state:
            self.history_changed()  # e.g. a stop: its goodbye row is not announced as an outcome

    def history_changed(self) -> None:
        if not self.isVisible() or self._refresh_timer.isActive():
            return
        wait = max(0, int(REFRESH_MIN_MS - (time.monotonic() - self._last_refresh) * 1000))
        self._refresh_timer.start(wait)

    def refresh_history(self) -> None:
        self._last_refresh = time.monotonic()
        if self._history is None:
            self.uptime.setText("Uptime: history is not available.")
            return
        try:
            self._show_history()
        except sqlite3.Error as exc:  # a locked or vanished file costs the chart, never the window
            self.uptime.setText(f"Uptime: history is not available ({exc}).")

    def _miner(self) -> str | None:
        snap = self._snapshot
        if snap is not None and snap.state is LinkState.UNCONFIGURED:
            return ""  # no miner id: no miner's rows (no tag is ever empty)
        if snap is not None and snap.miner_tag is not None:
            return snap.miner_tag
        return self._history.latest_miner() if self._history else None

    def _show_history(self) -> None:
        assert self._history is not None
        now = self._clock()
        miner = self._miner()
        end = window_end(now)
        self._recent.read(self._history, miner, end - WINDOW_S - OFFLINE_AFTER_S, end)
        first = self._history.first_at(miner)
        first = now if first is None else first  # no history for this miner: no figure, not 0 %
        coverage = self._recent.coverage
        hour = uptime_of(coverage, now, HOUR_S, first)
        slow = self._uptimes.figures(self._history, miner, now, SLOW_WINDOWS)
        figure = "—" if hour.ratio is None else f"{hour.ratio * 100:.1f} %"
        self.uptime.setText(f"Uptime, last hour: {figure}")
        more = [f"{label}: {'—' if u.ratio is None else f'{u.ratio * 100:.1f} %'}" for label, u in slow]
        if hour.clipped and hour.ratio is not None:
            more.append(f"history: {history_span(hour)}")
        self.uptime_more.setText(" · ".join(more) + " (as the orchestrator counts it)")
        accepted, total = self._recent.counts_since(now - HOUR_S)
        self.ratios.setText(
            f"Accepted attempts, last hour: {accepted / total * 100:.1f} % of {total}"
            if total
            else "Accepted attempts, last hour: no attempts"
        )
        spans = coverage.spans(now - WINDOW_S - 60, now + OFFLINE_AFTER_S)  # the strip clips at "now"
        self.chart.set_attempts(self._recent.rows, now, spans, known_from=first)
        recent = self._recent.rows[-TABLE_ROWS:][::-1]
        if len(recent) < TABLE_ROWS:
            recent = self._history.recent(TABLE_ROWS, miner=miner)
        self.table.show_attempts(recent)

    def _tick(self) -> None:
        self._render()
        if self._history is not None and self._recent.key is not None:
            now = self._clock()
            quiet = time.monotonic() - self._last_refresh >= QUIET_REFRESH_S
            if window_end(now) != self._recent.key[1] or quiet:
                self.refresh_history()  # a minute rolled, or no beats: coverage runs out by time alone
            else:
                self.chart.move_now(now)

    def _render(self) -> None:
        snap = self._snapshot
        if snap is None:
            return
        lines = detail_lines(snap, self._clock())
        demo = self._demo
        self.setWindowTitle("Status (demo)" if demo else "Status")
        self.headline.setText(state_words(snap) + (" (demo)" if demo else ""))
        error = snap.last_outcome.error if snap.last_outcome is not None else None
        problem = error if snap.state is LinkState.ATTENTION and error else ""
        self.problem.setText(short(problem))
        self.problem.setToolTip(problem)  # the full text; the details say it in full too
        self.problem.setVisible(bool(problem))
        self.details.setText("\n".join([*lines[1:], f"Miner id: {snap.miner_id_masked}"]))
        self.details.setToolTip(lines[0] if problem else "")
        badge = (snap.state.colour, self.devicePixelRatioF())
        if badge != self._badge:  # drawn once per colour, not on every beat
            self._badge = badge
            self.badge.setPixmap(state_pixmap(badge[0], 48, badge[1]))
        self.toggle.setText("&Stop heartbeat" if snap.running else "&Start heartbeat")
        self.toggle.setEnabled(snap.state is not LinkState.UNCONFIGURED)
        action = ""
        if snap.state is LinkState.UNCONFIGURED:
            action = "E&nter miner id…"
        elif snap.state.colour is Colour.RED:
            action = "&Open settings"
        self.settings_button.setEnabled(not demo)
        self.settings_button.setToolTip("Settings are not used in demo mode." if demo else "")
        self.action.setText(action)
        self.action.setVisible(bool(action) and not demo)

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
        self.toggle.setFocus()  # not a table cell: Enter/Space act on the main button
        self._ticker.start()
        self.refresh_history()
        super().showEvent(event)

    def hideEvent(self, event) -> None:
        self._ticker.stop()
        self._refresh_timer.stop()
        super().hideEvent(event)
