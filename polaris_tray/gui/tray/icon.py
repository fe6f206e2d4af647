"""The tray icon and its menu: renders Snapshots, forwards clicks. No rule is decided here."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal, SignalInstance
from PySide6.QtGui import QAction, QCursor, QFontMetrics, QGuiApplication, QIcon, QPixmap
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from polaris_tray.core.status.send_now import send_now_words
from polaris_tray.core.status.snapshot import Snapshot, detail_lines, headline, tooltip
from polaris_tray.core.values.link_state import Colour, LinkState
from polaris_tray.gui.tray.icons import state_icon, state_pixmap
from polaris_tray.gui.tray.notifications import DesktopNotifier, icon_file

HEADER_MAX_PX = 380  # logical pixels: the menu's width is bounded; the full text is the header's tooltip
DEMO_AUTOSTART_REASON = "Demo mode runs against a built-in orchestrator and is never started at login."


class TrayIcon(QObject):
    start_requested = Signal()
    stop_requested = Signal()
    beat_now_requested = Signal()
    send_now_waits = Signal(str)  # Send now cannot go yet: when it will, in words (the status window says it)
    settings_requested = Signal()
    status_requested = Signal()
    autostart_toggled = Signal(bool)
    open_log_requested = Signal()
    about_requested = Signal()
    quit_requested = Signal()

    def __init__(self, autostart_state: Callable[[], bool] = lambda: False, demo: bool = False) -> None:
        super().__init__()
        self._autostart_state = autostart_state
        self._demo = demo
        self._snapshot: Snapshot | None = None
        self._icons: dict[Colour, QIcon] = {}
        self.colour: Colour | None = None
        self.icon = self._make_icon()
        self.menu = QMenu()
        self._build_menu()
        self._attach_menu(self.icon)
        self.menu.aboutToShow.connect(self.refresh_menu)
        self._set_colour(Colour.GREY)
        self.icon.setToolTip("Polaris Tray — starting…")
        self.notifier = DesktopNotifier(self._show_message, icon_file(self._notify_pixmap, _icon_dir()))

    def _action(self, text: str, signal: SignalInstance | None = None, checkable: bool = False) -> QAction:
        action = QAction(text, self.menu)
        action.setCheckable(checkable)
        if signal is not None:
            action.triggered.connect(lambda *_: signal.emit())
        self.menu.addAction(action)
        return action

    def _build_menu(self) -> None:
        self.menu.setToolTipsVisible(True)
        self.status_action = self._action("Demo · Starting…" if self._demo else "Starting…")
        self.status_action.setEnabled(False)
        self.menu.addSeparator()
        self.toggle_action = self._action("&Stop heartbeat")
        self.toggle_action.triggered.connect(self._on_toggle)
        self.beat_action = self._action("Send heartbeat &now")
        self.beat_action.triggered.connect(self._on_beat_now)
        self.menu.addSeparator()
        self.status_window_action = self._action("S&tatus…", self.status_requested)
        self.settings_action = self._action("S&ettings…", self.settings_requested)
        self.autostart_action = self._action("Start at &login", checkable=True)
        self.autostart_action.toggled.connect(self._on_autostart_toggled)
        self.log_action = self._action("Open lo&g folder", self.open_log_requested)
        self.about_action = self._action("&About Polaris Tray", self.about_requested)
        self.menu.addSeparator()
        self.quit_action = self._action("&Quit", self.quit_requested)
        if self._demo:  # Settings stay enabled: the dialog shows the demo's values, read-only
            self.autostart_action.setText("Start at &login (not in demo mode)")
            self.autostart_action.setToolTip(DEMO_AUTOSTART_REASON)
            self.autostart_action.setEnabled(False)

    def _on_toggle(self) -> None:
        if self._snapshot is not None and self._snapshot.running:
            self.stop_requested.emit()
        else:
            self.start_requested.emit()

    def _on_beat_now(self) -> None:
        """Sent at once while healthy; during a retry wait the click is answered with when it will go.
        Not as a notification: those are kept for the way to red and back (at most one a minute)."""
        words = send_now_words(self._snapshot, time.time())
        self.beat_now_requested.emit()
        if words:
            self.send_now_waits.emit(words)

    def _on_autostart_toggled(self, checked: bool) -> None:
        if self._refreshing:
            return
        self.autostart_toggled.emit(checked)

    _refreshing = False

    def refresh_menu(self) -> None:
        """Rebuilt from the latest snapshot each time the menu opens, so nothing shown is stale."""
        snap = self._snapshot
        self._refreshing = True
        try:
            self.autostart_action.setChecked(bool(self._autostart_state()))
        finally:
            self._refreshing = False
        if snap is None:
            return
        self._show_header(snap)
        configured = snap.state is not LinkState.UNCONFIGURED
        self.toggle_action.setText("&Stop heartbeat" if snap.running else "&Start heartbeat")
        self.toggle_action.setEnabled(configured)
        self.beat_action.setEnabled(configured)

    def _show_header(self, snap: Snapshot) -> None:
        """A header that cannot grow while the menu is open (a panel may lay the menu out once, on its first
        opening): the state and a clock time, no "N s ago" that lengthens; set on every snapshot, so it is
        current before the menu opens. Relative times and the next attempt are in the tooltip."""
        text = headline(snap)
        if snap.last_success_wall is not None:
            text += " · last accepted " + time.strftime("%H:%M:%S", time.localtime(snap.last_success_wall))
        self._set_header(text, "\n".join(detail_lines(snap, time.time())))

    def _set_header(self, text: str, full: str) -> None:
        """Elided to a bounded width (a raw error can be a paragraph); the whole text in the tooltip."""
        if self._demo:
            text, full = f"Demo · {text}", f"Demo mode\n{full}"
        metrics = QFontMetrics(self.menu.font())
        self.status_action.setText(metrics.elidedText(text, Qt.TextElideMode.ElideRight, HEADER_MAX_PX))
        self.status_action.setToolTip(full)

    def _set_colour(self, colour: Colour) -> None:
        if colour is self.colour:
            return
        if colour not in self._icons:
            screen = QGuiApplication.primaryScreen()
            dpr = screen.devicePixelRatio() if screen else 1.0
            self._icons[colour] = state_icon(colour, dpr)
        self.icon.setIcon(self._icons[colour])
        self.colour = colour

    def show_snapshot(self, snap: Snapshot) -> None:
        self._snapshot = snap
        self._set_colour(snap.state.colour)
        text = tooltip(snap, time.time())
        self.icon.setToolTip(text.replace("Polaris Tray", "Polaris Tray (Demo)", 1) if self._demo else text)
        if self.menu.isVisible():
            self.refresh_menu()
        else:
            self._show_header(snap)  # laid out before the first opening, at its final width

    def _attach_menu(self, icon: QSystemTrayIcon) -> None:
        """macOS: with a context menu set, Cocoa opens it on every click and also emits Trigger, so a
        left click would open the menu and the status window together. There the icon has no menu of
        Qt's: a left click opens the status window, a right (or control-) click our menu (Context)."""
        if sys.platform != "darwin":
            icon.setContextMenu(self.menu)

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.status_requested.emit()
        elif reason is QSystemTrayIcon.ActivationReason.Context and not self.menu.isVisible():
            self.menu.popup(QCursor.pos())  # a panel's ContextMenu(x, y); XEmbed has shown it already

    # --- presence: the icon is rebuilt whenever a tray host (re)appears (gui/tray/host_watch.py says when)
    def _make_icon(self) -> QSystemTrayIcon:
        icon = QSystemTrayIcon()
        icon.activated.connect(self._on_activated)
        return icon

    def rebuild(self) -> None:
        """A fresh QSystemTrayIcon: Qt picks SNI or XEmbed only when one is built."""
        old, self.icon = self.icon, self._make_icon()
        self.icon.setIcon(old.icon())
        self.icon.setToolTip(old.toolTip())
        self._attach_menu(self.icon)
        old.hide()
        old.setContextMenu(None)  # type: ignore[arg-type]  # the stub omits that Qt takes None (no menu)
        old.deleteLater()

    # --- notifications: over D-Bus on Linux (our icon stays ours), the icon's balloon elsewhere
    def notify(self, title: str, message: str, critical: bool = False) -> None:
        self.notifier.notify(title, message, critical)

    def _show_message(self, title: str, message: str, critical: bool) -> None:
        if self.icon.isVisible() and self.icon.supportsMessages():
            kind = (
                QSystemTrayIcon.MessageIcon.Critical if critical else QSystemTrayIcon.MessageIcon.Information
            )
            self.icon.showMessage(title, message, kind, 10_000)

    def _notify_pixmap(self, critical: bool) -> QPixmap:
        return state_pixmap(Colour.RED if critical else Colour.GREEN, 64)

    def show(self) -> None:
        self.icon.show()

    def hide(self) -> None:
        self.icon.hide()
        self.notifier.close()


def _icon_dir() -> Path:
    from polaris_tray.core.storage import paths

    return paths.state_dir() / "icons"
