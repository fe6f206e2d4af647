# ruff: noqa: UP037, F821, F722  (dbus-next reads D-Bus signatures from string annotations)
"""A StatusNotifierWatcher and host, as a panel runs them (KDE, GNOME's AppIndicator, waybar), over dbus-next.

It owns `org.kde.StatusNotifierWatcher`, records the items that register, registers itself as the host,
and reads an item back: IconPixmap (ARGB32, network byte order), Status, Id/Title, NewIcon signals, the
com.canonical.dbusmenu layout, and clicks on menu entries.
"""

from __future__ import annotations

import threading
import time

from dbus_next import Message, MessageType, Variant
from dbus_next.constants import PropertyAccess
from dbus_next.service import ServiceInterface, dbus_property, method, signal

from tests.support.dbus_bus import Connection

WATCHER = "org.kde.StatusNotifierWatcher"
ITEM_IFACE = "org.kde.StatusNotifierItem"
MENU_IFACE = "com.canonical.dbusmenu"


class _Watcher(ServiceInterface):
    def __init__(self, owner: SniWatcher) -> None:
        super().__init__(WATCHER)
        self.owner = owner

    @method()
    def RegisterStatusNotifierItem(self, service: "s"):
        self.owner._item_registered(service)

    @method()
    def RegisterStatusNotifierHost(self, service: "s"):
        pass

    @dbus_property(access=PropertyAccess.READ)
    def RegisteredStatusNotifierItems(self) -> "as":
        return [f"{bus}{path}" for bus, path in self.owner.items]

    @dbus_property(access=PropertyAccess.READ)
    def IsStatusNotifierHostRegistered(self) -> "b":
        return self.owner.with_host

    @dbus_property(access=PropertyAccess.READ)
    def ProtocolVersion(self) -> "i":
        return 0

    @signal()
    def StatusNotifierItemRegistered(self, service) -> "s":
        return service

    @signal()
    def StatusNotifierItemUnregistered(self, service) -> "s":
        return service

    @signal()
    def StatusNotifierHostRegistered(self):
        return None


class SniWatcher:
    """Watcher + host on one connection. `start()` takes the name (the panel arrives); `stop()` leaves."""

    def __init__(self, address: str, with_host: bool = True) -> None:
        self.address = address
        self.with_host = with_host  # False: a watcher whose panel has not registered its host yet
        self.conn: Connection | None = None
        self.items: list[tuple[str, str]] = []  # (bus name, object path)
        self.signals: list[tuple[float, str, str]] = []  # (monotonic time, sender, member)
        self.registered_at: float | None = None
        self.started_at: float | None = None
        self._changed = threading.Condition()

    def start(self) -> SniWatcher:
        self.conn = Connection(self.address)
        self._iface = _Watcher(self)
        self.conn.bus.export("/StatusNotifierWatcher", self._iface)
        self.started_at = time.monotonic()  # the panel arrives: from here items may register
        self.conn.run(self.conn.bus.request_name(WATCHER))
        self.conn.bus.add_message_handler(self._on_message)
        self.conn.call(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "AddMatch",
            "s",
            (f"type='signal',interface='{ITEM_IFACE}'",),
        )
        if self.with_host:
            self.conn.call_soon(self._iface.StatusNotifierHostRegistered)
        return self

    def register_host(self) -> None:
        self.with_host = True
        self.conn.call_soon(self._iface.StatusNotifierHostRegistered)

    def stop(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        with self._changed:
            self.items.clear()

    # --- recording
    def _item_registered(self, service: str) -> None:
        sender = self._current_sender
        bus, path = (sender, service) if service.startswith("/") else (service, "/StatusNotifierItem")
        with self._changed:
            self.items.append((bus, path))
            self.registered_at = time.monotonic()
            self._changed.notify_all()
        self._iface.StatusNotifierItemRegistered(f"{bus}{path}")

    _current_sender = ""

    def _on_message(self, msg: Message):
        if msg.message_type is MessageType.METHOD_CALL:
            self._current_sender = msg.sender  # read by the method handler that runs next
        elif msg.message_type is MessageType.SIGNAL and msg.interface == ITEM_IFACE:
            with self._changed:
                self.signals.append((time.monotonic(), msg.sender, msg.member))
                self._changed.notify_all()

    def wait_item(self, timeout: float) -> tuple[str, str]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self.items:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no StatusNotifierItem registered within {timeout} s")
                self._changed.wait(left)
            return self.items[-1]

    def count(self, member: str) -> int:
        with self._changed:
            return sum(1 for _, _, m in self.signals if m == member)

    # --- reading the item as a host does
    def item(self) -> SniItem:
        bus, path = self.wait_item(0)
        return SniItem(self.conn, bus, path)


class SniItem:
    def __init__(self, conn: Connection, bus: str, path: str) -> None:
        self.conn, self.bus, self.path = conn, bus, path

    def prop(self, name: str):
        return self.conn.get_property(self.bus, self.path, ITEM_IFACE, name)

    def pixmap_rgb(self) -> tuple[int, int, int]:
        """The dominant opaque colour of the largest IconPixmap (ARGB32, network byte order)."""
        pixmaps = self.prop("IconPixmap")
        assert pixmaps, "the item has no IconPixmap"
        w, h, data = max(pixmaps, key=lambda p: p[0] * p[1])
        counts: dict[tuple[int, int, int], int] = {}
        for i in range(0, w * h * 4, 4):
            a, r, g, b = data[i], data[i + 1], data[i + 2], data[i + 3]
            if a > 200:
                key = (r, g, b)
                counts[key] = counts.get(key, 0) + 1
        return max(counts, key=counts.get)

    def menu_path(self) -> str:
        return self.prop("Menu")

    def menu_labels(self) -> dict[str, int]:
        """Label -> id of the top level entries, from com.canonical.dbusmenu GetLayout."""
        _rev, layout = self.conn.call(
            self.bus, self.menu_path(), MENU_IFACE, "GetLayout", "iias", (0, -1, [])
        )
        labels = {}
        for child in layout[2]:
            _id, props, _children = child.value
            label = props.get("label")
            if label is not None:
                labels[label.value.replace("_", "")] = _id
        return labels

    def click(self, entry_id: int) -> None:
        self.conn.call(
            self.bus,
            self.menu_path(),
            MENU_IFACE,
            "Event",
            "isvu",
            (entry_id, "clicked", Variant("i", 0), int(time.time())),
        )

    def context_menu(self, x: int = 10, y: int = 10) -> None:
        self.conn.call(self.bus, self.path, ITEM_IFACE, "ContextMenu", "ii", (x, y))


def nearest(rgb: tuple[int, int, int], palette: dict[str, tuple[int, int, int]]) -> str:
    return min(palette, key=lambda name: sum((a - b) ** 2 for a, b in zip(rgb, palette[name], strict=True)))
