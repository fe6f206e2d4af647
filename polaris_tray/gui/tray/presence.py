"""Keeps the tray icon present for the whole session: rebuilt when a host comes, a window when none does.

`shown` when a host holds the icon (only then is "Tray icon shown" logged); `missing` when no host held it
for `wait_s` (at start, or after a panel left and did not come back), so the controller can open the
status window instead. Both may come many times in a session.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal

from polaris_tray.gui.tray.host_watch import TrayHostWatcher
from polaris_tray.gui.tray.icon import TrayIcon

log = logging.getLogger(__name__)


class TrayPresence(QObject):
    shown = Signal()
    missing = Signal()

    def __init__(self, tray: TrayIcon, wait_s: float, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tray = tray
        self.held = False
        self.host = TrayHostWatcher(self)
        self.host.rebuild.connect(self._rebuild)
        self.host.changed.connect(self._changed)
        self._missing_timer = QTimer(self)
        self._missing_timer.setSingleShot(True)
        self._missing_timer.setInterval(round(wait_s * 1000))
        self._missing_timer.timeout.connect(self._on_missing)

    def start(self) -> None:
        self._missing_timer.start()
        self.host.start()

    def stop(self) -> None:
        self.host.stop()
        self._missing_timer.stop()

    def _rebuild(self) -> None:
        self.tray.rebuild()  # always: the first icon may have been built before this host existed
        self.tray.show()

    def _changed(self) -> None:
        kind = self.host.kind
        if self.host.holds_icon and not self.held:
            self.held = True
            self._missing_timer.stop()
            log.info("Tray icon shown (%s host)", "StatusNotifierItem" if kind == "sni" else "XEmbed")
            self.shown.emit()
        elif not self.host.holds_icon and self.held:
            self.held = False
            log.warning("The tray host left (%s); the icon comes back with it", kind or "no host")
            self._missing_timer.start()
        elif not self.held and kind == "sni-no-host":
            log.info("A tray watcher is up, waiting for a host to display the icon")

    def _on_missing(self) -> None:
        if not self.held:
            log.warning("No system tray found; showing the status window instead")
            self.missing.emit()
