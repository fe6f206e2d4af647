"""The heartbeat worker: a QObject living in its own QThread, paced by a precise single-shot QTimer.

Everything that can block (the keyring, the network) happens here, never on the GUI thread. The GUI talks
to it through queued signals; only abort() is called directly, to cut a hanging request at once.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import time
from dataclasses import dataclass, replace

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from polaris_tray.core.config.miner_id import resolve_miner_id
from polaris_tray.core.config.secret_store import SecretStore
from polaris_tray.core.heartbeat.engine import HeartbeatEngine
from polaris_tray.core.heartbeat.pacemaker import Pacemaker
from polaris_tray.core.status.outcome import Outcome
from polaris_tray.core.status.snapshot import Snapshot
from polaris_tray.core.status.state import StateTracker
from polaris_tray.core.storage.history import HistoryStore
from polaris_tray.core.storage.redact import mask_secret

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerConfig:
    server_url: str
    interval_s: float
    miner_id: str | None = None  # None: resolved (keyring, legacy files) in the worker thread
    miner_origin: str = "none"
    start_beating: bool = True
    use_keyring: bool = True
    history: str | None = None  # where attempts are recorded (a path or a sqlite URI); None: nowhere


class HeartbeatWorker(QObject):
    snapshot = Signal(object)  # Snapshot
    outcome = Signal(object)  # Outcome, for history
    notice = Signal(str)  # one-off messages for the user (an import, a keyring problem)

    def __init__(self, config: WorkerConfig, clock=time.monotonic, time_scale: float = 1.0) -> None:
        """clock: monotonic seconds; time_scale: real seconds per clock second (tests run a fast clock)."""
        super().__init__()
        self._config = config
        self._clock = clock
        self._scale = time_scale
        self._pm: Pacemaker | None = None
        self._tracker = StateTracker()
        self._beat_timer: QTimer | None = None
        self._change_timer: QTimer | None = None
        self._history = None

    # --- lifecycle (all slots run in the worker thread)
    @Slot()
    def boot(self) -> None:
        self._beat_timer = QTimer(self)
        self._beat_timer.setSingleShot(True)
        self._beat_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._beat_timer.timeout.connect(self._on_due)
        self._change_timer = QTimer(self)
        self._change_timer.setSingleShot(True)
        self._change_timer.timeout.connect(self._publish)
        self._open_history()
        if self._config.miner_id is None and self._config.use_keyring:
            self._resolve_miner_id()
        self._tracker.configured = bool(self._config.miner_id)
        if self._config.start_beating and self._config.miner_id:
            self.start()
        else:
            self._publish()

    def _open_history(self) -> None:
        if not self._config.history:
            return
        try:
            self._history = HistoryStore(self._config.history)
        except (sqlite3.Error, OSError) as exc:
            log.warning("History is off: %s", exc)

    def _record(self, outcome: Outcome, goodbye: bool = False) -> None:
        if self._history is None:
            return
        try:
            self._history.record(outcome, miner_id=self._config.miner_id, goodbye=goodbye)
        except sqlite3.Error as exc:  # a full disk must not stop the heartbeat
            log.warning("History is off: %s", exc)
            self._history = None

    def _resolve_miner_id(self) -> None:
        resolution = resolve_miner_id(SecretStore())
        for notice in resolution.notices:
            self.notice.emit(notice)
        if resolution.miner_id:
            self._config = replace(self._config, miner_id=resolution.miner_id, miner_origin=resolution.origin)
        elif resolution.keyring_error:
            self.notice.emit(resolution.keyring_error)

    @Slot()
    def start(self) -> None:
        if not self._config.miner_id:
            self._tracker.configured = False
            self._publish()
            return
        if self._pm is None:
            engine = HeartbeatEngine(self._config.server_url, self._config.miner_id)
            self._pm = Pacemaker(engine, self._config.interval_s, clock=self._clock, tracker=self._tracker)
        self._pm.start()
        self._arm()
        self._publish()

    @Slot()
    def stop(self) -> None:
        if self._beat_timer:
            self._beat_timer.stop()
        if self._pm is not None:
            last = self._tracker.last_outcome
            if last is not None and last.ok:
                # Tell a healthy orchestrator at once (bounded to 1 s) rather than let it wait 45 s;
                # a failing or hanging one is not asked, so Quit stays quick.
                self._record(self._pm.engine.say_goodbye(), goodbye=True)  # ends uptime coverage
            self._pm.stop()
            self._pm.engine.close()
            self._pm = None
        self._tracker.stop()
        self._publish()

    @Slot()
    def shutdown(self) -> None:
        self.stop()
        for timer in (self._beat_timer, self._change_timer):
            if timer:
                timer.stop()
        if self._history is not None:
            self._history.close()
            self._history = None
        self.thread().quit()  # after this slot, so nothing queued before it is dropped

    def abort(self) -> None:
        """Thread-safe: cut the request under way, so queued slots (stop, shutdown) run at once."""
        pm = self._pm
        if pm is not None:
            pm.engine.abort()

    # --- user intent
    @Slot()
    def beat_now(self) -> None:
        if self._pm is None:
            self.start()
            return
        self._pm.next_at = self._clock()
        self._on_due()

    @Slot(object)
    def apply(self, config: WorkerConfig) -> None:
        """New settings reach the running worker without a restart; the next beat uses them."""
        if config.miner_id is None:  # the dialog left the id alone: keep the one in use
            config = replace(config, miner_id=self._config.miner_id, miner_origin=self._config.miner_origin)
        old, self._config = self._config, config
        self._tracker.configured = bool(config.miner_id)
        if self._pm is None:
            self._publish()
            return
        if old.interval_s != config.interval_s or self._pm.next_at is None:
            self._pm.set_interval(config.interval_s)
        if (old.server_url, old.miner_id) != (config.server_url, config.miner_id):
            self._pm.engine.close()
            self._pm.engine = HeartbeatEngine(config.server_url, config.miner_id)
            self._pm.next_at = self._clock()  # a new server or id: find out at once
        self._arm()
        self._publish()

    # --- the beat
    def _arm(self) -> None:
        if self._pm is None or self._pm.next_at is None or self._beat_timer is None:
            return
        self._beat_timer.start(self._real_ms(self._pm.next_at - self._clock()))

    @Slot()
    def _on_due(self) -> None:
        pm = self._pm
        if pm is None or pm.next_at is None:
            return
        if self._clock() < pm.next_at:  # never early: the grid stays exact
            self._arm()
            return
        try:
            result: Outcome = pm.beat()
            if self._pm is not pm:  # stopped while the request ran
                return
            self._record(result)
            self.outcome.emit(result)
            self._publish()
        finally:
            self._arm()  # whatever happened above, the next beat is scheduled

    @Slot()
    def _publish(self) -> None:
        now_mono, now_wall = self._clock(), time.time()
        tracker = self._tracker

        def wall(mono: float | None) -> float | None:
            return None if mono is None else now_wall + (mono - now_mono)

        pm = self._pm
        self.snapshot.emit(
            Snapshot(
                state=tracker.state(now_mono),
                server_url=self._config.server_url,
                miner_id_masked=mask_secret(self._config.miner_id),
                last_success_wall=wall(tracker.last_success_at),
                next_attempt_wall=wall(pm.next_at) if pm else None,
                last_outcome=tracker.last_outcome,
                miner_origin=self._config.miner_origin,
                miner_tag=self._history.tag(self._config.miner_id) if self._history else None,
            )
        )
        change_at = tracker.next_change_at(now_mono)
        if change_at is not None and self._change_timer is not None:
            self._change_timer.start(self._real_ms(change_at - now_mono))

    def _real_ms(self, clock_seconds: float) -> int:
        return max(0, math.ceil(clock_seconds * self._scale * 1000))
