"""The beat cycle the BeatRunner runs (core/heartbeat/runner.py): runners only wait and relay; this decides.

Owned by one thread (the one that beats). interrupt() alone may be called from another thread: it cuts the
request under way and keeps any new one from starting until the owner calls resume() after the command that
followed it (stop, retarget, ...); after finish() nothing needs resuming. BeatRunner.submit() and run() make
that pairing; it is what lets Stop, Apply and Quit act at once during a hanging request, and why a Send now
queued before Quit sends nothing.

The goodbye rule (both runners): on a clean stop or quit, one "offline" beat, bounded to one second, goes
to the server only when the last attempt finished and was accepted. A server that just accepted us is the
only one that would otherwise count us online for up to 45 s more; a failing or hanging one is not asked,
so Stop and Quit stay quick. An attempt we cut ourselves proves nothing about the server: cut within the
goodbye's own bound it leaves the verdict of the attempt before it standing (a Stop that lands while a
healthy server is answering still says goodbye), cut later it counts as a hang.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable

from polaris_tray.core.heartbeat.schedule import BeatSchedule
from polaris_tray.core.heartbeat.sender import OFFLINE_DEADLINE_S, BeatSender
from polaris_tray.core.status.state import StateTracker
from polaris_tray.core.values.outcome import NetworkReason, Outcome, OutcomeKind

log = logging.getLogger(__name__)

MANUAL_FLOOR_S = 2.0  # at most one "Send now" beat per 2 s, however fast the clicks come


class BeatCycle:
    def __init__(
        self,
        sender: BeatSender,
        interval_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        tracker: StateTracker | None = None,
        sender_factory: Callable[[str, str | None], BeatSender] = BeatSender,
    ) -> None:
        self.sender = sender
        self.schedule = BeatSchedule(interval_s, rng)
        self.tracker = tracker or StateTracker()
        self.tracker.interval_s = self.schedule.interval_s  # the tracker calls a beat overdue by it
        self.clock = clock
        self._factory = sender_factory
        self._running = False
        self._scheduled_at: float | None = None  # the next paced beat; None while stopped
        self._manual_at: float | None = None  # a pending "Send now"
        self._last_manual_at: float | None = None
        self._hold_until: float | None = None  # backoff or Retry-After: Send now never goes before it
        self._goodbye_ok = False  # the last attempt finished and was accepted
        self._lock = threading.Lock()
        self._interrupts = 0  # interrupt() calls not yet settled by a command
        self._in_flight = False
        self._cut = False  # the last attempt was cut by interrupt(): resume() makes it again
        self._sender_spent = False  # the sender was aborted: a fresh one is needed before the next attempt

    # --- what the runners read
    @property
    def running(self) -> bool:
        return self._running

    @property
    def next_at(self) -> float | None:
        """When the next attempt is due (paced or manual); None: nothing to send."""
        due = [t for t in (self._scheduled_at, self._manual_at) if t is not None]
        return min(due) if due and not self.halted else None

    @property
    def halted(self) -> bool:
        return self._interrupts > 0

    # --- commands (owner thread)
    def start(self) -> float:
        now = self.clock()
        self._running = True
        self.tracker.start(now)
        self._scheduled_at = self.schedule.start(now)
        self._manual_at = None
        return self._scheduled_at

    def stop(self) -> None:
        self._running = False
        self._scheduled_at = self._manual_at = None
        self.tracker.stop()
        with self._lock:
            self._sender_spent = True  # close() is final: the next attempt gets a fresh sender
            sender = self.sender
        sender.close()

    def set_interval(self, interval_s: float) -> float | None:
        self.schedule.interval_s = interval_s
        self.tracker.interval_s = self.schedule.interval_s
        if self._running:
            self._scheduled_at = self.schedule.reschedule(self.clock())
        return self.next_at

    def retarget(self, server_url: str, miner_id: str | None) -> float | None:
        """A new server or id: a fresh sender, and (while running) a beat at once to find out."""
        if (server_url, miner_id) != (self.sender.server_url, self.sender.miner_id) or self._sender_spent:
            self._replace_sender(server_url, miner_id)
        self._goodbye_ok = False
        self._hold_until = None
        if self._running:
            self.schedule.start(self.clock())
            self._scheduled_at = self.clock()
        return self.next_at

    def resume(self) -> None:
        """The command that followed an interrupt() has run: beats may go again, and an attempt that was
        cut is made again at once (an interval change must not turn a cut beat into a skipped one)."""
        with self._lock:
            self._interrupts = max(0, self._interrupts - 1)
            again = self._cut and not self._interrupts
        if again:
            self._cut = False
            if self._running:
                self._scheduled_at = self.clock()

    def beat_now(self) -> float | None:
        """Send now: at once, but never before the server's Retry-After or a backoff window, never more
        than one per MANUAL_FLOOR_S, and never later than the beat already planned. Repeated calls while one
        is pending merge into it. While stopped it plans one beat and stays stopped. None: refused (halted).
        """
        if self.halted:
            return None
        now = self.clock()
        at = now
        if self._last_manual_at is not None:
            at = max(at, self._last_manual_at + MANUAL_FLOOR_S)
        if self._hold_until is not None:
            at = max(at, self._hold_until)
        if self._manual_at is not None:
            at = min(at, self._manual_at)
        if self._scheduled_at is not None and self._scheduled_at <= at:
            return self._scheduled_at  # the planned beat comes first anyway: merge into it
        self._manual_at = at
        return at

    def beat(self) -> Outcome | None:
        """One attempt if one is due (blocks up to the poster's deadline); None when none was sent.

        Nothing raised inside an attempt may end the schedule: an agent that silently stops beating costs
        the miner money, so an unexpected error is logged and retried like any failure.
        """
        now = self.clock()
        with self._lock:
            due = self.next_at
            if due is None or now < due:
                return None
            self._in_flight = True
        started = now
        if self._manual_at is not None and now >= self._manual_at:
            self._manual_at = None
            self._last_manual_at = now
        sender = self._usable_sender()
        try:
            outcome = sender.attempt()
        except Exception as exc:
            log.exception("A heartbeat attempt failed unexpectedly")
            outcome = Outcome(
                OutcomeKind.NETWORK_ERROR,
                error=f"Internal error ({type(exc).__name__}); see the log.",
                reason=NetworkReason.OTHER,
            )
        finally:
            with self._lock:
                self._in_flight = False
        now = self.clock()
        if self.halted:  # cut by interrupt(): our own doing, says nothing about the server
            if now - started >= OFFLINE_DEADLINE_S:  # it was hanging: don't ask that server again
                self._goodbye_ok = False
            self._cut = True
            return None
        self.tracker.record(outcome, now, sent_at=started)
        self._goodbye_ok = outcome.ok
        if outcome.ok:
            self._hold_until = None
            after = self.schedule.after_success(now)
        else:
            after = self._hold_until = self.schedule.after_failure(now, outcome.retry_after)
        if self._running:
            self._scheduled_at = after
        else:  # a Send now while stopped: one beat, then nothing stays open
            self.stop()
        return outcome

    def finish(self, goodbye: bool = True) -> Outcome | None:
        """The end of a run: stop, and say goodbye under the rule in the module docstring."""
        send = goodbye and self._goodbye_ok and bool(self.sender.miner_id)
        result = None
        if send:
            result = self._usable_sender().say_goodbye()  # after a cut: not on the aborted sender
            self.tracker.record_goodbye(result, self.clock())  # accepted: the count ends now
            log.info("Stopped; offline notice %s", "sent" if result.ok else "not delivered")
        self._goodbye_ok = False
        self.stop()
        return result

    # --- any thread
    def interrupt(self) -> None:
        """Cut the request under way and refuse new ones until the owner runs the next command."""
        with self._lock:
            self._interrupts += 1
            if not self._in_flight:
                return
            self._sender_spent = True
            sender = self.sender
        sender.abort()  # sticky: a post() that has not reached the socket yet is cut as it connects

    # --- inside
    def _usable_sender(self) -> BeatSender:
        """The sender for the next request: a fresh one when the last was aborted or closed (both final)."""
        if self._sender_spent:
            self._replace_sender(self.sender.server_url, self.sender.miner_id)
        return self.sender

    def _replace_sender(self, server_url: str, miner_id: str | None) -> None:
        old = self.sender
        with self._lock:
            self.sender = self._factory(server_url, miner_id)
            self._sender_spent = False
        old.close()
