"""Watching for a tray host for the whole session, so the icon appears whenever a panel does.

Qt chooses between StatusNotifierItem (D-Bus) and XEmbed when a QSystemTrayIcon is constructed and never
looks again: an icon built before the panel's watcher appears stays invisible all session (the login race
of KeePassXC, Nextcloud, OpenSnitch...). So we watch: the `org.kde.StatusNotifierWatcher` name owner and
its host registration over QtDBus, and XEmbed through QSystemTrayIcon.isSystemTrayAvailable(), and say
when the icon must be (re)built and whether a host is there to hold it.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import SLOT, QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QSystemTrayIcon

if TYPE_CHECKING:
    from PySide6.QtDBus import QDBusConnection

log = logging.getLogger(__name__)

WATCHER = "org.kde.StatusNotifierWatcher"
WATCHER_PATH = "/StatusNotifierWatcher"
XEMBED_POLL_MS = 1000  # XEmbed has no signal Qt passes on: a cheap selection-owner query


class TrayHostWatcher(QObject):
    """`rebuild` when an icon must be made afresh (a host came or came back); `changed` on any change.

    `kind` is "sni" (a watcher with a host), "sni-no-host" (a watcher, nothing displays items yet),
    "xembed", or None.
    """

    rebuild = Signal()
    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._bus: QDBusConnection | None = None
        self._sni_owner = ""
        self._sni_host = False
        self._xembed = False
        self._poll = QTimer(self)
        self._poll.setInterval(XEMBED_POLL_MS)
        self._poll.timeout.connect(self._check_xembed)

    @property
    def kind(self) -> str | None:
        if self._sni_owner:
            return "sni" if self._sni_host else "sni-no-host"
        return "xembed" if self._xembed else None

    @property
    def holds_icon(self) -> bool:
        return self.kind in ("sni", "xembed")

    def start(self) -> None:
        if sys.platform.startswith("linux"):
            self._watch_dbus()
        self._check_xembed(initial=True)
        self._poll.start()

    def stop(self) -> None:
        self._poll.stop()

    # --- StatusNotifierItem over D-Bus
    def _watch_dbus(self) -> None:
        try:
            from PySide6.QtDBus import QDBusConnection, QDBusServiceWatcher
        except ImportError:  # a build without QtDBus: XEmbed only
            return
        bus = QDBusConnection.sessionBus()
        if not bus.isConnected():
            log.info("No D-Bus session bus: only an XEmbed tray can show the icon")
            return
        self._bus = bus
        self._service_watcher = QDBusServiceWatcher(
            WATCHER, bus, QDBusServiceWatcher.WatchModeFlag.WatchForOwnerChange, self
        )
        self._service_watcher.serviceOwnerChanged.connect(self._on_owner_changed)
        for name, slot in (
            ("StatusNotifierHostRegistered", SLOT("_on_host_registered()")),
            ("StatusNotifierHostUnregistered", SLOT("_on_host_unregistered()")),
        ):
            bus.connect("", WATCHER_PATH, WATCHER, name, self, slot)  # type: ignore[call-overload]  # PySide6's stub wants bytes; SLOT() gives the str Qt takes
        reply = bus.interface().serviceOwner(WATCHER)
        owner = reply.value() if reply.isValid() else ""
        if owner:
            self._on_owner_changed(WATCHER, "", owner)

    def _host_registered(self) -> bool:
        from PySide6.QtDBus import QDBus, QDBusMessage

        msg = QDBusMessage.createMethodCall(WATCHER, WATCHER_PATH, "org.freedesktop.DBus.Properties", "Get")
        msg.setArguments([WATCHER, "IsStatusNotifierHostRegistered"])
        assert self._bus is not None  # owners are watched only on a connected bus
        reply = self._bus.call(msg, QDBus.CallMode.Block, 1000)
        args = reply.arguments()
        if not args:
            return False
        value = args[0]
        value = value.variant() if hasattr(value, "variant") else value
        return bool(value)

    @Slot(str, str, str)
    def _on_owner_changed(self, _name: str, _old: str, new: str) -> None:
        before = self.kind
        self._sni_owner = new
        self._sni_host = bool(new) and self._host_registered()
        log.info("Tray watcher %s", "appeared" if new else "left")
        if new:
            self.rebuild.emit()  # built now, Qt registers it with this watcher
        else:
            self._xembed = False  # the icon was built for D-Bus: an XEmbed tray needs a fresh one
            self._check_xembed()
        if self.kind != before:
            self.changed.emit()

    @Slot()
    def _on_host_registered(self) -> None:
        if self._sni_owner and not self._sni_host:
            self._sni_host = True
            self.changed.emit()

    @Slot()
    def _on_host_unregistered(self) -> None:
        if self._sni_owner and self._sni_host and not self._host_registered():
            self._sni_host = False
            self.changed.emit()

    # --- XEmbed (X11 panels such as trayer, stalonetray, older desktops)
    @Slot()
    def _check_xembed(self, initial: bool = False) -> None:
        if self._sni_owner:
            return  # with a watcher, isSystemTrayAvailable() answers for D-Bus, not XEmbed
        available = QSystemTrayIcon.isSystemTrayAvailable()
        if available == self._xembed and not initial:
            return
        self._xembed = available
        if available:
            self.rebuild.emit()
            if not sys.platform.startswith("linux"):
                self._poll.stop()  # Windows and macOS always have their tray
        self.changed.emit()
