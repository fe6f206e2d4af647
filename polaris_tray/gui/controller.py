"""Wires the worker, the tray and the windows together. It routes; the core decides.

It holds the settings in force, the run plan and the worker, and three collaborators it builds with explicit
arguments: the Lifecycle (start, the tray's presence, Quit), the WindowKeeper (the windows and the menu's
one-off actions) and the StopGuard (the Stop warning).
"""

from __future__ import annotations

import logging
import math
import os
import sqlite3
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, QTimer, qVersion
from PySide6.QtWidgets import QApplication

from polaris_tray import APP_DISPLAY_NAME
from polaris_tray.core.config.run_plan import (
    InvalidOverride,
    LaunchOptions,
    RunPlan,
    overrides_from_message,
    plan_run,
)
from polaris_tray.core.config.settings import LoadResult, Settings, SettingsStore
from polaris_tray.core.heartbeat.runner import (
    Apply,
    Attempted,
    Event,
    LookAgain,
    MinerId,
    Notice,
    Published,
    Quit,
    SendNow,
    Start,
    Stop,
    Woke,
)
from polaris_tray.core.platform.autostart.factory import current_autostart
from polaris_tray.core.status.diagnostics import InUse, diagnostics_text
from polaris_tray.core.status.snapshot import NotificationPolicy, Snapshot, state_words
from polaris_tray.core.status.state_log import StateLog
from polaris_tray.core.status.uptime_cache import TRAY_EVERY_S, UptimeCache, with_uptime
from polaris_tray.core.storage import paths
from polaris_tray.core.storage.history import HistoryStore, default_history_path
from polaris_tray.core.storage.logs import setup_logging
from polaris_tray.core.values.link_state import Colour, LinkState
from polaris_tray.gui.beat.wake_watch import WakeWatcher
from polaris_tray.gui.beat.worker import HeartbeatWorker, WorkerConfig
from polaris_tray.gui.lifecycle import Lifecycle
from polaris_tray.gui.single_instance import SingleInstance
from polaris_tray.gui.stop_warning import StopGuard
from polaris_tray.gui.tray.icon import TrayIcon
from polaris_tray.gui.window_keeper import WindowKeeper

log = logging.getLogger(__name__)

BEATING = frozenset(
    {LinkState.CONNECTING, LinkState.ONLINE, LinkState.RETRYING, LinkState.OFFLINE, LinkState.ATTENTION}
)


