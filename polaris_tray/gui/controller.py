"""Wires the worker, the tray and the windows together. It routes; the core decides."""

from __future__ import annotations

import logging
import math
import os
import sqlite3
import time
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, QThread, QTimer, Signal, qVersion
from PySide6.QtWidgets import QApplication

from polaris_tray import APP_DISPLAY_NAME
from polaris_tray.console import EXIT_FAILED
from polaris_tray.core.config.run_plan import (
    InvalidOverride,
    LaunchOptions,
    RunPlan,
    overrides_from_message,
    plan_run,
)
from polaris_tray.core.config.settings import LoadResult, Settings, SettingsStore
from polaris_tray.core.platform.autostart.base import AutostartError
from polaris_tray.core.platform.autostart.factory import current_autostart
from polaris_tray.core.status.diagnostics import diagnostics_text
from polaris_tray.core.status.snapshot import NotificationPolicy, Snapshot
from polaris_tray.core.status.state import LinkState
from polaris_tray.core.storage import paths
from polaris_tray.core.storage.history import HistoryStore, default_history_path
from polaris_tray.core.storage.logs import setup_logging
from polaris_tray.gui.status_window import StatusWindow
from polaris_tray.gui.tray import TrayIcon
from polaris_tray.gui.tray_presence import TrayPresence
from polaris_tray.gui.wake_watch import WakeWatcher
from polaris_tray.gui.windows import WindowActions
from polaris_tray.gui.worker import HeartbeatWorker, WorkerConfig

log = logging.getLogger(__name__)

TRAY_WAIT_LOGIN_S = 10.0  # at login the panel may come after us
TRAY_WAIT_S = 3.0
QUIT_BUDGET_MS = 1800


