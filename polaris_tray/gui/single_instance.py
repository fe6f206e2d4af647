"""One agent per user: a QLockFile elects the instance, a QLocalServer takes later launches' arguments.

QLockFile notices a lock whose process is gone (a kill -9, a crash) and takes it over, so a stale lock
never blocks the next start.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import tempfile
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

CONNECT_TIMEOUT_MS = 1500
REPLY_TIMEOUT_MS = 3000


def _user_key() -> str:
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    return hashlib.sha256(f"polaris-tray:{user}".encode()).hexdigest()[:16]


def instance_name() -> str:
    return os.environ.get("POLARIS_TRAY_INSTANCE", f"polaris-tray-{_user_key()}")


def lock_path() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(runtime) if runtime and Path(runtime).is_dir() else Path(tempfile.gettempdir())
    return base / f"{instance_name()}.lock"


def send_to_running(message: dict) -> str | None:
    """The running instance's reply, or None when no instance answers. message: a JSON object."""
    sock = QLocalSocket()
    sock.connectToServer(instance_name())
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

    def __init__(self) -> None:
        super().__init__()
        self._lock = QLockFile(str(lock_path()))
        self._lock.setStaleLockTime(0)  # never stale by age: only a dead owner makes it stale
        self._server: QLocalServer | None = None
        self._buffers: dict[int, bytes] = {}

    def acquire(self) -> bool:
        if not self._lock.tryLock(0):
            return False
        QLocalServer.removeServer(instance_name())  # a socket left by a killed instance
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not self._server.listen(instance_name()):
            return True  # we are the one agent; later launches just cannot reach us
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
        except ValueError:
            sock.write(b"error\n")
        else:
            sock.write(b"ok\n")
            self.message.emit(message)
        sock.flush()
        sock.disconnectFromServer()

    def release(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        self._lock.unlock()
