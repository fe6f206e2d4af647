"""The status window: am I being paid? Uptime as the orchestrator counts it, the state in words, the last
hour charted with the spans counted online, the last attempts.

It is also what the user gets when there is no system tray. Its cost does not grow with history: rows are
read incrementally (the new ones only), the chart appends, and slow figures are kept for a minute.
Just past 400 lines: one window's layout, rendering and actions; its chart and table are files of their own.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QHideEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from polaris_tray.core.config.limits import OFFLINE_AFTER_S
from polaris_tray.core.status.recent_rows import RecentRows
from polaris_tray.core.status.snapshot import Snapshot, detail_lines, state_words
from polaris_tray.core.status.uptime import HOUR_S, SLOW_WINDOWS, history_span, uptime_of
from polaris_tray.core.status.uptime_cache import UptimeCache
from polaris_tray.core.storage.history import HistoryStore
from polaris_tray.core.values.link_state import Colour, LinkState
from polaris_tray.gui.status.attempts_table import AttemptsTable
from polaris_tray.gui.status.latency_chart import WINDOW_S, LatencyChart, window_end
from polaris_tray.gui.tray.icons import state_pixmap

if TYPE_CHECKING:
    from polaris_tray.gui.settings.doctor_dialog import DoctorDialog

TABLE_ROWS = 50
REFRESH_MIN_MS = 1000
QUIET_REFRESH_S = 5.0  # without beats (stopped, failing) the figures still move: re-read this often
FIND_OUT_WHY = "Find out &why…"  # red while offline: the doctor names the broken link, not Settings
ROOMY_HEIGHT = 600  # logical px of screen: below it (1280x720 at scale 2) the parts go on tabs, not scroll
UPTIME_TIP = (
    f"The share of time the orchestrator counted this miner online: each accepted heartbeat counts for "
    f"{OFFLINE_AFTER_S:.0f} s; stopped, quit and sleeping time count as offline."
)
CONFIRM_ONLINE = (
    "Online — counted by Polaris. The icon stays green while the orchestrator counts this computer online; "
    "you can close this window."
)


def label(
    text: str = "", *, name: str = "", scale: float = 1.0, bold: bool = False, wrap: bool = False
) -> QLabel:
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


def details_text(lines: list[str], snap: Snapshot) -> str:
    """The detail lines with the whole server URL (a wrong path is visible), then the masked id."""
    url = f"Server: {breakable(snap.server_url)}"
    shown = [url if line.startswith("Server: ") else line for line in lines]
    if url not in shown:
        shown.append(url)
    return "\n".join([*shown, f"Miner id: {snap.miner_id_masked}"])


def breakable(url: str) -> str:
    """A long URL may wrap after a slash (a zero-width space): a label wraps only where it may break."""
    return url.replace("/", "/\u200b") if len(url) > 40 else url


class StatusWindow(QWidget):
    start_requested = Signal()
    stop_requested = Signal()
    settings_requested = Signal()
    quit_requested = Signal()
    told_offline = Signal(object)  # a Diagnose's accepted "offline" (ToldOffline), for the runner

    def __init__(
        self,
        history: HistoryStore | None = None,
        diagnostics: Callable[[], str] | None = None,
        parent: QWidget | None = None,
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
        self._badge: tuple[Colour, float] | None = None
        self.badge = QLabel()
        self.badge.setFixedSize(48, 48)
        self.headline = label("Starting…", name="headline", scale=1.3, bold=True, wrap=True)
        self.problem = label(name="problem", wrap=True)  # the error of a red state, wrapped, never cut
        self.problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem.hide()
        self.confirm = label(CONFIRM_ONLINE, name="confirmation", bold=True, wrap=True)
        self.confirm.setStyleSheet("color: #188038;")
        self.confirm.hide()
        self._confirm_pending = False  # the first-run dialog stored an id: say once when it is counted
        self.send_note = label(name="sendNote", wrap=True)  # "Sending at 14:02:31 — waiting for ..."
        self.send_note.hide()
        self._send_note_for: object = None  # the outcome it was said after: a new attempt ends it
        self.action = QPushButton()  # "Enter miner id…" / "Open settings" when the user must act
        self.action.setObjectName("actionButton")
        self.action.clicked.connect(self._on_action)
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
        self.diagnose_button = QPushButton("&Diagnose…")  # the doctor: which link to the orchestrator broke
        self.diagnose_button.clicked.connect(self.diagnose)
        self.diagnose_button.setEnabled(not demo)
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
        screen = QGuiApplication.primaryScreen()
        room = screen.availableGeometry() if screen else None
        self.compact = room is not None and room.height() < ROOMY_HEIGHT
        top = QHBoxLayout()
        top.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        text.setSpacing(4)
        text.addWidget(self.confirm)
        text.addWidget(self.headline)
        text.addWidget(self.problem)
        fix = QHBoxLayout()
        fix.addWidget(self.action)
        fix.addStretch(1)
        text.addLayout(fix)
        text.addWidget(self.send_note)
        text.addWidget(self.uptime)
        text.addWidget(self.uptime_more)
        text.addWidget(self.details)
        text.addWidget(self.ratios)
        top.addLayout(text, 1)
        content = QWidget()
        inner = QVBoxLayout(content)
        inner.setContentsMargins(0, 0, 0, 0)
        if self.compact:  # a short screen: the state, the chart and the table each get the whole height
            self.tabs: QTabWidget | None = QTabWidget()
            self.tabs.setObjectName("statusTabs")
            now = QWidget()
            now.setLayout(top)
            self.tabs.addTab(now, "No&w")
            self.tabs.addTab(self.chart, "&Last hour")
            self.tabs.addTab(self.table, "Attem&pts")
            inner.addWidget(self.tabs)
        else:
            self.tabs = None
            inner.addLayout(top)
            inner.addWidget(self.chart)
            inner.addWidget(self.table, 1)  # spare height shows more attempts
        inner.addStretch(0)  # past the table's last row, spare height goes below it, not between the text
        scroll = QScrollArea()  # a last resort for screens smaller than 1280x720 at scale 2
        scroll.setObjectName("statusScroll")
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area = scroll  # not self.scroll: that would hide QWidget.scroll()
        buttons = QHBoxLayout()
        for button in (self.toggle, self.settings_button, self.copy_button, self.diagnose_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.quit_button)
        self.body = QVBoxLayout(self)
        self.body.addWidget(self.notice)
        self.body.addWidget(scroll, 1)
        self.body.addLayout(buttons)
        content.setMinimumWidth(self.chart.minimumWidth())
        self.setMinimumSize(max(buttons.minimumSize().width() + 24, 380), 260)
        # tall enough for the longest state (red: a wrapped error and its button) at one go
        width, height = 640, 640
        if room is not None:
            width, height = min(width, room.width() - 40), min(height, room.height() - 40)
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
        if hour.clipped:  # all history lies inside the hour: 24 h and 7 days cover that same span now,
            slow = [(name, hour) for _w, name in SLOW_WINDOWS]  # so they say what it says, not a stale copy
        else:
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
        self.problem.setText(problem)  # wrapped whole (the outcome bounds it to 300 characters)
        self.problem.setToolTip(problem)
        self.problem.setVisible(bool(problem))
        self.details.setText(details_text(lines[1:], snap))  # the whole server URL, not just its host
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
        elif snap.state is LinkState.ATTENTION:
            action = "&Open settings"
        elif snap.state.colour is Colour.RED:  # offline for a server or network fault: not the settings
            action = FIND_OUT_WHY
        # as in the menu: in demo mode the dialog opens read-only with the demo's values
        self.settings_button.setToolTip("Demo mode: the demo's values, read-only." if demo else "")
        self.action.setText(action)
        self.action.setVisible(bool(action) and not demo)
        self._confirm(snap)
        if self.send_note.isVisible() and (snap.last_outcome is not self._send_note_for or not snap.running):
            self.send_note.hide()  # the attempt it announced has happened (or the beat stopped)

    def show_send_now(self, words: str) -> None:
        self._send_note_for = self._snapshot.last_outcome if self._snapshot is not None else None
        self.send_note.setText(words)
        self.send_note.show()
        self._to_front_tab()

    def _to_front_tab(self) -> None:
        if self.tabs is not None:
            self.tabs.setCurrentIndex(0)  # a short screen: what was just said is on the first tab

    def await_first_online(self) -> None:
        """The first-run dialog stored an id: the first accepted beat is confirmed here, once."""
        self._confirm_pending = True

    def _confirm(self, snap: Snapshot) -> None:
        online = snap.state is LinkState.ONLINE
        if self._confirm_pending and online:
            self._confirm_pending = False
            self.confirm.show()
            self._to_front_tab()
        elif not online:
            self.confirm.hide()  # never left standing beside a state that says otherwise

    def copy_diagnostics(self) -> str:
        text = self._diagnostics() if self._diagnostics else ""
        QGuiApplication.clipboard().setText(text)
        self.copy_button.setText("&Copied")
        QTimer.singleShot(2000, self, lambda: self.copy_button.setText("&Copy diagnostics"))  # dies with us
        return text

    def _on_action(self) -> None:
        if self.action.text() == FIND_OUT_WHY:
            self.diagnose()
        else:
            self.settings_requested.emit()

    def diagnose(self) -> DoctorDialog:
        from polaris_tray.gui.settings.doctor_dialog import open_doctor

        snap = self._snapshot
        dialog = open_doctor(self, snap.server_url if snap else None, bool(snap and snap.running))
        dialog.told_offline.connect(self.told_offline)
        return dialog

    def _on_toggle(self) -> None:
        if self._snapshot is not None and self._snapshot.running:
            self.stop_requested.emit()
        else:
            self.start_requested.emit()

    def showEvent(self, event: QShowEvent) -> None:
        self.toggle.setFocus()  # not a table cell: Enter/Space act on the main button
        self._ticker.start()
        self.refresh_history()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        self._ticker.stop()
        self._refresh_timer.stop()
        super().hideEvent(event)
