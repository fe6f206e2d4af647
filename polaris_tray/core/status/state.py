"""Is this miner counted online by the orchestrator right now? One tracker answers it for every view.

The orchestrator counts a miner online for 45 s after each accepted "online" beat and no longer after an
accepted "offline" goodbye. That is a fact about the last accepted beat and the clock, not about whether
our agent runs, so `counted_until` (monotonic) outlives Stop/Start. Every view asks `state(now)` and
`words(now, wall)` with the time now, and re-asks at `next_change_at(now)`: a state is never left standing
because no attempt happened to end.

Thread-safe: the beat thread records, a scrape or a timer thread may ask at the same moment.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

from polaris_tray.core.config.limits import OFFLINE_AFTER_S, REQUEST_DEADLINE_S
from polaris_tray.core.values.link_state import LinkState
from polaris_tray.core.values.outcome import Outcome


def seconds_left(until: float, now: float) -> int:
    """Whole seconds shown in "for N s": rounded up, so it reads 1 s until the very end."""
    return max(1, math.ceil(until - now))


def clock_time(wall: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(wall))


@dataclass
class StateTracker:
    """Fed every outcome with the monotonic time it completed; asked for the state at any time."""

    running: bool = False
    configured: bool = True
    keyring_waiting: bool = False  # no id yet because the keyring cannot answer (locked, absent, slow)
    interval_s: float | None = None  # the beat interval (None: never call a beat overdue)
    deadline_s: float = REQUEST_DEADLINE_S
    last_outcome: Outcome | None = None  # this run's last verdict; None: none yet since Start (or a wake)
    last_success_at: float | None = None  # the last accepted online beat
    counted_until: float | None = None  # when the orchestrator stops counting us; kept across Stop/Start
    failing_since: float | None = None
    started_at: float | None = None
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    # --- fed by the beat thread
    def start(self, now: float) -> None:
        with self._lock:
            self.running = True
            self.started_at = now
            self.last_outcome = None
            self.failing_since = None

    def stop(self) -> None:
        self.running = False

    def record(self, outcome: Outcome, at: float, sent_at: float | None = None) -> None:
        """at: when the answer came; sent_at: when the request went. The orchestrator accepted it somewhere
        in between, so its 45 s are counted from sent_at: never longer than the orchestrator counts."""
        with self._lock:
            self.last_outcome = outcome
            if outcome.ok:
                self.last_success_at = at
                self.counted_until = (at if sent_at is None else min(at, sent_at)) + OFFLINE_AFTER_S
                self.failing_since = None
            elif self.failing_since is None:
                self.failing_since = at

    def record_goodbye(self, outcome: Outcome, at: float) -> None:
        """An accepted "offline" goodbye ends the count at once; one not delivered changes nothing."""
        if not outcome.ok:
            return
        with self._lock:
            if self.counted_until is not None:
                self.counted_until = min(self.counted_until, at)

    def shift_back(self, slept: float) -> None:
        """The monotonic clock stood still for `slept` s (a suspend): our moments move back by it, and a
        last success is no proof of being online after a wake (green waits for the next verdict)."""
        with self._lock:
            for name in ("last_success_at", "counted_until", "failing_since", "started_at"):
                value = getattr(self, name)
                if value is not None:
                    setattr(self, name, value - slept)
            if self.last_outcome is not None and self.last_outcome.ok:
                self.last_outcome = None

    # --- asked by every view
    def counted(self, now: float) -> bool:
        until = self.counted_until
        return until is not None and now < until

    def overdue_at(self) -> float | None:
        """When the beat after the last accepted one is late: last + interval + the request deadline."""
        if self.last_success_at is None or not self.interval_s:
            return None
        return self.last_success_at + self.interval_s + self.deadline_s

    def state(self, now: float) -> LinkState:
        with self._lock:
            return self._state(now)

    def _state(self, now: float) -> LinkState:
        if not self.configured:
            return LinkState.KEYRING_WAIT if self.keyring_waiting else LinkState.UNCONFIGURED
        if not self.running:
            return LinkState.STOPPED
        outcome = self.last_outcome
        if outcome is not None and outcome.needs_attention:
            return LinkState.ATTENTION
        if outcome is None:
            return LinkState.CONNECTING
        if not self.counted(now):
            return LinkState.OFFLINE
        overdue = self.overdue_at()
        if outcome.ok and (overdue is None or now < overdue):
            return LinkState.ONLINE
        return LinkState.RETRYING

    def words(self, now: float, wall: float | None = None) -> str:
        """The state in words at `now` (monotonic); `wall` is the wall clock at the same moment."""
        with self._lock:
            state = self._state(now)
            return self._words(state, now, time.time() if wall is None else wall)

    def view(self, now: float, wall: float | None = None) -> tuple[LinkState, str]:
        with self._lock:
            state = self._state(now)
            return state, self._words(state, now, time.time() if wall is None else wall)

    def _words(self, state: LinkState, now: float, wall: float) -> str:
        text = state.words
        until = self.counted_until
        left = (
            f"still counted online for {seconds_left(until, now)} s"
            if until is not None and now < until
            else ""
        )
        outcome = self.last_outcome
        if state in (LinkState.STOPPED, LinkState.CONNECTING):
            return f"{text} — {left}" if left else text
        if state is LinkState.RETRYING:
            late = outcome is not None and outcome.ok  # accepted, but the next one has not come in time
            return f"{'Heartbeat overdue' if late else 'Retrying'} — {left}"
        if state is LinkState.OFFLINE:
            if until is None:
                reason = (outcome.error or outcome.kind.value) if outcome is not None else "no answer"
                return f"Not counted online yet — {reason.rstrip('.')}; retrying"  # not "….; retrying"
            return f"Offline — not counted since {clock_time(wall - (now - until))}"
        return text

    def next_change_at(self, now: float) -> float | None:
        """The next moment any view's text or colour changes by time alone (None: not by time).

        The beat going overdue, the count running out, and while the words count down, the next whole
        second. Nothing shows a countdown while green or red, so those wake at most twice per beat.
        """
        with self._lock:
            if not self.configured:
                return None
            candidates = []
            until = self.counted_until
            if until is not None and now < until:
                candidates.append(until)
                state = self._state(now)
                if state in (LinkState.STOPPED, LinkState.CONNECTING, LinkState.RETRYING):
                    candidates.append(until - (seconds_left(until, now) - 1))
            overdue = self.overdue_at()
            if self.running and overdue is not None and now < overdue:
                candidates.append(overdue)
            later = [t for t in candidates if t > now]
            return min(later) if later else None
