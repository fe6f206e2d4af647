"""systemd's notification protocol (sd_notify) without libsystemd: one datagram per message.

The protocol is a few newline-separated KEY=VALUE pairs sent to the AF_UNIX datagram socket named in
NOTIFY_SOCKET ('@' stands for the abstract namespace). With no NOTIFY_SOCKET every call is a no-op.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Mapping

log = logging.getLogger(__name__)


def _address(value: str) -> str | bytes | None:
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    if value.startswith("/"):
        return value
    return None  # vsock addresses and the like: not for an agent like this one


class SystemdNotifier:
    def __init__(self, environ: Mapping[str, str] | None = None, pid: int | None = None) -> None:
        environ = os.environ if environ is None else environ
        pid = os.getpid() if pid is None else pid
        self._address = _address(environ.get("NOTIFY_SOCKET", ""))
        self._socket: socket.socket | None = None
        self._failed = False
        self.watchdog_usec = 0
        watchdog_pid = environ.get("WATCHDOG_PID", "")
        if not watchdog_pid or watchdog_pid == str(pid):  # else the watchdog is meant for another process
            try:
                self.watchdog_usec = max(0, int(environ.get("WATCHDOG_USEC", "0")))
            except ValueError:
                self.watchdog_usec = 0
        if self._address is not None and sys.platform != "win32":  # systemd: no AF_UNIX needed elsewhere
            self._socket = socket.socket(
                socket.AF_UNIX, socket.SOCK_DGRAM | getattr(socket, "SOCK_CLOEXEC", 0)
            )
            # Never wait for the reader: a manager that stops reading must not stall the beat loop.
            self._socket.setblocking(False)

    @property
    def enabled(self) -> bool:
        return self._socket is not None

    def notify(self, *fields: str) -> bool:
        """Sends the fields as one message; a failure is logged once and never raised."""
        if self._socket is None or self._address is None:
            return False
        text = "\n".join(f.replace("\n", " ") for f in fields)
        try:
            self._socket.sendto(text.encode("utf-8", "replace"), self._address)
            return True
        except OSError as exc:
            if not self._failed:
                self._failed = True
                log.warning("Cannot notify the service manager: %s", exc)
            return False

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
