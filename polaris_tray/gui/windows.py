"""The windows and one-off actions the tray and status window offer; AppController mixes this in.

Kept apart from the controller's wiring so each file stays one job: here, what opening each window means.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QMessageBox

from polaris_tray import APP_DISPLAY_NAME
from polaris_tray.core.platform.autostart.base import AutostartError
from polaris_tray.core.status.snapshot import headline
from polaris_tray.core.storage import paths
from polaris_tray.core.storage.logs import log_description
from polaris_tray.gui.about import show_about
from polaris_tray.gui.desktop import open_folder
from polaris_tray.gui.status.window import StatusWindow
from polaris_tray.gui.stop_warning import guarded_stop

if TYPE_CHECKING:
    from pathlib import Path

    from polaris_tray.core.config.settings import Settings, SettingsStore
    from polaris_tray.core.platform.autostart.base import Autostart
    from polaris_tray.core.status.snapshot import Snapshot
    from polaris_tray.core.storage.history import HistoryStore
    from polaris_tray.demo.server import DemoOrchestrator
    from polaris_tray.gui.beat.worker import HeartbeatWorker, WorkerConfig
    from polaris_tray.gui.settings.dialog import SettingsDialog


class WindowActions:
    """Needs from the controller: worker, snapshot, settings, overrides, config, store, autostart, demo,
    log_file, status_window, settings_dialog, _start, _stop, apply_settings, quit, history_reader,
    diagnostics."""

    if TYPE_CHECKING:  # what AppController provides, declared for the type checker
        worker: HeartbeatWorker
        snapshot: Snapshot | None
        settings: Settings
        overrides: dict[str, Any]
        config: WorkerConfig
        store: SettingsStore
        autostart: Autostart
        demo: DemoOrchestrator | None
        log_file: Path | None
        status_window: StatusWindow | None
        settings_dialog: SettingsDialog | None
        _fallback_window: bool

        def history_reader(self) -> HistoryStore | None: ...
        def diagnostics(self) -> str: ...
        def request_start(self) -> None: ...
        def request_stop(self) -> None: ...
        def apply_settings(self, settings: Settings, miner_id: str | None = None) -> None: ...
        def quit(self) -> None: ...

    def open_status(self) -> StatusWindow:
        self._fallback_window = False  # opened by the user: it stays when the icon comes
        if self.status_window is None:
            self.status_window = StatusWindow(self.history_reader(), self.diagnostics, demo=bool(self.demo))
            self.status_window.start_requested.connect(self.request_start)
            self.status_window.stop_requested.connect(lambda: guarded_stop(self))
            self.status_window.settings_requested.connect(self.open_settings)
            self.status_window.quit_requested.connect(self.quit)
            if self.snapshot is not None:
                self.status_window.show_snapshot(self.snapshot)
        self.status_window.show()
        self.status_window.raise_()
        self.status_window.activateWindow()
        return self.status_window

    def open_settings(self, first_run: bool = False) -> None:
        from polaris_tray.gui.settings.dialog import SettingsDialog

        if self.settings_dialog is None:
            self.settings_dialog = SettingsDialog(self.store, self.autostart, parent=None)
            self.settings_dialog.applied.connect(self.apply_settings)
            self.settings_dialog.applied.connect(self._after_first_run)  # after the worker has the id
        self._first_run_open = first_run
        masked = self.snapshot.miner_id_masked if self.snapshot else None
        self.settings_dialog.load(
            self.settings,
            self.overrides,
            first_run=first_run,
            miner_masked=masked,
            demo=bool(self.demo),
            in_effect=self.config,
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
        if not (getattr(self, "_first_run_open", False) and miner_id):
            return
        self._first_run_open = False
        window = self.open_status()
        window.await_first_online()
        if self.snapshot is not None:
            window.show_snapshot(self.snapshot)

    def tell_send_now(self, words: str) -> None:
        """Send now during a retry wait: the status window opens and says when the beat will go; the
        attempt then shows there, where a silent wait of seconds would have looked like nothing."""
        self.open_status().show_send_now(words)

    def _autostart_enabled(self) -> bool:
        try:
            return self.autostart.is_enabled()
        except (OSError, AutostartError):
            return False

    def set_autostart(self, enabled: bool) -> None:
        try:
            self.autostart.enable() if enabled else self.autostart.disable()
        except AutostartError as exc:
            QMessageBox.warning(None, APP_DISPLAY_NAME, str(exc))

    def open_log_folder(self) -> None:
        if not open_folder(paths.log_dir()):
            QMessageBox.information(None, APP_DISPLAY_NAME, f"The log folder is {paths.log_dir()}")

    def about(self) -> None:
        state = headline(self.snapshot) if self.snapshot else "starting"
        self._about = show_about(state, log_description(self.log_file), bool(self.demo))
