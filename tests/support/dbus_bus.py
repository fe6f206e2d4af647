"""A private D-Bus daemon and a dbus-next connection to it, driven from synchronous tests.

dbus-next is asyncio; each connection runs its loop in a thread, and tests call `run(coro)` to wait on it.
The same daemon serves as a "system bus" when its address is handed over as DBUS_SYSTEM_BUS_ADDRESS.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import threading

from dbus_next import BusType, Message, MessageType
from dbus_next.aio import MessageBus


class PrivateBus:
    """`dbus-daemon --session` on a private socket; stopped with the test."""

    def __init__(self) -> None:
        self.address = ""
        self._proc: subprocess.Popen | None = None

    def start(self) -> PrivateBus:
        daemon = shutil.which("dbus-daemon")
        if not daemon:
            raise RuntimeError("dbus-daemon is missing: run ./build_scripts/bootstrap.sh")
        self._proc = subprocess.Popen(
            [daemon, "--session", "--nofork", "--nopidfile", "--print-address=1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        )
        self.address = self._proc.stdout.readline().strip()
        if not self.address:
            raise RuntimeError("dbus-daemon printed no address")
        return self

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(5)


class Connection:
    """One dbus-next connection with its own event loop thread."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

        async def connect() -> MessageBus:  # built inside the loop: dbus-next binds the loop it is made in
            return await MessageBus(bus_address=address, bus_type=BusType.SESSION).connect()

        self.bus: MessageBus = self.run(connect())

    def run(self, coro, timeout: float = 10):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call_soon(self, fn, *args) -> None:
        self.loop.call_soon_threadsafe(fn, *args)

    def call(self, destination: str, path: str, interface: str, member: str, signature: str = "", body=()):  # noqa: PLR0917
        """A method call; returns the reply's body, raises on an error reply."""

        async def go():
            reply = await self.bus.call(
                Message(
                    destination=destination,
                    path=path,
                    interface=interface,
                    member=member,
                    signature=signature,
                    body=list(body),
                )
            )
            if reply.message_type is MessageType.ERROR:
                raise RuntimeError(f"{reply.error_name}: {reply.body}")
            return reply.body

        return self.run(go())

    def get_property(self, destination: str, path: str, interface: str, name: str):
        (variant,) = self.call(
            destination, path, "org.freedesktop.DBus.Properties", "Get", "ss", (interface, name)
        )
        return variant.value

    def name_owner(self, name: str) -> str | None:
        try:
            (owner,) = self.call(
                "org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus",
                "GetNameOwner",
                "s",
                (name,),
            )
            return owner
        except RuntimeError:
            return None

    def close(self) -> None:
        try:
            self.bus.disconnect()
            self.run(self.bus.wait_for_disconnect(), timeout=5)
        except Exception:  # noqa: S110 - the daemon may be gone already
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
