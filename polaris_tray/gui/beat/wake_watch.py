"""Tells the worker when the machine woke or the network came up, so the beat goes out at once.

Three sources: the clock pair of core/heartbeat/wake.py, polled once a second (works everywhere, catches
a resume within about a second of the first timer that fires after it); logind's PrepareForSleep(false)
on the system bus where logind runs; Qt's QNetworkInformation reachability where a backend exists.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import SLOT, QObject, QTimer, Signal, Slot

from polaris_tray.core.heartbeat.wake import ResumeDetector, default_clocks

if TYPE_CHECKING:
    from PySide6.QtNetwork import QNetworkInformation

log = logging.getLogger(__name__)

POLL_MS = 1000
DEDUP_S = 5.0  # logind and the clock both see one resume: it is told once

LOGIND = "org.freedesktop.login1"
LOGIND_PATH = "/org/freedesktop/login1"
LOGIND_MANAGER = "org.freedesktop.login1.Manager"


class WakeWatcher(QObject):
    resumed = Signal(float)  # seconds asleep (0 when only logind knows we slept)
    network_up = Signal()

    def __init__(self, clocks=None, parent=None) -> None:
        super().__init__(parent)
        mono, through_sleep = clocks or default_clocks()
        self._mono = mono
        self._detector = ResumeDetector(mono, through_sleep)
        self._last_told: float | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)
        self._net: QNetworkInformation | None = None
        self._online: bool | None = None

    def start(self) -> None:
        self._detector.poll()
        self._timer.start()
        if sys.platform.startswith("linux"):
            self._watch_logind()
        self._watch_network()

    def stop(self) -> None:
        self._timer.stop()

    @Slot()
    def poll(self) -> None:
        slept = self._detector.poll()
        if slept is not None:
            self._tell(slept, "the clocks")

    def _tell(self, slept: float, source: str) -> None:
        now = time.monotonic()
        if self._last_told is not None and now - self._last_told < DEDUP_S:
            return
        self._last_told = now
        log.info("Resumed after %.0f s asleep (seen by %s): beating now", slept, source)
        self.resumed.emit(slept)

    # --- logind
    def _watch_logind(self) -> None:
        try:
            from PySide6.QtDBus import QDBusConnection
        except ImportError:
            return
        bus = QDBusConnection.systemBus()
        if not bus.isConnected():
            return
        self._system_bus = bus
        slot = SLOT("_on_prepare_for_sleep(bool)")
        bus.connect(LOGIND, LOGIND_PATH, LOGIND_MANAGER, "PrepareForSleep", self, slot)  # type: ignore[call-overload]  # PySide6's stub wants bytes; SLOT() gives the str Qt takes

    @Slot(bool)
    def _on_prepare_for_sleep(self, going: bool) -> None:
        if going:
            self._detector.poll()  # the baseline just before sleep
            log.info("The system is going to sleep")
            return
        slept = self._detector.poll()
        self._tell(slept or 0.0, "logind")

    # --- the network
    def _watch_network(self) -> None:
        try:
            from PySide6.QtNetwork import QNetworkInformation
        except ImportError:
            return
        if not QNetworkInformation.loadBackendByFeatures(QNetworkInformation.Feature.Reachability):
            log.debug("No network information backend: network changes are not watched")
            return
        self._net = QNetworkInformation.instance()
        self._online = self._net.reachability() is QNetworkInformation.Reachability.Online
        self._net.reachabilityChanged.connect(self._on_reachability)

    @Slot(object)
    def _on_reachability(self, reachability) -> None:
        from PySide6.QtNetwork import QNetworkInformation

        online = reachability is QNetworkInformation.Reachability.Online
        if online and self._online is False:
            log.info("The network is back: beating now")
            self.network_up.emit()
        self._online = online
