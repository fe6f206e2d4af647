"""Run a blocking call (keyring, network) on a thread of its own and get its result on the GUI thread.

A thread per call, not Qt's pool: it ends with its call (no idle pool threads left behind), and Quit can
cancel every call still running and wait for it, so none outlives the app or signals into a deleted object.
A thread because the call blocks for seconds (a keyring prompt, a hanging server) and the caller's thread
must not. Test connection and the keyring probe (settings dialog), the miner id lookup (keyring_wait.py)
and Diagnose's walk (doctor_dialog.py) run on it.

Every signal from the thread goes through deliver(), under the call's lock, and cancel() takes that lock:
once cancel() has returned, the thread is not inside a Qt emit and never enters one. A test program that
returned with a call still running once died in glibc's "FATAL: exception not rethrown" abort (Python's
exit unwinds a daemon thread that native code may not let pass); so Quit, and a test program before it
returns, cancels every call and waits for those it can.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import ClassVar

from PySide6.QtCore import QObject, Signal, SignalInstance


class BackgroundCall(QObject):
    """done(result, error) arrives on the thread that created this object (queued across threads).

    Not parented to the caller's window: a window deleted at exit must not delete an object a running
    thread is about to signal from. The set of live calls keeps each one alive until it has answered.
    """

    done = Signal(object, object)
    _live: ClassVar[set[BackgroundCall]] = set()

    def __init__(
        self,
        fn: Callable[[], object],
        parent: QObject | None = None,
        cancel: Callable[[], None] | None = None,
        *,
        waited_on_quit: bool = True,
    ) -> None:
        """waited_on_quit False: a call nothing can cut (a keyring prompt) is dropped on Quit, not joined;
        its thread is a daemon and its answer is never delivered."""
        super().__init__()
        self._fn = fn
        self._cancel = cancel
        self._waited = waited_on_quit
        self._cancelled = False
        self._lock = threading.RLock()  # re-entrant: a direct connection may cancel from inside deliver()
        self._thread: threading.Thread | None = None
        self.done.connect(self._forget)

    def start(self) -> BackgroundCall:
        def run() -> None:
            try:
                result, error = self._fn(), None
            except Exception as exc:
                result, error = None, exc
            self.deliver(self.done, result, error)

        BackgroundCall._live.add(self)
        # a thread: the call blocks for seconds (a keyring prompt, a hanging server); the GUI thread must not
        self._thread = threading.Thread(target=run, name="background-call", daemon=True)
        self._thread.start()
        return self

    def deliver(self, signal: SignalInstance, *values: object) -> None:
        """Emit from the call's thread unless cancelled; progress (Diagnose's lines) goes through here too."""
        with self._lock:
            if self._cancelled:
                return
            try:
                signal.emit(*values)
            except RuntimeError:  # the receiver is already gone
                pass

    def cancel(self) -> None:
        """Cut the call (through the cancel function it was given); nothing is delivered from here on,
        and an emit under way has finished when this returns."""
        with self._lock:
            self._cancelled = True
        if self._cancel is not None:
            self._cancel()

    def _forget(self, *_args) -> None:
        BackgroundCall._live.discard(self)

    @classmethod
    def cancel_all(cls, budget_s: float) -> bool:
        """On Quit: cancel every call still running and wait for their threads; True when all ended."""
        calls = list(cls._live)
        for call in calls:
            call.cancel()
        cls._live.difference_update(c for c in calls if not c._waited)
        calls = [c for c in calls if c._waited]
        deadline = time.monotonic() + budget_s
        for call in calls:
            if call._thread is not None:
                call._thread.join(max(0.0, deadline - time.monotonic()))
        cls._live.difference_update(c for c in calls if c._thread is None or not c._thread.is_alive())
        return not any(c._thread is not None and c._thread.is_alive() for c in calls)
