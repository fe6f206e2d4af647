"""A NOTIFY_SOCKET of the test's own: what systemd would hear from a Type=notify service."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path


class NotifySocket:
    """Binds an AF_UNIX datagram socket and records each message with its arrival time (monotonic)."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(self.path)
        self._cond = threading.Condition()
        self.messages: list[tuple[float, dict[str, str]]] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while True:
            try:
                data = self._sock.recv(65536)
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode().split("\n") if "=" in line)
            with self._cond:
                self.messages.append((time.monotonic(), fields))
                self._cond.notify_all()

    def wait_for(self, predicate, timeout: float = 15.0, after: float = 0.0) -> tuple[float, dict] | None:
        """The first message, arrived after `after`, that satisfies predicate; None at the timeout."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cond:
            while True:
                for item in self.messages[seen:]:
                    if item[0] > after and predicate(item[1]):
                        return item
                seen = len(self.messages)
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def since(self, t: float) -> list[dict]:
        with self._cond:
            return [m for at, m in self.messages if at >= t]

    def close(self) -> None:
        self._sock.close()
