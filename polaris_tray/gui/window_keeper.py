"""The windows the tray and the status window open (Status, Settings, About), each made once and raised when
asked again, and the menu's one-off actions beside them (start at login, the log folder).

The status window also stands in for the icon while no tray holds it. What the windows ask for (Start,
Stop, Quit, settings applied) goes out as signals, as the tray's requests do; the controller routes both.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox

from polaris_tray import APP_DISPLAY_NAME
from polaris_tray.core.platform.autostart.base import AutostartError
from polaris_tray.core.status.snapshot import headline
from polaris_tray.core.storage import paths
from polaris_tray.core.storage.logs import log_description
from polaris_tray.gui.about import show_about
from polaris_tray.gui.desktop import open_folder
from polaris_tray.gui.status.window import StatusWindow

if TYPE_CHECKING:
    from pathlib import Path

    from PySide6.QtWidgets import QDialog

    from polaris_tray.core.config.settings import Settings, SettingsStore
    from polaris_tray.core.platform.autostart.base import Autostart
    from polaris_tray.core.setup.settings_form import InEffect
    from polaris_tray.core.status.snapshot import Snapshot
    from polaris_tray.core.storage.history import HistoryStore
    from polaris_tray.gui.settings.dialog import SettingsDialog

NO_TRAY_NOTICE = (
    "No system tray was found (on GNOME, install the AppIndicator extension). Polaris Tray keeps sending "
    "heartbeats; this window shows their state. Closing it keeps the agent running; use Quit to stop it."
)


class WindowKeeper(QObject):
    """snapshot, settings and in_effect are read when a window opens; overrides is the controller's own
    mapping of this run's command-line values, which the settings dialog edits (see SettingsForm.load)."""

    start_requested = Signal()
    stop_requested = Signal()
    quit_requested = Signal()
    settings_applied = Signal(object, object)  # the Settings saved, and the miner id just stored or None
    told_offline = Signal(object)  # Test connection's or Diagnose's accepted "offline", for the runner

    def __init__(
        self,
        *,
        store: SettingsStore,
        autostart: Autostart,
        demo: bool,
        log_file: Path | None,
        snapshot: Callable[[], Snapshot | None],
        settings: Callable[[], Settings],
        overrides: MutableMapping[str, object],
        in_effect: Callable[[], InEffect],
        history_reader: Callable[[], HistoryStore | None],
        diagnostics: Callable[[], str],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._autostart = autostart
        self._demo = demo
        self._log_file = log_file
        self._snapshot = snapshot
        self._settings = settings
        self._overrides = overrides
        self._in_effect = in_effect
        self._history_reader = history_reader
        self._diagnostics = diagnostics
        self.status_window: StatusWindow | None = None
        self.settings_dialog: SettingsDialog | None = None
        self._about: QDialog | None = None  # kept referenced while open
        self._fallback = False  # the status window stands in for the icon (the user did not open it)
        self._first_run_open = False

    # --- the status window
    def open_status(self) -> StatusWindow:
        self._fallback = False  # opened by the user: it stays when the icon comes
        if self.status_window is None:
            self.status_window = StatusWindow(self._history_reader(), self._diagnostics, demo=self._demo)
            self.status_window.start_requested.connect(self.start_requested)
            self.status_window.stop_requested.connect(self.stop_requested)
            self.status_window.settings_requested.connect(self.open_settings)
            self.status_window.quit_requested.connect(self.quit_requested)
            self.status_window.told_offline.connect(self.told_offline)
            snap = self._snapshot()
            if snap is not None:
                self.status_window.show_snapshot(snap)
        self.status_window.show()
        self.status_window.raise_()
        self.status_window.activateWindow()
        return self.status_window

    def show_snapshot(self, snap: Snapshot) -> None:
        if self.status_window is not None:
            self.status_window.show_snapshot(snap)

    def history_changed(self) -> None:
        """An attempt was recorded: an open status window reads it."""
        if self.status_window is not None:
            self.status_window.history_changed()

    def tell(self, text: str) -> None:
        """A notice, when no tray can notify: said in the status window if there is one."""
        if self.status_window is not None:
            self.status_window.set_notice(text)

    def tell_send_now(self, words: str) -> None:
        """Send now during a retry wait: the status window opens and says when the beat will go; the
        attempt then shows there, where a silent wait of seconds would have looked like nothing."""
        self.open_status().show_send_now(words)

    def stand_in_for_tray(self) -> None:
        """No tray holds the icon: the status window shows the state instead, and says why."""
        user_opened = self.status_window is not None and self.status_window.isVisible()
        window = self.open_status()
        self._fallback = not user_opened
        window.set_notice(NO_TRAY_NOTICE)

    def tray_shown(self) -> None:
        if self._fallback and self.status_window is not None:
            self.status_window.hide()  # it stood in for the icon; one the user opened stays

    # --- the settings dialog
    def open_settings(self, first_run: bool = False) -> None:
        from polaris_tray.gui.settings.dialog import SettingsDialog

        if self.settings_dialog is None:
            self.settings_dialog = SettingsDialog(self._store, self._autostart, parent=None)
            self.settings_dialog.applied.connect(self.settings_applied)
            self.settings_dialog.told_offline.connect(self.told_offline)
            self.settings_dialog.applied.connect(self._after_first_run)  # after the worker has the id
        self._first_run_open = first_run
        snap = self._snapshot()
        self.settings_dialog.load(
            self._settings(),
            self._overrides,
            first_run=first_run,
            miner_masked=snap.miner_id_masked if snap else None,
            demo=self._demo,
            in_effect=self._in_effect(),
        )
        self.settings_dialog.show()
        self.settings_dialog.raise_()
        self.settings_dialog.activateWindow()

    def _after_first_run(self, _settings: Settings, miner_id: str | None) -> None:
        """The first-run dialog stored an id: the status window shows the way to green and says once, in
        words, when the orchestrator counts this computer. A window, not a notification: the user's eyes
        are on the screen they just pressed Enter in, a notification can be missed or have no server to
        show it, and on a StatusNotifierItem panel Qt's fallback balloon swaps the very icon that turns
        green."""
        if not (self._first_run_open and miner_id):
            return
        self._first_run_open = False
        window = self.open_status()
        window.await_first_online()
        snap = self._snapshot()
        if snap is not None:
            window.show_snapshot(snap)

    # --- the menu's one-off actions
    def autostart_enabled(self) -> bool:
        try:
            return self._autostart.is_enabled()
        except (OSError, AutostartError):
            return False

    def set_autostart(self, enabled: bool) -> None:
        try:
            self._autostart.enable() if enabled else self._autostart.disable()
        except AutostartError as exc:
            QMessageBox.warning(None, APP_DISPLAY_NAME, str(exc))

    def open_log_folder(self) -> None:
        if not open_folder(paths.log_dir()):
            QMessageBox.information(None, APP_DISPLAY_NAME, f"The log folder is {paths.log_dir()}")

    def about(self) -> None:
        snap = self._snapshot()
        state = headline(snap) if snap else "starting"
        self._about = show_about(state, log_description(self._log_file), self._demo)

    def close_all(self) -> None:
        """At Quit: the windows stop their timers before the history reader they read closes."""
        for window in (self.status_window, self.settings_dialog):
            if window is not None:
                window.close()
