"""Wires the worker, the tray and the windows together. It routes; the core decides."""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path

from PySide6.QtCore import QObject, QThread, QTimer, Signal, qVersion
from PySide6.QtWidgets import QApplication, QMessageBox, QSystemTrayIcon

from polaris_tray import APP_DISPLAY_NAME, __version__
from polaris_tray.core.config.settings import LoadResult, Settings, SettingsStore
from polaris_tray.core.config.urls import InvalidServerUrl, normalize_server_url
from polaris_tray.core.platform.autostart.base import AutostartError
from polaris_tray.core.platform.autostart.factory import current_autostart
from polaris_tray.core.status.diagnostics import InUse, diagnostics_text
from polaris_tray.core.status.snapshot import NotificationPolicy, Snapshot, headline
from polaris_tray.core.status.state import Colour, LinkState
from polaris_tray.core.status.uptime_cache import TRAY_EVERY_S, UptimeCache, with_uptime
from polaris_tray.core.storage import paths
from polaris_tray.core.storage.history import HistoryStore, default_history_path
from polaris_tray.core.storage.logs import setup_logging
from polaris_tray.gui.desktop import open_folder
from polaris_tray.gui.status_window import StatusWindow
from polaris_tray.gui.stop_warning import guarded_stop
from polaris_tray.gui.tray import TrayIcon
from polaris_tray.gui.worker import HeartbeatWorker, WorkerConfig

log = logging.getLogger(__name__)

TRAY_WAIT_LOGIN_S = 10.0  # at login the panel may come after us
TRAY_WAIT_S = 3.0
TRAY_POLL_MS = 250
QUIT_BUDGET_MS = 1800


