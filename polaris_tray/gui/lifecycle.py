"""Start (worker thread, tray or its fallback window) and Quit (everything ends within 2 s)."""

from __future__ import annotations

import logging
import os
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QSystemTrayIcon

from polaris_tray.core.platform.autostart.base import AutostartError
from polaris_tray.gui.background import BackgroundCall

log = logging.getLogger(__name__)

TRAY_WAIT_LOGIN_S = 10.0  # at login the panel may come after us
TRAY_WAIT_S = 3.0
TRAY_POLL_MS = 250
QUIT_BUDGET_MS = 1800
CALLS_BUDGET_S = 0.5  # background calls (Test connection) are cut first, so this is plenty


class LifecycleMixin:
    """Mixed into AppController."""

    def start(self) -> None:
        self.worker_thread.start()
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

    def quit(self) -> None:
        """The icon goes at once; every request is cut; the worker's thread is joined; the process ends
        within 2 s. Nothing queued before Quit (a Send now) sends anything after it."""
        if self._quitting:
            return
        self._quitting = True
        began = time.monotonic()
        log.info("Quitting")
        self.worker.interrupt()  # first: no request starts from here on
        self.tray.hide()
        for window in (self.status_window, self.settings_dialog):
            if window is not None:
                window.close()  # stops their timers before the history reader closes below
        calls_done = BackgroundCall.cancel_all(CALLS_BUDGET_S)
        self._shutdown.emit()
        left_ms = max(100, QUIT_BUDGET_MS - int((time.monotonic() - began) * 1000))
        if not self.worker_thread.wait(left_ms) or not calls_done:
            log.error("The heartbeat thread did not stop in time; exiting anyway")
            logging.shutdown()
            self.instance.release()
            os._exit(3)  # an emergency exit is not a success
        if self._history_reader is not None:
            self._history_reader.close()
        if self.demo:
            self.demo.stop()
            self._demo_dir.cleanup()
        self.app.quit()
