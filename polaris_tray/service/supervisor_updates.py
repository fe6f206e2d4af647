"""What the service manager hears from the beat loop: ready, the state line, proof of progress, stopping.

WATCHDOG=1 is only sent from the beat loop's own thread, on its way round: a loop wedged in a request
past its deadline stops pinging, and systemd (WatchdogSec=) restarts the agent.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from polaris_tray.service.systemd_notify import SystemdNotifier


class SupervisorUpdates:
    def __init__(self, notifier: SystemdNotifier, clock: Callable[[], float] = time.monotonic) -> None:
        self._notifier = notifier
        self._clock = clock
        self._ready = False
        self._status: str | None = None
        self._last_ping = float("-inf")
        usec = notifier.watchdog_usec
        # Four pings per watchdog period while idle: one late wake-up or one slow beat never trips it.
        self.ping_every_s: float | None = usec / 4e6 if usec and notifier.enabled else None

    def status(self, line: str) -> None:
        if line != self._status:
            self._status = line
            self._notifier.notify(f"STATUS={line}")

    def first_outcome(self) -> None:
        if not self._ready:
            self._ready = True
            self._notifier.notify("READY=1", f"STATUS={self._status or 'Running'}")

    def alive(self) -> None:
        if self.ping_every_s is None:
            return
        now = self._clock()
        if now - self._last_ping >= self.ping_every_s / 2:
            self._last_ping = now
            self._notifier.notify("WATCHDOG=1")

    def stopping(self) -> None:
        self._status = "Stopping"
        self._notifier.notify("STOPPING=1", "STATUS=Stopping")