class AppController(QObject):
    """Commands go to the worker with submit() (Stop, Apply and Quit cut the request under way there), and
    the tray shows their result at once: the worker thread may be inside a request."""

    def __init__(self, app: QApplication, options: LaunchOptions, instance: SingleInstance) -> None:
        super().__init__()
        self.app = app
        self.options = options
        self.instance = instance
        self.demo = None
        if options.demo:
            from polaris_tray.demo.server import DemoOrchestrator

            self.demo = DemoOrchestrator().start()
        self.history_location = self._history_location()
        self._history_reader: HistoryStore | None = None
        self._create_history()
        self.store = SettingsStore()
        loaded = LoadResult(Settings()) if self.demo else self.store.load()
        self.settings = loaded.settings
        self.startup_warnings = list(loaded.warnings)
        if instance.listen_error:  # later launches cannot reach us: the user must know
            self.startup_warnings.append(instance.listen_error)
        # this run's overrides; the settings dialog sets a field to None when the user changes it
        asked = options.overrides
        self.overrides: dict[str, Any] = {"server_url": asked.server_url, "interval_s": asked.interval_s}
        self.plan = self._plan(self.settings)
        self.log_file = setup_logging(self.plan.log_level, paths.log_dir())
        self.config = self._worker_config(self.plan)
        self.autostart = current_autostart()
        self.notifications = NotificationPolicy(enabled=self.settings.notifications)
        if os.environ.get("POLARIS_TRAY_TEST_NOTIFY_GAP_S"):  # the suite's short minute (tests/system)
            self.notifications.min_gap_s = float(os.environ["POLARIS_TRAY_TEST_NOTIFY_GAP_S"])
        self.snapshot: Snapshot | None = None
        self._uptime = UptimeCache(fast_every_s=TRAY_EVERY_S, horizon_s=3600.0)  # the tooltip's last hour
        self._state: LinkState | None = None
        self._state_log = StateLog()
        self._first_run_done = False
        self._stop_pending = False  # Stop shown; the worker has not confirmed it yet

        # a thread: the runner's attempts wait on the network and the keyring; the GUI thread must not
        self.worker_thread = QThread()  # not "thread": that would hide QObject.thread()
        self.worker_thread.setObjectName("heartbeat")
        known = MinerId(self.plan.miner_id, self.plan.miner_origin) if self.plan.miner_id else None
        self.worker = HeartbeatWorker(self.config, known, look_up_id=not self.plan.demo)
        self.worker.moveToThread(self.worker_thread)
        self.worker_thread.started.connect(self.worker.boot)
        self.wake = WakeWatcher(parent=self)
        self.wake.resumed.connect(lambda slept: self.worker.submit(Woke(slept)))
        self.wake.network_up.connect(lambda: self.worker.submit(Woke(0.0)))
        self.worker.beat_event.connect(self.on_beat_event)

        self.windows = WindowKeeper(
            store=self.store,
            autostart=self.autostart,
            demo=bool(self.demo),
            log_file=self.log_file,
            snapshot=lambda: self.snapshot,
            settings=lambda: self.settings,
            overrides=self.overrides,
            in_effect=lambda: self.config,
            history_reader=self.history_reader,
            diagnostics=self.diagnostics,
            parent=self,
        )
        self.stop_guard = StopGuard(
            snapshot=lambda: self.snapshot,
            settings=lambda: self.settings,
            remember=self.keep_settings,
            stop=self.request_stop,
        )
        self.tray = TrayIcon(autostart_state=self.windows.autostart_enabled, demo=bool(self.demo))
        self.lifecycle = Lifecycle(
            app,
            instance,
            self.tray,
            self.windows,
            self.wake,
            login=options.login,
            autostart=None if self.demo else self.autostart,
            start_worker=self._start_worker,
            quit_worker=self._quit_worker,
            end_worker=self._end_worker,
            release=self._release,
            parent=self,
        )
        self.lifecycle.started.connect(self._after_start)
        for requests in (self.tray, self.windows):
            requests.start_requested.connect(self.request_start)
            requests.stop_requested.connect(self.stop_guard.ask)
            requests.quit_requested.connect(self.lifecycle.quit)
        self.windows.settings_applied.connect(self.apply_settings)
        self.windows.told_offline.connect(self.worker.submit)  # a Stopped tray: Test or Diagnose said offline
        self.tray.beat_now_requested.connect(lambda: self.worker.submit(SendNow()))
        self.tray.send_now_waits.connect(self.windows.tell_send_now)
        self.tray.settings_requested.connect(self.windows.open_settings)
        self.tray.status_requested.connect(self.windows.open_status)
        self.tray.autostart_toggled.connect(self.windows.set_autostart)
        self.tray.open_log_requested.connect(self.windows.open_log_folder)
        self.tray.about_requested.connect(self.windows.about)
        instance.message.connect(self.on_message)
        app.aboutToQuit.connect(self.lifecycle.quit)
        app.commitDataRequest.connect(lambda *_: self.lifecycle.quit())  # the session is ending

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

    def history_reader(self) -> HistoryStore | None:
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

    def _plan(self, settings: Settings) -> RunPlan:
        overrides = replace(self.options.overrides, **self.overrides)
        return plan_run(settings, overrides, self.demo.endpoint() if self.demo else None)

    def _worker_config(self, plan: RunPlan) -> WorkerConfig:
        """The plan in the worker's terms; the miner id travels apart, as a MinerId, only when it changes."""
        return WorkerConfig(
            server_url=plan.server_url,
            interval_s=plan.interval_s,
            start_beating=plan.start_beating,
            history=self.history_location,
        )

    def keep_settings(self, settings: Settings) -> None:
        """Settings changed outside the dialog (the Stop warning's "Don't ask again"): in force at once,
        and saved (not in demo mode, which saves nothing)."""
        self.settings = settings
        if not self.demo:
            self.store.save(settings)

    def apply_settings(self, settings: Settings, miner_id: str | None = None) -> None:
        """From the settings dialog: what it saved reaches the worker now (an override the user did not
        change stays in force: the dialog drops from self.overrides only the fields the user changed)."""
        self.settings = settings
        self.notifications.enabled = settings.notifications
        logging.getLogger().setLevel(settings.log_level)
        self._replan(miner_id)

    def _replan(self, miner_id: str | None = None) -> None:
        """miner_id: one just stored by the dialog, or None to keep the id in use. The request under way is
        cut first, so the new server or id is used at once."""
        self.plan = self._plan(self.settings)
        self.config = self._worker_config(self.plan)
        self.worker.submit(Apply(self.config, MinerId(miner_id, "keyring") if miner_id else None))

    # --- controls that act at once
    def request_start(self) -> None:
        self._stop_pending = False
        self.worker.submit(Start())

    def request_stop(self) -> None:
        """The request under way is cut and the tray says Stopped now, not when the worker gets to it."""
        self.worker.submit(Stop())
        self._stop_pending = True
        if self.snapshot is not None and self.snapshot.running:
            stopped = replace(self.snapshot, state=LinkState.STOPPED, next_attempt_wall=None, words=None)
            self._show(stopped)

    # --- the worker's thread, started and ended by the Lifecycle
    def _start_worker(self) -> None:
        self.worker_thread.start()

    def _quit_worker(self) -> None:
        self.worker.submit(Quit())  # the request under way is cut, none starts after, the thread ends

    def _end_worker(self, left_ms: int) -> bool:
        thread = self.worker_thread
        if not (thread.isRunning() or thread.isFinished()):  # Quit before the start: the runner never ran
            self.worker.end_unstarted()
            return True
        return thread.wait(left_ms)

    def _release(self) -> None:
        """After the worker's thread has ended: what the controller opened."""
        if self._history_reader is not None:
            self._history_reader.close()
        if self.demo:
            self.demo.stop()
            self._demo_dir.cleanup()

    # --- worker reports
    def on_beat_event(self, event: Event) -> None:
        """The worker's one signal: a snapshot to show, an attempt for the history's views, a notice."""
        if isinstance(event, Published):
            self.on_snapshot(event.snapshot)
        elif isinstance(event, Attempted):
            if not event.goodbye:
                self.windows.history_changed()
        elif isinstance(event, Notice):
            self.on_notice(event.text)

    def on_snapshot(self, snap: Snapshot) -> None:
        if self._stop_pending:
            if snap.state in BEATING:
                return  # from before the Stop was handled: the tray already says Stopped
            self._stop_pending = False
        self._show(snap)

    def _show(self, snap: Snapshot) -> None:
        snap = with_uptime(snap, self.history_reader, self._uptime, time.time())
        previous, self.snapshot = self._state, snap
        self._state = snap.state
        # for --doctor: does this tray beat now?
        self.instance.lock.note_beating(snap.state in BEATING and not self.demo, snap.server_url)
        self.tray.show_snapshot(snap)
        self.windows.show_snapshot(snap)
        for line in self._state_log.lines(snap.state, state_words(snap), snap.last_outcome):
            log.info("%s", line)  # the same lines as headless
        if previous is not snap.state:
            detail = snap.last_outcome.error if snap.last_outcome and snap.last_outcome.error else ""
            message = self.notifications.consider(snap.state, time.monotonic(), detail or "")
            if message:
                self.tray.notify(APP_DISPLAY_NAME, message, critical=snap.state.colour is Colour.RED)
            self._notify_deferred(arm_only=True)
        self._maybe_first_run(snap)

    def _notify_deferred(self, arm_only: bool = False) -> None:
        """Deferred, not dropped: told when the minute is up (re-armed if a coarse timer fired early)."""
        message = None if arm_only else self.notifications.due(time.monotonic())
        if message and not self.lifecycle.quitting:
            self.tray.notify(
                APP_DISPLAY_NAME,
                message,
                critical=self._state is not None and self._state.colour is Colour.RED,
            )
        due = self.notifications.next_due_at()
        if due is not None and not self.lifecycle.quitting:
            QTimer.singleShot(max(0, math.ceil((due - time.monotonic()) * 1000)) + 1, self._notify_deferred)

    def _after_start(self) -> None:
        """The icon is shown, or the status window stands in for it: what waited for it is said now."""
        for warning in self.startup_warnings:
            self.on_notice(warning)
        self.startup_warnings.clear()
        if self.snapshot is not None:
            self._maybe_first_run(self.snapshot)

    def _maybe_first_run(self, snap: Snapshot) -> None:
        """No miner id anywhere: open the settings (not at login: a login launch opens no dialog)."""
        if self._first_run_done or snap.state is not LinkState.UNCONFIGURED or self.options.login:
            return
        if not (self.lifecycle.tray_ready or self.windows.status_window is not None):
            return
        self._first_run_done = True
        self.windows.open_settings(first_run=True)

    def on_notice(self, text: str) -> None:
        log.info("%s", text)
        if self.lifecycle.tray_ready:
            self.tray.notify(APP_DISPLAY_NAME, text)
        else:
            self.windows.tell(text)

    def on_message(self, message: dict[str, Any]) -> None:
        """A later launch's request (see run_plan.handoff_message), checked here: it is another process."""
        if message.get("quit") is True:
            QTimer.singleShot(0, self.lifecycle.quit)
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
            else:
                self._start_if_waiting()
        self.windows.open_status()

    def _start_if_waiting(self) -> None:
        """A second launch (or --set-miner-id) while the keyring keeps the id from us, or held none: look
        again at once (an id stored meanwhile by --set-miner-id is used without a restart)."""
        if self.snapshot is not None and self.snapshot.state is LinkState.KEYRING_WAIT:
            self.worker.submit(Start())
        elif self.snapshot is not None and self.snapshot.state is LinkState.UNCONFIGURED:
            self.worker.submit(LookAgain())  # the keyring, once more: --set-miner-id may have stored one