class AppController(WindowActions, QObject):
    _start = Signal()
    _stop = Signal()
    _beat_now = Signal()
    _woke = Signal(float)
    _apply = Signal(object)
    _shutdown = Signal()

    def __init__(self, app: QApplication, options: LaunchOptions, instance) -> None:
        super().__init__()
        self.app = app
        self.options = options
        self.instance = instance
        self.demo = None
        if options.demo:
            from polaris_tray.demo.server import DemoOrchestrator

            self.demo = DemoOrchestrator().start()
        self.history_location = self._history_location()
        self._history_reader = None
        self._create_history()
        self.store = SettingsStore()
        loaded = LoadResult(Settings()) if self.demo else self.store.load()
        self.settings = loaded.settings
        self.startup_warnings = list(loaded.warnings)
        if getattr(instance, "listen_error", None):  # later launches cannot reach us: the user must know
            self.startup_warnings.append(instance.listen_error)
        # this run's overrides; the settings dialog sets a field to None when the user changes it
        asked = options.overrides
        self.overrides = {"server_url": asked.server_url, "interval_s": asked.interval_s}
        self.plan = self._plan(self.settings)
        self.log_file = setup_logging(self.plan.log_level, paths.log_dir())
        self.config = self._worker_config(self.plan)
        self.autostart = current_autostart()
        self.notifications = NotificationPolicy(enabled=self.settings.notifications)
        if os.environ.get("POLARIS_TRAY_TEST_NOTIFY_GAP_S"):  # the suite's short minute (tests/system)
            self.notifications.min_gap_s = float(os.environ["POLARIS_TRAY_TEST_NOTIFY_GAP_S"])
        self.snapshot: Snapshot | None = None
        self._state: LinkState | None = None
        self._first_run_done = False
        self._quitting = False
        self._tray_ready = False
        self._started = self._fallback_window = False
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
        self._woke.connect(self.worker.woke)
        self.wake = WakeWatcher(parent=self)
        self.wake.resumed.connect(self._woke)
        self.wake.network_up.connect(lambda: self._woke.emit(0.0))
        self._apply.connect(self.worker.apply)
        self._shutdown.connect(self.worker.shutdown)
        self.worker.snapshot.connect(self.on_snapshot)
        self.worker.notice.connect(self.on_notice)

        self.tray = TrayIcon(autostart_state=self._autostart_enabled, demo=bool(self.demo))
        self.tray.start_requested.connect(self._start)
        self.tray.stop_requested.connect(self._stop)
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

    def _plan(self, settings: Settings) -> RunPlan:
        overrides = replace(self.options.overrides, **self.overrides)
        return plan_run(settings, overrides, self.demo.endpoint() if self.demo else None)

    def _worker_config(self, plan: RunPlan, miner_id: str | None = None) -> WorkerConfig:
        """The plan in the worker's terms; miner_id None: resolved (or kept) in the worker thread."""
        return WorkerConfig(
            server_url=plan.server_url,
            interval_s=plan.interval_s,
            miner_id=plan.miner_id or miner_id,
            miner_origin=plan.miner_origin,
            start_beating=plan.start_beating,
            use_keyring=not plan.demo,
            history=self.history_location,
        )

    def apply_settings(self, settings: Settings, miner_id: str | None = None) -> None:
        """From the settings dialog: what it saved reaches the worker now (an override the user did not
        change stays in force: the dialog drops from self.overrides only the fields the user changed)."""
        self.settings = settings
        self.notifications.enabled = settings.notifications
        logging.getLogger().setLevel(settings.log_level)
        self._replan(miner_id)

    def _replan(self, miner_id: str | None = None) -> None:
        self.plan = self._plan(self.settings)
        self.config = self._worker_config(self.plan, miner_id)
        self._apply.emit(self.config)

    # --- start and the tray
    def start(self) -> None:
        self.thread.start()
        try:
            if not self.demo and self.autostart.repair_if_stale():
                log.info("The start-at-login entry pointed at a program that moved; it now points here.")
        except AutostartError as exc:
            log.warning("%s", exc)
        self.presence = TrayPresence(
            self.tray, TRAY_WAIT_LOGIN_S if self.options.login else TRAY_WAIT_S, self
        )
        self.presence.shown.connect(self._on_tray_shown)
        self.presence.missing.connect(self._on_tray_missing)
        self.presence.start()
        self.wake.start()

    def _on_tray_shown(self) -> None:
        self._tray_ready = True
        if self._fallback_window and self.status_window is not None:
            self.status_window.hide()  # it stood in for the icon; one the user opened stays
        self._after_start()

    def _on_tray_missing(self) -> None:
        self._tray_ready = False
        if self._quitting:
            return
        user_opened = self.status_window is not None and self.status_window.isVisible()
        window = self.open_status()
        self._fallback_window = not user_opened
        window.set_notice(
            "No system tray was found (on GNOME, install the AppIndicator extension). Polaris Tray keeps "
            "sending heartbeats; this window shows their state. Closing it keeps the agent running; use Quit "
            "to stop it."
        )
        self._after_start()

    def _after_start(self) -> None:
        if self._started:
            return
        self._started = True
        for warning in self.startup_warnings:
            self.on_notice(warning)
        self.startup_warnings.clear()
        if self.snapshot is not None:
            self._maybe_first_run(self.snapshot)

    # --- worker reports
    def on_snapshot(self, snap: Snapshot) -> None:
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
                self.tray.notify(APP_DISPLAY_NAME, message, critical=snap.state.colour.value == "red")
            self._notify_deferred(arm_only=True)
        self._maybe_first_run(snap)

    def _notify_deferred(self, arm_only: bool = False) -> None:
        """Deferred, not dropped: told when the minute is up (re-armed if a coarse timer fired early)."""
        message = None if arm_only else self.notifications.due(time.monotonic())
        if message and not self._quitting:
            self.tray.notify(APP_DISPLAY_NAME, message, critical=self._state.colour.value == "red")
        due = self.notifications.next_due_at()
        if due is not None and not self._quitting:
            QTimer.singleShot(max(0, math.ceil((due - time.monotonic()) * 1000)) + 1, self._notify_deferred)

    def _maybe_first_run(self, snap: Snapshot) -> None:
        """No miner id anywhere: open the settings (not at login: a login launch opens no dialog)."""
        if self._first_run_done or snap.state is not LinkState.UNCONFIGURED or self.options.login:
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

    def on_message(self, message: dict) -> None:
        """A later launch's request (see run_plan.handoff_message), checked here: it is another process."""
        if message.get("quit") is True:
            QTimer.singleShot(0, self.quit)
            return
        try:
            asked = overrides_from_message(message)
        except InvalidOverride as exc:
            log.warning("Ignored the arguments of a second launch: %s", exc)
        else:
            changed = {k: v for k, v in vars(asked).items() if k in self.overrides and v is not None}
            if changed:
                self.overrides.update(changed)
                self._replan()
        self.open_status()

    # --- quitting
    def quit(self) -> None:
        """The icon goes at once; the worker stops; its thread is joined; the process ends within 2 s."""
        if self._quitting:
            return
        self._quitting = True
        log.info("Quitting")
        self.wake.stop()
        if hasattr(self, "presence"):
            self.presence.stop()
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
            os._exit(EXIT_FAILED)  # not a clean exit: a supervisor must see it
        if self._history_reader is not None:
            self._history_reader.close()
        if self.demo:
            self.demo.stop()
            self._demo_dir.cleanup()
        self.app.quit()