class AppController(QObject):
    _start = Signal()
    _stop = Signal()
    _beat_now = Signal()
    _apply = Signal(object)
    _shutdown = Signal()

    def __init__(self, app: QApplication, args, instance) -> None:
        super().__init__()
        self.app = app
        self.args = args
        self.instance = instance
        self.demo = None
        if args.demo:
            from polaris_tray.demo.server import DemoOrchestrator

            self.demo = DemoOrchestrator().start()
        self.history_location = self._history_location()
        self._history_reader = None
        self._create_history()
        self.store = SettingsStore()
        loaded = LoadResult(Settings()) if self.demo else self.store.load()
        self.settings = loaded.settings
        self.startup_warnings = list(loaded.warnings)
        self.log_file = setup_logging(args.log_level or self.settings.log_level, paths.log_dir())
        self.overrides = {"server_url": None, "interval_s": None}
        self._read_overrides(args)
        self.config = self._worker_config(self.settings)
        self.autostart = current_autostart()
        self.notifications = NotificationPolicy(enabled=self.settings.notifications)
        self.snapshot: Snapshot | None = None
        self._uptime = UptimeCache(fast_every_s=TRAY_EVERY_S, horizon_s=3600.0)  # the tooltip's last hour
        self._state: LinkState | None = None
        self._first_run_done = False
        self._quitting = False
        self._tray_ready = False
        self.status_window: StatusWindow | None = None
        self.settings_dialog = None

        self.thread = QThread()
        self.thread.setObjectName("heartbeat")
        self.worker = HeartbeatWorker(self.config)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.boot)
        self._start.connect(self.worker.start)
        self._stop.connect(self.worker.stop)
        self._beat_now.connect(self.worker.beat_now)
        self._apply.connect(self.worker.apply)
        self._shutdown.connect(self.worker.shutdown)
        self.worker.snapshot.connect(self.on_snapshot)
        self.worker.notice.connect(self.on_notice)

        self.tray = TrayIcon(autostart_state=self._autostart_enabled, demo=bool(self.demo))
        self.tray.start_requested.connect(self._start)
        self.tray.stop_requested.connect(lambda: guarded_stop(self))
        self.tray.beat_now_requested.connect(self._beat_now)
        self.tray.settings_requested.connect(self.open_settings)
        self.tray.status_requested.connect(self.open_status)
        self.tray.autostart_toggled.connect(self.set_autostart)
        self.tray.open_log_requested.connect(self.open_log_folder)
        self.tray.about_requested.connect(self.about)
        self.tray.quit_requested.connect(self.quit)
        instance.message.connect(self.on_message)
        app.aboutToQuit.connect(self.quit)
        app.commitDataRequest.connect(lambda *_: self.quit())  # the session is ending

    # --- configuration
    def _history_location(self) -> str:
        if self.demo:
            import tempfile

            self._demo_dir = tempfile.TemporaryDirectory(prefix="polaris-demo-")
            return str(Path(self._demo_dir.name) / "history.sqlite3")
        return str(default_history_path())

    def _create_history(self) -> None:
        """Created (and pruned) once, before the worker thread starts: readers then only ever read."""
        try:
            HistoryStore(self.history_location).close()
        except (sqlite3.Error, OSError) as exc:
            log.warning("History is off: %s", exc)

    def history_reader(self):
        """The GUI thread's own read-only connection (sqlite connections are per thread)."""
        if self._history_reader is None:
            try:
                self._history_reader = HistoryStore(self.history_location, readonly=True)
            except (sqlite3.Error, OSError) as exc:
                log.warning("History cannot be read: %s", exc)
        return self._history_reader

    def diagnostics(self) -> str:
        reader = self.history_reader()
        tag = self.snapshot.miner_tag if self.snapshot else None
        flags = {"server_url": "--server-url", "interval_s": "--interval"}
        overrides = tuple(flags[k] for k, v in self.overrides.items() if v)
        return diagnostics_text(
            self.snapshot,
            self.settings,
            reader.recent(20, miner=tag) if reader else [],
            qt_version=qVersion(),
            now_wall=time.time(),
            in_use=InUse(self.config.server_url, self.config.interval_s, bool(self.demo), overrides),
        )

    def _read_overrides(self, args) -> None:
        if getattr(args, "server_url", None):
            self.overrides["server_url"] = normalize_server_url(args.server_url)
        if getattr(args, "interval", None):
            self.overrides["interval_s"] = float(args.interval)

    def _worker_config(self, settings: Settings, miner_id: str | None = None) -> WorkerConfig:
        if self.demo:
            from polaris_tray.demo.server import DEMO_INTERVAL_S, DEMO_MINER_ID

            return WorkerConfig(
                self.demo.url,
                self.overrides["interval_s"] or DEMO_INTERVAL_S,
                DEMO_MINER_ID,
                "demo",
                start_beating=True,
                use_keyring=False,
                history=self.history_location,
            )
        return WorkerConfig(
            server_url=self.overrides["server_url"] or settings.server_url,
            interval_s=self.overrides["interval_s"] or settings.interval_s,
            miner_id=miner_id,
            start_beating=settings.start_heartbeat_on_launch,
            history=self.history_location,
        )

    def apply_settings(self, settings: Settings, miner_id: str | None = None) -> None:
        """From the settings dialog: saved values replace this run's overrides and reach the worker now."""
        self.settings = settings
        self.overrides = {"server_url": None, "interval_s": None}
        self.notifications.enabled = settings.notifications
        logging.getLogger().setLevel(settings.log_level)
        self.config = self._worker_config(settings, miner_id)
        self._apply.emit(self.config)

    # --- start and the tray
    def start(self) -> None:
        self.thread.start()
        try:
            if not self.demo and self.autostart.repair_if_stale():
                log.info("The start-at-login entry pointed at a program that moved; it now points here.")
        except AutostartError as exc:
            log.warning("%s", exc)
        self._tray_deadline = time.monotonic() + (TRAY_WAIT_LOGIN_S if self.args.login else TRAY_WAIT_S)
        self._check_tray()

    def _check_tray(self) -> None:
        if self._quitting:
            return
        if QSystemTrayIcon.isSystemTrayAvailable():
            self._tray_ready = True
            self.tray.show()
            log.info("Tray icon shown")
            self._after_start()
            return
        if time.monotonic() < self._tray_deadline:
            QTimer.singleShot(TRAY_POLL_MS, self._check_tray)
            return
        log.warning("No system tray found; showing the status window instead")
        window = self.open_status()
        window.set_notice(
            "No system tray was found (on GNOME, install the AppIndicator extension). Polaris Tray keeps "
            "sending heartbeats; this window shows their state. Closing it keeps the agent running; use Quit "
            "to stop it."
        )
        self._after_start()

    def _after_start(self) -> None:
        for warning in self.startup_warnings:
            self.on_notice(warning)
        self.startup_warnings.clear()
        if self.snapshot is not None:
            self._maybe_first_run(self.snapshot)

    # --- worker reports
    def on_snapshot(self, snap: Snapshot) -> None:
        snap = with_uptime(snap, self.history_reader, self._uptime, time.time())
        previous, self.snapshot = self._state, snap
        self._state = snap.state
        self.tray.show_snapshot(snap)
        if self.status_window is not None:
            self.status_window.show_snapshot(snap)
        if previous is not snap.state:
            log.info("State %s -> %s", previous.value if previous else "start", snap.state.value)
            detail = snap.last_outcome.error if snap.last_outcome and snap.last_outcome.error else ""
            message = self.notifications.consider(snap.state, time.monotonic(), detail or "")
            if message:
                self.tray.notify(APP_DISPLAY_NAME, message, critical=snap.state.colour is Colour.RED)
        self._maybe_first_run(snap)

    def _maybe_first_run(self, snap: Snapshot) -> None:
        """No miner id anywhere: open the settings (not at login: a login launch opens no dialog)."""
        if self._first_run_done or snap.state is not LinkState.UNCONFIGURED or self.args.login:
            return
        if not (self._tray_ready or self.status_window is not None):
            return
        self._first_run_done = True
        self.open_settings(first_run=True)

    def on_notice(self, text: str) -> None:
        log.info("%s", text)
        if self._tray_ready:
            self.tray.notify(APP_DISPLAY_NAME, text)
        elif self.status_window is not None:
            self.status_window.set_notice(text)

    def on_message(self, arguments: list) -> None:
        """A later launch's command line."""
        if "--quit" in arguments:
            QTimer.singleShot(0, self.quit)
            return
        from polaris_tray.cli import build_parser

        try:
            args, _unknown = build_parser().parse_known_args(arguments)
            self._read_overrides(args)
        except (SystemExit, InvalidServerUrl) as exc:
            log.warning("Ignored the arguments of a second launch: %s", exc)
        else:
            if args.server_url or args.interval:
                self.config = self._worker_config(self.settings)
                self._apply.emit(self.config)
        self.open_status()

    # --- windows
    def open_status(self) -> StatusWindow:
        if self.status_window is None:
            self.status_window = StatusWindow(self.history_reader(), self.diagnostics, demo=bool(self.demo))
            self.worker.outcome.connect(self.status_window.history_changed)
            self.status_window.start_requested.connect(self._start)
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

    # --- quitting
    def quit(self) -> None:
        """The icon goes at once; the worker stops; its thread is joined; the process ends within 2 s."""
        if self._quitting:
            return
        self._quitting = True
        log.info("Quitting")
        self.tray.hide()
        for window in (self.status_window, self.settings_dialog):
            if window is not None:
                window.close()  # stops their timers before the history reader closes below
        self.worker.abort()
        self._shutdown.emit()
        if not self.thread.wait(QUIT_BUDGET_MS):
            log.error("The heartbeat thread did not stop in time; exiting anyway")
            logging.shutdown()
            self.instance.release()
            os._exit(0)
        if self._history_reader is not None:
            self._history_reader.close()
        if self.demo:
            self.demo.stop()
            self._demo_dir.cleanup()
        self.app.quit()
