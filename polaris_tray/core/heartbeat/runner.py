"""The one loop body of both runners: commands come in from any thread, the BeatCycle runs on one.

Headless waits on a plain thread (service/beat_thread.py), the tray on a QThread's precise QTimer
(gui/beat/worker.py); each only waits until next_at or a submitted command, then calls run(). The commands
that must act at once during a hanging request (Stop, Apply, Quit) are cut in by submit() itself: it
interrupts the cycle before queueing them, and run() resumes the cycle after running them. Quit is never
resumed, so nothing queued before it (a Send now) sends anything after it. Events go out through one
callback, on the thread that runs: a snapshot to show, an outcome to record, a notice for the user.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from polaris_tray.core.config.limits import REQUEST_DEADLINE_S
from polaris_tray.core.heartbeat.cycle import BeatCycle
from polaris_tray.core.heartbeat.wake import account_sleep
from polaris_tray.core.status.snapshot import Snapshot
from polaris_tray.core.values.outcome import Outcome
from polaris_tray.core.values.redact import mask_secret

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MinerId:
    value: str
    origin: str  # "environment", "keyring", "legacy", "settings", "demo", "test"


@dataclass(frozen=True)
class BeatConfig:
    """What the runner is told to do; the miner id travels apart, as a MinerId, only when it changes."""

    server_url: str
    interval_s: float
    start_beating: bool = True  # begin as soon as an id is known ("start when the app starts")
    deadline_s: float = REQUEST_DEADLINE_S  # one attempt's bound (tests shorten it)


# --- commands: runner.submit(command) from any thread


@dataclass(frozen=True)
class Start:
    """Beat (the user's intent: Start and Stop change it, Apply keeps it)."""


@dataclass(frozen=True)
class Stop:
    """Cut the attempt under way, say goodbye by the cycle's rule, send nothing more."""


@dataclass(frozen=True)
class SendNow:
    """One beat as soon as the cycle allows (merged, floored, never before a Retry-After)."""


@dataclass(frozen=True)
class LookAgain:
    """No id yet: ask the id lookup once more (an id may have been stored meanwhile)."""


@dataclass(frozen=True)
class Woke:
    """The machine slept slept_s seconds (0: the network came back): the sleep counts, a beat goes now."""

    slept_s: float


@dataclass(frozen=True)
class Apply:
    """New settings, at once; miner None keeps the id in use."""

    config: BeatConfig
    miner: MinerId | None = None


@dataclass(frozen=True)
class UseId:
    """The id lookup found the id."""

    miner: MinerId


@dataclass(frozen=True)
class IdAnswered:
    """The id lookup answered without an id (none stored, or the keyring still cannot say): show it."""


@dataclass(frozen=True)
class ToldOffline:
    """Another beat of ours (Test connection while Stopped) told server_url "offline" for this miner id and
    was accepted: that orchestrator counts the miner offline at once. Ends the tracker's count (and the
    history's coverage) as an accepted goodbye does, when it speaks of the id and server in use and no
    cycle runs (a running one's own beats say what is counted)."""

    server_url: str
    miner_id: str = field(repr=False)  # compared, never shown
    outcome: Outcome


@dataclass(frozen=True)
class Quit:
    """The end: the goodbye by the cycle's rule (when goodbye), then nothing, ever."""

    goodbye: bool = True


Command = Start | Stop | SendNow | LookAgain | Woke | Apply | UseId | IdAnswered | ToldOffline | Quit
CUT_IN = (Stop, Apply, Quit)  # they act at once: submit() cuts the attempt under way


# --- events: the one callback, called on the thread that runs


@dataclass(frozen=True)
class Published:
    snapshot: Snapshot


@dataclass(frozen=True)
class Attempted:
    outcome: Outcome
    goodbye: bool = False  # the "offline" beat of a Stop or Quit (or one a Stopped tray's test sent)


@dataclass(frozen=True)
class Notice:
    text: str  # a one-off message for the user


Event = Published | Attempted | Notice


class IdLookup(Protocol):
    """Finds the miner id while the runner waits (the tray's keyring); answers with UseId / IdAnswered."""

    waiting: str | None  # not None: no answer yet, or the keyring cannot answer for now

    def try_now(self, prompt: bool = False) -> None: ...

    def cancel(self) -> None: ...


class BeatRunner:
    """submit() from any thread; begin() and run() on the one thread that owns the cycle."""

    def __init__(
        self,
        cycle: BeatCycle,
        config: BeatConfig,
        miner: MinerId | None,
        *,
        emit: Callable[[Event], None],
        wake: Callable[[], None] | None = None,
        lookup: IdLookup | None = None,
        miner_tag: Callable[[str], str | None] | None = None,
        time_scale: float = 1.0,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        """wake: called after each submit, for a runner that waits in an event loop (the Qt worker);
        lookup: finds the id when none is known; miner_tag: the history's tag of an id, for the snapshot;
        time_scale: real seconds per clock second (tests run a fast clock)."""
        self.cycle = cycle
        self.config = config
        self.miner = miner
        self._emit = emit
        self._wake = wake
        self._lookup = lookup
        self._miner_tag = miner_tag
        self._scale = time_scale
        self._wall = wall_clock
        self._wanted = config.start_beating
        self._queue: deque[Command] = deque()
        self._queued = threading.Condition()
        self._quit_submitted = False
        self._finished = False
        cycle.tracker.configured = miner is not None
        cycle.tracker.deadline_s = config.deadline_s / time_scale  # real seconds, on the clock's scale

    # --- any thread
    def submit(self, command: Command) -> None:
        """Queue a command and wake the loop; Stop, Apply and Quit first cut the attempt under way.
        Nothing is taken after Quit."""
        with self._queued:
            if self._quit_submitted:
                return
            self._quit_submitted = isinstance(command, Quit)
        if isinstance(command, CUT_IN):
            self.cycle.interrupt()  # settled by run() right after the command (never, for Quit)
        with self._queued:
            self._queue.append(command)
            self._queued.notify_all()
        if self._wake is not None:
            self._wake()

    @property
    def next_at(self) -> float | None:
        """When run() has a beat to send (the cycle's clock); None: only a command can give it work."""
        return None if self._finished else self.cycle.next_at

    @property
    def finished(self) -> bool:
        """Quit has run."""
        return self._finished

    def wait(self, timeout: float | None) -> bool:
        """For a runner with no event loop: block until a command is queued or timeout; True: one is."""
        with self._queued:
            if not self._queue:
                self._queued.wait(timeout)
            return bool(self._queue)

    # --- the owner thread
    def begin(self) -> None:
        """The first step: beat if wanted and the id is known; else look it up or show why not."""
        if self.miner is None and self._lookup is not None:
            self._lookup.try_now()  # the first snapshot comes with its answer: no "no id" flash meanwhile
        elif self._wanted and self.miner is not None:
            self._start()
        else:
            self._publish()

    def run(self) -> None:
        """The commands submitted so far, in order, then the beat if one is due (up to its deadline)."""
        while not self._finished:
            with self._queued:
                if not self._queue:
                    break
                command = self._queue.popleft()
            self._run(command)
        if self._finished:
            return
        outcome = self.cycle.beat()  # None: not due yet (never early), or cut by a command's interrupt
        if outcome is not None:
            self._emit(Attempted(outcome))
            self._publish()

    def snapshot(self) -> Snapshot:
        """The state and everything the views show with it, now."""
        cycle, tracker, miner = self.cycle, self.cycle.tracker, self.miner
        now_mono, now_wall = cycle.clock(), self._wall()

        def wall(mono: float | None) -> float | None:
            return None if mono is None else now_wall + (mono - now_mono)

        lookup = self._lookup
        tracker.keyring_waiting = miner is None and lookup is not None and lookup.waiting is not None
        state, words = tracker.view(now_mono, now_wall)
        tag = self._miner_tag(miner.value) if self._miner_tag is not None and miner is not None else None
        return Snapshot(
            state=state,
            words=words,
            server_url=self.config.server_url,
            miner_id_masked=mask_secret(miner.value if miner else None),
            last_success_wall=wall(tracker.last_success_at),
            next_attempt_wall=wall(cycle.next_at) if cycle.running else None,
            last_outcome=tracker.last_outcome,
            miner_origin=miner.origin if miner else "none",
            miner_tag=tag,
        )

    def _run(self, command: Command) -> None:
        if isinstance(command, Start):
            self._wanted = True
            self._start()
        elif isinstance(command, Stop):
            self._stop()
        elif isinstance(command, SendNow):
            self._send_now()
        elif isinstance(command, LookAgain):
            if self.miner is None and self._lookup is not None:
                self._lookup.try_now(prompt=True)
        elif isinstance(command, Woke):
            account_sleep(self.cycle.tracker, command.slept_s)
            if self.cycle.running:
                self._publish()
                self._send_now()
        elif isinstance(command, Apply):
            self._apply(command.config, command.miner or self.miner)
        elif isinstance(command, UseId):
            self._use(command.miner)
            if self._wanted and not self.cycle.running:
                self._start()
            self._publish()
        elif isinstance(command, IdAnswered):
            self._publish()
        elif isinstance(command, ToldOffline):
            self._told_offline(command)
        else:
            self._quit(command.goodbye)

    def _start(self) -> None:
        if self.miner is None:
            if self._lookup is not None:
                self._lookup.try_now(prompt=True)  # Start is a good moment to look again
        elif not self.cycle.running:
            self.cycle.start()
        self._publish()

    def _stop(self) -> None:
        self._wanted = False
        try:
            goodbye = self.cycle.finish(goodbye=True)
        finally:
            self.cycle.resume()  # settles submit()'s interrupt
        if goodbye is not None:
            self._emit(Attempted(goodbye, goodbye=True))  # ends uptime coverage
        self._publish()

    def _send_now(self) -> None:
        if self.miner is None:
            if self._lookup is not None:
                self._lookup.try_now(prompt=True)
            return
        if self.cycle.beat_now() is not None:
            self._publish()

    def _apply(self, config: BeatConfig, miner: MinerId | None) -> None:
        """New settings reach the running cycle without a restart; a new id (the first-run dialog) starts
        beating if it is wanted."""
        cycle = self.cycle
        try:
            old, self.config = self.config, config
            cycle.tracker.deadline_s = config.deadline_s / self._scale
            if old.interval_s != config.interval_s:
                cycle.set_interval(config.interval_s)
            if miner is not None and miner != self.miner:
                self._use(miner)
            elif old.server_url != config.server_url:
                cycle.retarget(config.server_url, miner.value if miner else None)
            if miner is not None and self._wanted and not cycle.running:
                cycle.start()
        finally:
            cycle.resume()  # settles submit()'s interrupt
        self._publish()

    def _use(self, miner: MinerId) -> None:
        self.miner = miner
        self.cycle.tracker.configured = True
        if self._lookup is not None:
            self._lookup.cancel()
        self.cycle.retarget(self.config.server_url, miner.value)

    def _told_offline(self, told: ToldOffline) -> None:
        miner, cycle = self.miner, self.cycle
        if (
            cycle.running
            or miner is None
            or (told.server_url, told.miner_id) != (self.config.server_url, miner.value)
        ):
            return  # a running cycle's own beats say what is counted; another id or server is not ours
        cycle.tracker.record_goodbye(told.outcome, cycle.clock())  # learnt now, as the cycle's own goodbye
        self._emit(Attempted(told.outcome, goodbye=True))
        self._publish()

    def _quit(self, goodbye: bool) -> None:
        """submit()'s interrupt is never settled: nothing starts after Quit."""
        self._finished = True
        result = self.cycle.finish(goodbye=goodbye)
        if result is not None:
            self._emit(Attempted(result, goodbye=True))
        if self._lookup is not None:
            self._lookup.cancel()

    def _publish(self) -> None:
        self._emit(Published(self.snapshot()))
