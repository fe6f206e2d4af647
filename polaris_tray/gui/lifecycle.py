"""Start (worker thread, the tray whenever a host appears, or its fallback window) and Quit (everything
ends within 2 s, nothing is sent after it)."""

from __future__ import annotations

import logging
import os
import time
from typing import TYPE_CHECKING

from polaris_tray.console import EXIT_FAILED
from polaris_tray.core.heartbeat.runner import Quit
from polaris_tray.core.platform.autostart.base import AutostartError
from polaris_tray.gui.beat.background_call import BackgroundCall
from polaris_tray.gui.tray.presence import TrayPresence

if TYPE_CHECKING:
    from tempfile import TemporaryDirectory

    from PySide6.QtCore import QThread
    from PySide6.QtWidgets import QApplication

    from polaris_tray.core.config.run_plan import LaunchOptions
    from polaris_tray.core.platform.autostart.base import Autostart
    from polaris_tray.core.status.snapshot import Snapshot
    from polaris_tray.core.storage.history import HistoryStore
    from polaris_tray.demo.server import DemoOrchestrator
    from polaris_tray.gui.beat.wake_watch import WakeWatcher
    from polaris_tray.gui.beat.worker import HeartbeatWorker
    from polaris_tray.gui.settings.dialog import SettingsDialog
    from polaris_tray.gui.single_instance import SingleInstance
    from polaris_tray.gui.status.window import StatusWindow
    from polaris_tray.gui.tray.icon import TrayIcon

log = logging.getLogger(__name__)

TRAY_WAIT_LOGIN_S = 10.0  # at login the panel may come after us
TRAY_WAIT_S = 3.0
QUIT_BUDGET_MS = 1800
CALLS_BUDGET_S = 0.5  # background calls (Test connection) are cut first, so this is plenty
NO_TRAY_NOTICE = (
    "No system tray was found (on GNOME, install the AppIndicator extension). Polaris Tray keeps sending "
    "heartbeats; this window shows their state. Closing it keeps the agent running; use Quit to stop it."
)


class LifecycleMixin:
    """Mixed into AppController."""

    if TYPE_CHECKING:  # what AppController provides, declared for the type checker
        app: QApplication
        options: LaunchOptions
        instance: SingleInstance
        worker: HeartbeatWorker
        worker_thread: QThread
        tray: TrayIcon
        wake: WakeWatcher
        presence: TrayPresence
        autostart: Autostart
        demo: DemoOrchestrator | None
        _demo_dir: TemporaryDirectory[str]
        snapshot: Snapshot | None
        status_window: StatusWindow | None
        settings_dialog: SettingsDialog | None
        _history_reader: HistoryStore | None
        startup_warnings: list[str]
        _fallback_window: bool
        _quitting: bool
        _started: bool
        _tray_ready: bool

        def open_status(self) -> StatusWindow: ...
        def on_notice(self, text: str) -> None: ...
        def _maybe_first_run(self, snap: Snapshot) -> None: ...

    def start(self) -> None:
        self.worker_thread.start()
        try:
            if not self.demo and self.autostart.repair_if_stale():
                log.info("The start-at-login entry pointed at a program that moved; it now points here.")
        except AutostartError as exc:
            log.warning("%s", exc)
        wait_s = TRAY_WAIT_LOGIN_S if self.options.login else TRAY_WAIT_S
        self.presence = TrayPresence(self.tray, wait_s, self)
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
        window.set_notice(NO_TRAY_NOTICE)
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

    def quit(self) -> None:
        """The icon goes at once; every request is cut; the worker's thread is joined; the process ends
        within 2 s. Nothing queued before Quit (a Send now) sends anything after it."""
        if self._quitting:
            return
        self._quitting = True
        began = time.monotonic()
        log.info("Quitting")
        self.worker.submit(Quit())  # first: the request under way is cut and none starts from here on
        self.wake.stop()
        if hasattr(self, "presence"):
            self.presence.stop()
        self.tray.hide()
        for window in (self.status_window, self.settings_dialog):
            if window is not None:
                window.close()  # stops their timers before the history reader closes below
        calls_done = BackgroundCall.cancel_all(CALLS_BUDGET_S)
        left_ms = max(100, QUIT_BUDGET_MS - int((time.monotonic() - began) * 1000))
        if not self.worker_thread.wait(left_ms) or not calls_done:
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
