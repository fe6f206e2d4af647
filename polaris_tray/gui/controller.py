"""Wires the worker, the tray and the windows together. It routes; the core decides."""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import time
from pathlib import Path

from PySide6.QtCore import QObject, QThread, QTimer, Signal, qVersion
from PySide6.QtWidgets import QApplication

from polaris_tray import APP_DISPLAY_NAME
from polaris_tray.core.config.settings import LoadResult, Settings, SettingsStore
from polaris_tray.core.config.urls import InvalidServerUrl, normalize_server_url
from polaris_tray.core.platform.autostart.factory import current_autostart
from polaris_tray.core.status.diagnostics import diagnostics_text
from polaris_tray.core.status.snapshot import NotificationPolicy, Snapshot
from polaris_tray.core.status.state import Colour, LinkState
from polaris_tray.core.storage import paths
from polaris_tray.core.storage.history import HistoryStore, default_history_path
from polaris_tray.core.storage.logs import setup_logging
from polaris_tray.gui.lifecycle import LifecycleMixin
from polaris_tray.gui.status_window import StatusWindow
from polaris_tray.gui.tray import TrayIcon
from polaris_tray.gui.windows import WindowsMixin
from polaris_tray.gui.worker import HeartbeatWorker, MinerId, WorkerConfig

log = logging.getLogger(__name__)

BEATING = frozenset(
    {LinkState.CONNECTING, LinkState.ONLINE, LinkState.RETRYING, LinkState.OFFLINE, LinkState.ATTENTION}
)


class AppController(LifecycleMixin, WindowsMixin, QObject):
    """Controls that must act at once (Stop, Apply, Quit) interrupt the worker before queueing the command,
    and the tray shows their result at once: the worker thread may be inside a request."""

    _start = Signal()
    _stop = Signal()
    _beat_now = Signal()
    _apply = Signal(object)
    _apply_with_id = Signal(object, object)
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
        self._state: LinkState | None = None
        self._first_run_done = False
        self._quitting = False
        self._tray_ready = False
        self.status_window: StatusWindow | None = None
        self.settings_dialog = None

        self._stop_pending = False  # Stop shown; the worker has not confirmed it yet

        self.worker_thread = QThread()  # not "thread": that would hide QObject.thread()
        self.worker_thread.setObjectName("heartbeat")
        miner = None
        if self.demo:
            from polaris_tray.demo.server import DEMO_MINER_ID

            miner = MinerId(DEMO_MINER_ID, "demo")
        self.worker = HeartbeatWorker(self.config, miner, look_up_id=not self.demo)
        self.worker.moveToThread(self.worker_thread)
        self.worker_thread.started.connect(self.worker.boot)
        self._start.connect(self.worker.start)
        self._stop.connect(self.worker.stop)
        self._beat_now.connect(self.worker.beat_now)
        self._apply.connect(self.worker.apply)
        self._apply_with_id.connect(self.worker.apply_with_id)
        self._shutdown.connect(self.worker.shutdown)
        self.worker.snapshot.connect(self.on_snapshot)
        self.worker.notice.connect(self.on_notice)

        self.tray = TrayIcon(autostart_state=self._autostart_enabled, demo=bool(self.demo))
        self.tray.start_requested.connect(self.request_start)
        self.tray.stop_requested.connect(self.request_stop)
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
        return diagnostics_text(
            self.snapshot,
            self.settings,
            reader.recent(20) if reader else [],
            qt_version=qVersion(),
            now_wall=time.time(),
        )

    def _read_overrides(self, args) -> None:
        if getattr(args, "server_url", None):
            self.overrides["server_url"] = normalize_server_url(args.server_url)
        if getattr(args, "interval", None):
            self.overrides["interval_s"] = float(args.interval)

    def _worker_config(self, settings: Settings) -> WorkerConfig:
        if self.demo:
            from polaris_tray.demo.server import DEMO_INTERVAL_S

            interval = self.overrides["interval_s"] or DEMO_INTERVAL_S
            return WorkerConfig(self.demo.url, interval, start_beating=True, history=self.history_location)
        return WorkerConfig(
            server_url=self.overrides["server_url"] or settings.server_url,
            interval_s=self.overrides["interval_s"] or settings.interval_s,
            start_beating=settings.start_heartbeat_on_launch,
            history=self.history_location,
        )

    def apply_settings(self, settings: Settings, miner_id: str | None = None) -> None:
        """From the settings dialog (miner_id: one just stored, or None when the field was left empty):
        saved values replace this run's overrides and reach the worker now, cutting a request under way."""
        self.settings = settings
        self.overrides = {"server_url": None, "interval_s": None}
        self.notifications.enabled = settings.notifications
        logging.getLogger().setLevel(settings.log_level)
        self._send_config(self._worker_config(settings), MinerId(miner_id, "keyring") if miner_id else None)

    def _send_config(self, config: WorkerConfig, miner: MinerId | None = None) -> None:
        self.config = config
        self.worker.interrupt()
        if miner is not None:
            self._apply_with_id.emit(config, miner)
        else:
            self._apply.emit(config)

    # --- controls that act at once
    def request_start(self) -> None:
        self._stop_pending = False
        self._start.emit()

    def request_stop(self) -> None:
        """The request under way is cut and the tray says Stopped now, not when the worker gets to it."""
        self.worker.interrupt()
        self._stop.emit()
        self._stop_pending = True
        if self.snapshot is not None and self.snapshot.running:
            stopped = dataclasses.replace(self.snapshot, state=LinkState.STOPPED, next_attempt_wall=None)
            self._show(stopped)

    # --- worker reports
    def on_snapshot(self, snap: Snapshot) -> None:
        if self._stop_pending:
            if snap.state in BEATING:
                return  # from before the Stop was handled: the tray already says Stopped
            self._stop_pending = False
        self._show(snap)

    def _show(self, snap: Snapshot) -> None:
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
                self._send_config(self._worker_config(self.settings))
            else:
                self._start_if_waiting()
        self.open_status()

    def _start_if_waiting(self) -> None:
        """A second launch while the keyring keeps the id from us: look again at once."""
        if self.snapshot is not None and self.snapshot.state is LinkState.KEYRING_WAIT:
            self._start.emit()
