"""The tray's side of the one-agent rule: the Qt-free lock (core.platform.instance_dir) elects the instance,
a QLocalServer on the socket beside it takes later launches' arguments.

Lock and socket live in one private directory, so no other user can squat either, receive our arguments or
make us quit. A listen() that fails is reported (listen_error), never silent.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from polaris_tray.core.platform.instance_dir import InstanceLock, instance_name
from polaris_tray.core.platform.instance_dir import send_to_running as _send_posix

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_MS = 1500
REPLY_TIMEOUT_MS = 3000


def _server_name(lock: InstanceLock) -> str:
    # POSIX: a full path in our private dir. Windows: a named pipe of this user and session, its name ending
    # in the holder's secret token (InstanceLock.channel); Qt's UserAccessOption also limits it to us.
    return lock.channel()


def send_to_running(message: dict[str, Any], lock: InstanceLock | None = None) -> str | None:
    """The running instance's reply, or None when no instance answers. message: a JSON object."""
    lock = lock or InstanceLock()
    if sys.platform != "win32":
        return _send_posix(message, lock)
    name = _server_name(lock)
    if not name:
        return None
    sock = QLocalSocket()
    sock.connectToServer(name)
    if not sock.waitForConnected(CONNECT_TIMEOUT_MS):
        return None
    sock.write(json.dumps(message).encode() + b"\n")
    sock.flush()
    reply = b""
    while b"\n" not in reply and sock.waitForReadyRead(REPLY_TIMEOUT_MS):
        reply += bytes(sock.readAll().data())
    sock.disconnectFromServer()
    return reply.decode(errors="replace").strip() or None


class SingleInstance(QObject):
    """Call acquire(); when it returns False another instance runs and send_to_running() reaches it."""

    message = Signal(object)  # a dict: a later launch's request, checked by the receiver

    def __init__(self, lock: InstanceLock | None = None) -> None:
        super().__init__()
        self.lock = lock or InstanceLock()
        self._server: QLocalServer | None = None
        self._buffers: dict[int, bytes] = {}
        self.listen_error: str | None = None

    def acquire(self) -> bool:
        if not self.lock.acquire("tray"):
            return False
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        try:
            if sys.platform != "win32":
                self.lock.clear_stale_socket()  # we hold the lock: whatever is there is a dead instance's
            ok = self._server.listen(_server_name(self.lock))
            reason = self._server.errorString()
        except OSError as exc:
            ok, reason = False, str(exc)
        if not ok:
            # We are still the one agent (we hold the lock); later launches just cannot reach us.
            self.listen_error = f"Later launches cannot reach this instance: {reason}"
            log.error("%s", self.listen_error)
            return True
        self._server.newConnection.connect(self._on_connection)
        return True

    def _on_connection(self) -> None:
        assert self._server is not None
        while self._server.hasPendingConnections():
            sock = self._server.nextPendingConnection()
            sock.readyRead.connect(lambda s=sock: self._on_ready(s))

    def _on_ready(self, sock: QLocalSocket) -> None:
        buffer = self._buffers.pop(id(sock), b"") + bytes(sock.readAll().data())
        if b"\n" not in buffer:
            self._buffers[id(sock)] = buffer[:65536]
            return
        try:
            message = json.loads(buffer.split(b"\n", 1)[0])
            if not isinstance(message, dict):
                raise ValueError
        except (ValueError, RecursionError):
            sock.write(b"error\n")
        else:
            sock.write(b"ok\n")
            self.message.emit(message)
        sock.flush()
        sock.disconnectFromServer()

    def release(self) -> None:
        if self._server is not None:
            self._server.close()  # removes the socket file
            self._server = None
        self.lock.release()


__all__ = ["SingleInstance", "instance_name", "send_to_running"]
