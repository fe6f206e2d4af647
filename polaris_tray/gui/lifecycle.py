"""Start (worker thread, the tray whenever a host appears, or its fallback window) and Quit (everything
ends within 2 s, nothing is sent after it)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from polaris_tray.console import EXIT_FAILED
from polaris_tray.core.platform.autostart.base import AutostartError
from polaris_tray.gui.beat.background_call import BackgroundCall
from polaris_tray.gui.tray.presence import TrayPresence

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from polaris_tray.core.platform.autostart.base import Autostart
    from polaris_tray.gui.beat.wake_watch import WakeWatcher
    from polaris_tray.gui.single_instance import SingleInstance
    from polaris_tray.gui.tray.icon import TrayIcon
    from polaris_tray.gui.window_keeper import WindowKeeper

log = logging.getLogger(__name__)

TRAY_WAIT_LOGIN_S = 10.0  # at login the panel may come after us
TRAY_WAIT_S = 3.0
QUIT_BUDGET_MS = 1800
CALLS_BUDGET_S = 0.5  # background calls (Test connection) are cut first, so this is plenty


class Lifecycle(QObject):
    """The worker's part comes from the controller, which holds the worker: start_worker starts its thread,
    quit_worker cuts the request under way, end_worker(budget_ms) shuts it down and says whether its
    thread ended in time. release closes what the controller opened, once the worker is gone. autostart is
    None when the entry must not be touched (demo mode). `started` comes once, when the icon is shown or
    the status window stands in for it: the moment the user can be told things."""

    started = Signal()

    def __init__(
        self,
        app: QApplication,
        instance: SingleInstance,
        tray: TrayIcon,
        windows: WindowKeeper,
        wake: WakeWatcher,
        *,
        login: bool,
        autostart: Autostart | None,
        start_worker: Callable[[], None],
        quit_worker: Callable[[], None],
        end_worker: Callable[[int], bool],
        release: Callable[[], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._app = app
        self._instance = instance
        self._tray = tray
        self._windows = windows
        self._wake = wake
        self._login = login
        self._autostart = autostart
        self._start_worker = start_worker
        self._quit_worker = quit_worker
        self._end_worker = end_worker
        self._release = release
        self._presence: TrayPresence | None = None
        self.tray_ready = False  # a host holds the icon: notifications can be shown
        self.quitting = False
        self._started = False

    def start(self) -> None:
        self._start_worker()
        try:
            if self._autostart is not None and self._autostart.repair_if_stale():
                log.info("The start-at-login entry pointed at a program that moved; it now points here.")
        except AutostartError as exc:
            log.warning("%s", exc)
        wait_s = TRAY_WAIT_LOGIN_S if self._login else TRAY_WAIT_S
        self._presence = TrayPresence(self._tray, wait_s, self)
        self._presence.shown.connect(self._on_tray_shown)
        self._presence.missing.connect(self._on_tray_missing)
        self._presence.start()
        self._wake.start()

    def _on_tray_shown(self) -> None:
        self.tray_ready = True
        self._windows.tray_shown()
        self._after_start()

    def _on_tray_missing(self) -> None:
        self.tray_ready = False
        if self.quitting:
            return
        self._windows.stand_in_for_tray()
        self._after_start()

    def _after_start(self) -> None:
        if not self._started:
            self._started = True
            self.started.emit()

    def quit(self) -> None:
        """The icon goes at once; every request is cut; the worker's thread is joined; the process ends
        within 2 s. Nothing queued before Quit (a Send now) sends anything after it."""
        if self.quitting:
            return
        self.quitting = True
        began = time.monotonic()
        log.info("Quitting")
        self._quit_worker()  # first: the request under way is cut and none starts from here on
        self._wake.stop()
        if self._presence is not None:
            self._presence.stop()
        self._tray.hide()
        self._windows.close_all()  # their timers stop before the history reader closes below
        calls_done = BackgroundCall.cancel_all(CALLS_BUDGET_S)
        left_ms = max(100, QUIT_BUDGET_MS - int((time.monotonic() - began) * 1000))
        if not self._end_worker(left_ms) or not calls_done:
            log.error("The heartbeat thread did not stop in time; exiting anyway")
            logging.shutdown()
            self._instance.release()
            os._exit(EXIT_FAILED)  # not a clean exit: a supervisor must see it
        self._release()
        self._app.quit()
