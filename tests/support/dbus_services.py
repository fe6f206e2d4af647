# ruff: noqa: UP037, F821, F722  (dbus-next reads D-Bus signatures from string annotations)
"""Desktop services a session has, for the tests: a notification server that records, a fake logind.

Both are real D-Bus services on a private bus (tests/support/dbus_bus.py); only logind's behaviour is
scripted, because a suspend cannot be produced here.
"""

from __future__ import annotations

import threading
import time

from dbus_next.service import ServiceInterface, method, signal

from tests.support.dbus_bus import Connection

NOTIFICATIONS = "org.freedesktop.Notifications"


class _Notifications(ServiceInterface):
    def __init__(self, owner: NotificationServer) -> None:
        super().__init__(NOTIFICATIONS)
        self.owner = owner

    @method()
    def Notify(  # noqa: PLR0917 - the protocol's signature
        self,
        app_name: "s",
        replaces_id: "u",
        app_icon: "s",
        summary: "s",
        body: "s",
        actions: "as",
        hints: "a{sv}",
        expire_timeout: "i",
    ) -> "u":
        return self.owner._record(app_name, app_icon, summary, body, {k: v.value for k, v in hints.items()})

    @method()
    def GetCapabilities(self) -> "as":
        return ["body", "icon-static"]

    @method()
    def GetServerInformation(self) -> "ssss":
        return ["polaris-test-recorder", "polaris", "1", "1.2"]

    @method()
    def CloseNotification(self, notification_id: "u"):
        pass

    @signal()
    def NotificationClosed(self, notification_id, reason) -> "uu":
        return [notification_id, reason]


class NotificationServer:
    """Records every Notify: (monotonic time, app name, icon, summary, body, hints)."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.received: list[dict] = []
        self._cond = threading.Condition()
        self.conn: Connection | None = None

    def start(self) -> NotificationServer:
        self.conn = Connection(self.address)
        self.conn.bus.export("/org/freedesktop/Notifications", _Notifications(self))
        self.conn.run(self.conn.bus.request_name(NOTIFICATIONS))
        return self

    def _record(self, app_name, app_icon, summary, body, hints) -> int:
        with self._cond:
            self.received.append(
                {"at": time.monotonic(), "app": app_name, "icon": app_icon, "summary": summary, "body": body}
                | {"hints": hints}
            )
            self._cond.notify_all()
            return len(self.received)

    def wait_for(self, count: int, timeout: float) -> list[dict]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{len(self.received)} notifications, wanted {count}: {self.received}"
                    )
                self._cond.wait(left)
            return list(self.received)

    def stop(self) -> None:
        if self.conn is not None:
            self.conn.close()


class _LoginManager(ServiceInterface):
    def __init__(self) -> None:
        super().__init__("org.freedesktop.login1.Manager")

    @signal()
    def PrepareForSleep(self, start) -> "b":
        return start


class FakeLogind:
    """`org.freedesktop.login1` on the bus handed to the app as its system bus; emits PrepareForSleep."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.conn: Connection | None = None

    def start(self) -> FakeLogind:
        self.conn = Connection(self.address)
        self._manager = _LoginManager()
        self.conn.bus.export("/org/freedesktop/login1", self._manager)
        self.conn.run(self.conn.bus.request_name("org.freedesktop.login1"))
        return self

    def prepare_for_sleep(self, start: bool) -> None:
        self.conn.call_soon(self._manager.PrepareForSleep, start)

    def stop(self) -> None:
        if self.conn is not None:
            self.conn.close()
