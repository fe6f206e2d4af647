"""The heartbeat worker: a QObject living in its own QThread, paced by a precise single-shot QTimer.

Everything that can block (the keyring, the network) happens here, never on the GUI thread. The GUI talks
to it through queued signals, and before each command that must act at once (Stop, Apply, Quit) it calls
interrupt() directly: the request under way is cut, so the queued command runs within milliseconds.
The BeatCycle decides every beat; this only waits, relays and publishes.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import time
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from polaris_tray.core.config.limits import REQUEST_DEADLINE_S
from polaris_tray.core.heartbeat.cycle import BeatCycle
from polaris_tray.core.heartbeat.sender import BeatSender
from polaris_tray.core.heartbeat.wake import account_sleep
from polaris_tray.core.status.snapshot import Snapshot
from polaris_tray.core.status.state import StateTracker
from polaris_tray.core.storage.history import HistoryStore
from polaris_tray.core.values.outcome import Outcome
from polaris_tray.core.values.redact import mask_secret
from polaris_tray.gui.beat.keyring_wait import KeyringWait
from polaris_tray.gui.beat.view_clock import ViewClock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MinerId:
    value: str
    origin: str  # "environment", "keyring", "legacy", "settings", "demo", "test"


@dataclass(frozen=True)
class WorkerConfig:
    server_url: str
    interval_s: float
    start_beating: bool = True  # begin as soon as an id is known ("start when the app starts")
    history: str | None = None  # where attempts are recorded (a path or a sqlite URI); None: nowhere
    deadline_s: float = REQUEST_DEADLINE_S  # one attempt's bound (tests shorten it)


class HeartbeatWorker(QObject):
    snapshot = Signal(object)  # Snapshot
    outcome = Signal(object)  # Outcome, for history
    notice = Signal(str)  # one-off messages for the user (an import, a keyring problem)

    def __init__(
        self,
        config: WorkerConfig,
        miner: MinerId | None = None,
        *,
        look_up_id: bool = True,
        clock=time.monotonic,
        time_scale: float = 1.0,
    ) -> None:
        """miner: an id known up front (environment, demo, tests); look_up_id: otherwise read the keyring
        and the legacy files in the worker thread. clock: monotonic seconds; time_scale: real seconds per
        clock second (tests run a fast clock)."""
        super().__init__()
        self._config = config
        self._miner = miner
        self._look_up = look_up_id and miner is None
        self._clock = clock
        self._scale = time_scale
        self._tracker = StateTracker(configured=miner is not None, deadline_s=config.deadline_s / time_scale)

        def engine(server_url: str, miner_id: str | None) -> BeatSender:
            return BeatSender(server_url, miner_id, deadline_s=config.deadline_s)

        self._pm = BeatCycle(
            engine(config.server_url, miner.value if miner else None),
            config.interval_s,
            clock=clock,
            tracker=self._tracker,
            engine_factory=engine,
        )
        self._wanted = config.start_beating  # the user's intent: Start/Stop change it, Apply does not
        self._beat_timer: QTimer | None = None
        self._view_clock = ViewClock(self._tracker, clock, time_scale, self.snapshot.emit)
        self._keyring: KeyringWait | None = None
        self._history: HistoryStore | None = None

    # --- lifecycle (all slots run in the worker thread)
    @Slot()
    def boot(self) -> None:
        self._beat_timer = self._timer(self._on_due, precise=True)
        self._open_history()
        if self._look_up:  # the first snapshot comes when the lookup answers: no "no id" flash meanwhile
            self._keyring = KeyringWait(self, self._on_id_found, self.notice.emit, self._publish)
            self._keyring.try_now()
        elif self._wanted and self._miner is not None:
            self.start()
        else:
            self._publish()

    def _timer(self, slot, precise: bool = False) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        if precise:
            timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.timeout.connect(slot)
        return timer

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
            self._history.record(
                outcome, miner_id=self._miner.value if self._miner else None, goodbye=goodbye
            )
        except sqlite3.Error as exc:  # a full disk must not stop the heartbeat
            log.warning("History is off: %s", exc)
            self._history = None

    def _on_id_found(self, value: str, origin: str) -> None:
        self._use(MinerId(value, origin))
        if self._wanted and not self._pm.running:
            self.start()
        self._publish()

    def _use(self, miner: MinerId) -> None:
        self._miner = miner
        self._tracker.configured = True
        if self._keyring is not None:
            self._keyring.cancel()
        self._pm.retarget(self._config.server_url, miner.value)

    @Slot()
    def start(self) -> None:
        self._wanted = True
        if self._miner is None:
            if self._keyring is not None:
                self._keyring.try_now(prompt=True)  # Start is a good moment to look again
            self._publish()
            return
        if not self._pm.running:
            self._pm.start()
        self._arm()
        self._publish()

    @Slot()
    def look_again(self) -> None:
        """No id yet: read the keyring again (--set-miner-id stored one); Start/Stop intent unchanged."""
        if self._miner is None and self._keyring is not None:
            self._keyring.try_now(prompt=True)

    @Slot()
    def stop(self) -> None:
        self._wanted = False
        if self._beat_timer:
            self._beat_timer.stop()
        goodbye = self._pm.finish(goodbye=True)
        if goodbye is not None:
            self._record(goodbye, goodbye=True)  # ends uptime coverage
        self._pm.resume()  # pairs with the controller's interrupt()
        self._arm()
        self._publish()

    @Slot()
    def shutdown(self) -> None:
        """Quit: whatever was queued before this and ran after interrupt() sent nothing."""
        goodbye = self._pm.finish(goodbye=True)
        if goodbye is not None:
            self._record(goodbye, goodbye=True)
        self._pm.interrupt()  # never settled: nothing starts after Quit
        if self._beat_timer:
            self._beat_timer.stop()
        self._view_clock.stop()
        if self._keyring is not None:
            self._keyring.cancel()
        if self._history is not None:
            self._history.close()
            self._history = None
        self.thread().quit()  # after this slot, so nothing queued before it is dropped

    def interrupt(self) -> None:
        """Any thread: cut the request under way; nothing new starts before the next command runs here."""
        self._pm.interrupt()

    # --- user intent
    @Slot()
    def beat_now(self) -> None:
        if self._miner is None:
            if self._keyring is not None:
                self._keyring.try_now(prompt=True)
            return
        if self._pm.beat_now() is not None:
            self._arm()
            self._publish()

    @Slot(float)
    def woke(self, slept: float) -> None:
        """A resume or the network back (gui/beat/wake_watch.py): sleep counts, a running beat goes now."""
        account_sleep(self._tracker, slept)
        if self._pm.running:
            self._publish()
            self.beat_now()

    @Slot(object)
    def apply(self, config: WorkerConfig) -> None:
        """New settings reach the running worker without a restart; the id in use stays."""
        self._apply(config, self._miner)

    @Slot(object, object)
    def apply_with_id(self, config: WorkerConfig, miner: MinerId) -> None:
        """New settings and a newly entered id (the first-run dialog): beating starts if it is wanted."""
        self._apply(config, miner)

    def _apply(self, config: WorkerConfig, miner: MinerId | None) -> None:
        old, self._config = self._config, config
        self._tracker.deadline_s = config.deadline_s / self._scale  # real seconds, on the clock's scale
        if old.interval_s != config.interval_s:
            self._pm.set_interval(config.interval_s)
        if miner is not None and miner != self._miner:
            self._use(miner)
        elif old.server_url != config.server_url:
            self._pm.retarget(config.server_url, miner.value if miner else None)
        if miner is not None and self._wanted and not self._pm.running:
            self._pm.start()
        self._pm.resume()  # pairs with the controller's interrupt()
        self._arm()
        self._publish()

    # --- the beat
    def _arm(self) -> None:
        if self._beat_timer is None:
            return
        due = self._pm.next_at
        if due is None:
            self._beat_timer.stop()
            return
        self._beat_timer.start(self._real_ms(due - self._clock()))

    @Slot()
    def _on_due(self) -> None:
        try:
            result = self._pm.beat()  # None: not due yet (never early), or cut by interrupt()
            if result is not None:
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

        tracker.keyring_waiting = (
            self._miner is None and self._keyring is not None and self._keyring.waiting is not None
        )
        state, words = tracker.view(now_mono, now_wall)
        snap = Snapshot(
            state=state,
            words=words,
            server_url=self._config.server_url,
            miner_id_masked=mask_secret(self._miner.value if self._miner else None),
            last_success_wall=wall(tracker.last_success_at),
            next_attempt_wall=wall(self._pm.next_at) if self._pm.running else None,
            last_outcome=tracker.last_outcome,
            miner_origin=self._miner.origin if self._miner else "none",
            miner_tag=self._history.tag(self._miner.value) if self._history and self._miner else None,
        )
        self.snapshot.emit(snap)
        # Between publishes the views change by time alone (overdue, the count running out, a countdown):
        # the view clock redoes the words then, on the GUI thread, even while this thread is in a request.
        self._view_clock.published(snap)

    def _real_ms(self, clock_seconds: float) -> int:
        return max(0, math.ceil(clock_seconds * self._scale * 1000))
