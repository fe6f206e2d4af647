"""The tray's beat: the BeatRunner on its own QThread, waiting on a precise single-shot QTimer.

Everything that can block (the keyring, the network) happens on that thread, never on the GUI thread. The
GUI gives commands with submit() (core/heartbeat/runner.py: Stop, Apply and Quit cut the request under way
there, so they act within milliseconds) and hears everything through one signal, `beat_event`.
This only waits, records the history and relays; the runner and its BeatCycle decide.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from polaris_tray.core.heartbeat.cycle import BeatCycle
from polaris_tray.core.heartbeat.runner import (
    Attempted,
    BeatConfig,
    BeatRunner,
    Command,
    Event,
    MinerId,
    Notice,
    Published,
)
from polaris_tray.core.heartbeat.sender import BeatSender
from polaris_tray.core.status.snapshot import Snapshot
from polaris_tray.core.status.state import StateTracker
from polaris_tray.core.storage.history import HistoryStore
from polaris_tray.core.values.outcome import Outcome
from polaris_tray.gui.beat.keyring_wait import KeyringWait
from polaris_tray.gui.beat.view_clock import ViewClock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerConfig(BeatConfig):
    history: str | None = None  # where attempts are recorded (a path or a sqlite URI); None: nowhere


class HeartbeatWorker(QObject):
    beat_event = Signal(object)  # a runner Event (Published, Attempted, Notice), from the worker's thread
    _poke = Signal()  # a command was submitted: run it on the worker's thread

    def __init__(
        self,
        config: WorkerConfig,
        miner: MinerId | None = None,
        *,
        look_up_id: bool = True,
        clock: Callable[[], float] = time.monotonic,
        time_scale: float = 1.0,
    ) -> None:
        """miner: an id known up front (environment, demo, tests); look_up_id: otherwise read the keyring
        and the legacy files in the worker thread. clock: monotonic seconds; time_scale: real seconds per
        clock second (tests run a fast clock)."""
        super().__init__()
        self._history_at = config.history
        self._clock = clock
        self._scale = time_scale
        tracker = StateTracker()

        def sender(server_url: str, miner_id: str | None) -> BeatSender:
            return BeatSender(server_url, miner_id, deadline_s=config.deadline_s)

        cycle = BeatCycle(
            sender(config.server_url, miner.value if miner else None),
            config.interval_s,
            clock=clock,
            tracker=tracker,
            sender_factory=sender,
        )
        self._keyring: KeyringWait | None = None
        if look_up_id and miner is None:  # a child: it moves to the worker's thread with this object
            self._keyring = KeyringWait(self, self.submit, self._notice)
        self._runner = BeatRunner(
            cycle,
            config,
            miner,
            emit=self._deliver,
            wake=self._poke.emit,
            lookup=self._keyring,
            miner_tag=self._miner_tag,
            time_scale=time_scale,
        )
        self._poke.connect(self._turn, Qt.ConnectionType.QueuedConnection)
        self._beat_timer: QTimer | None = None
        self._view_clock = ViewClock(tracker, clock, time_scale, self._view_changed)
        self._history: HistoryStore | None = None

    def submit(self, command: Command) -> None:
        """Any thread: a command for the runner (core/heartbeat/runner.py); it runs on the worker's thread."""
        self._runner.submit(command)

    # --- on the worker's thread
    @Slot()
    def boot(self) -> None:
        self._beat_timer = QTimer(self)
        self._beat_timer.setSingleShot(True)
        self._beat_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._beat_timer.timeout.connect(self._turn)
        self._open_history()
        self._runner.begin()
        self._arm()

    @Slot()
    def _turn(self) -> None:
        """The timer fired or a command came: the runner runs what is queued and the beat if it is due."""
        if self._runner.finished:
            return
        try:
            self._runner.run()
        finally:
            if self._runner.finished:
                self._close()
            else:
                self._arm()  # whatever happened above, the next beat is scheduled

    def end_unstarted(self) -> None:
        """Quit before the worker's thread ever started (a start-up that failed): nobody else owns the
        runner, so the Quit already submitted runs here, and the connections the sender holds are closed."""
        self._turn()

    def _arm(self) -> None:
        if self._beat_timer is None:
            return
        due = self._runner.next_at
        if due is None:
            self._beat_timer.stop()
            return
        self._beat_timer.start(max(0, math.ceil((due - self._clock()) * self._scale * 1000)))

    def _close(self) -> None:
        """After Quit: whatever was queued before it ran after its cut, so it sent nothing."""
        if self._beat_timer:
            self._beat_timer.stop()
        self._view_clock.stop()
        if self._history is not None:
            self._history.close()
            self._history = None
        self.thread().quit()  # after this slot, so nothing queued before it is dropped

    def _deliver(self, event: Event) -> None:
        """The runner's events: attempts go to the history first, then everything to the GUI."""
        if isinstance(event, Attempted):
            self._record(event.outcome, event.goodbye)
        self.beat_event.emit(event)
        if isinstance(event, Published):
            # Between publishes the views change by time alone (overdue, the count running out, a
            # countdown): the view clock redoes the words then, on the GUI thread, even while this thread
            # is in a request.
            self._view_clock.published(event.snapshot)

    def _view_changed(self, snap: Snapshot) -> None:
        """From the view clock, on the GUI thread: the state's words changed by time alone."""
        self.beat_event.emit(Published(snap))

    def _notice(self, text: str) -> None:
        self._deliver(Notice(text))

    # --- the history
    def _open_history(self) -> None:
        if not self._history_at:
            return
        try:
            self._history = HistoryStore(self._history_at)
        except (sqlite3.Error, OSError) as exc:
            log.warning("History is off: %s", exc)

    def _record(self, outcome: Outcome, goodbye: bool = False) -> None:
        if self._history is None:
            return
        miner = self._runner.miner
        try:
            self._history.record(outcome, miner_id=miner.value if miner else None, goodbye=goodbye)
        except sqlite3.Error as exc:  # a full disk must not stop the heartbeat
            log.warning("History is off: %s", exc)
            self._history = None

    def _miner_tag(self, miner_id: str) -> str | None:
        return self._history.tag(miner_id) if self._history else None
