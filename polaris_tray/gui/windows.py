"""The windows the controller opens: status, settings, About, the log folder, start at login."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

from polaris_tray import APP_DISPLAY_NAME, __version__
from polaris_tray.core.platform.autostart.base import AutostartError
from polaris_tray.core.status.snapshot import headline
from polaris_tray.core.storage import paths
from polaris_tray.gui.desktop import open_folder
from polaris_tray.gui.status_window import StatusWindow


class WindowsMixin:
    """Mixed into AppController: uses its worker, tray, snapshot, settings and request_* methods."""

    def open_status(self) -> StatusWindow:
        if self.status_window is None:
            self.status_window = StatusWindow(self.history_reader(), self.diagnostics)
            self.worker.outcome.connect(self.status_window.history_changed)
            self.status_window.start_requested.connect(self.request_start)
            self.status_window.stop_requested.connect(self.request_stop)
            self.status_window.settings_requested.connect(self.open_settings)
            self.status_window.quit_requested.connect(self.quit)
            if self.snapshot is not None:
                self.status_window.show_snapshot(self.snapshot)
        self.status_window.show()
        self.status_window.raise_()
        self.status_window.activateWindow()
        return self.status_window

    def open_settings(self, first_run: bool = False) -> None:
        if self.demo:
            self.tray.notify(APP_DISPLAY_NAME, "Settings are not used in demo mode.")
            return
        from polaris_tray.gui.settings_dialog import SettingsDialog

        if self.settings_dialog is None:
            self.settings_dialog = SettingsDialog(self.store, self.autostart, parent=None)
            self.settings_dialog.applied.connect(self.apply_settings)
        masked = self.snapshot.miner_id_masked if self.snapshot else None
        self.settings_dialog.load(self.settings, first_run=first_run, miner_masked=masked)
        self.settings_dialog.show()
        self.settings_dialog.raise_()
        self.settings_dialog.activateWindow()

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
        QMessageBox.about(
            None,
            f"About {APP_DISPLAY_NAME}",
            f"<b>{APP_DISPLAY_NAME} {__version__}</b><br>"
            "Keeps this machine visible to the Polaris orchestrator.<br><br>"
            f"State: {headline(self.snapshot) if self.snapshot else 'starting'}<br>Log: {self.log_file}",
        )
