"""A raw-socket server on 127.0.0.1 that answers the way a hostile or broken orchestrator would.

http.server cannot send a status line and then stop half-way through the headers, or speak HTTP/1.0 with a
body that ends at EOF; this one writes bytes by hand, so every slow-reply shape below is real.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass

# The slow shapes: each keeps the agent reading, one byte every `every` seconds, well inside a read timeout.
KEEPALIVE_DRIP = "keepalive_drip"  # HTTP/1.1, Content-Length, kept alive, body dripping
CLOSE_DRIP = "close_drip"  # HTTP/1.1, Content-Length, Connection: close, body dripping
HTTP10_DRIP = "http10_drip"  # HTTP/1.0, no Content-Length (body ends at EOF), body dripping
HEADER_DRIP = "header_drip"  # the status line, then the headers one byte at a time
SLOW_SHAPES = (KEEPALIVE_DRIP, CLOSE_DRIP, HTTP10_DRIP, HEADER_DRIP)
OK = "ok"

_OK_BODY = json.dumps({"status": "success", "last_seen": "2026-11-27T12:00:00", "commands": []}).encode()


@dataclass
class Raw:
    """Send these bytes as the whole reply, then close."""

    data: bytes


def ok_reply(body: bytes = _OK_BODY, *, close: bool = False) -> bytes:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return (head + ("Connection: close\r\n" if close else "") + "\r\n").encode() + body


def reply(code: int, body: bytes, headers: dict | None = None) -> Raw:
    lines = [f"HTTP/1.1 {code} X", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return Raw(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)


class HostileServer:
    """`script(n)` picks the shape of the n-th request (0-based); `shape` when there is no script."""

    def __init__(self, shape=OK, *, every: float = 1.0, tls: ssl.SSLContext | None = None) -> None:
        self.shape = shape
        self.script = None
        self.every = every
        self.arrivals: list[float] = []
        self.bodies: list[bytes] = []
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._tls = tls
        self._conns: set[socket.socket] = set()
        self._handlers: list[threading.Thread] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        scheme = "https" if self._tls else "http"
        return f"{scheme}://127.0.0.1:{self._listener.getsockname()[1]}/api/v1"

    def wait_for(self, count: int, timeout: float = 15.0) -> bool:
        """Block until `count` requests have arrived: a condition, not a sleep."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.arrivals) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def join_handlers(self, timeout: float = 5.0) -> None:
        """Wait for the threads serving connections the clients closed: each ends on its EOF, soon after."""
        deadline = time.monotonic() + timeout
        with self._cond:
            handlers = list(self._handlers)
        for handler in handlers:
            handler.join(max(0.0, deadline - time.monotonic()))

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(2)
        self._listener.close()
        with self._cond:
            for conn in list(self._conns):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- the server side
    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            handler = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            with self._cond:
                self._handlers = [t for t in self._handlers if t.is_alive()]
                self._handlers.append(handler)
            handler.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.settimeout(30)
            if self._tls is not None:
                conn = self._tls.wrap_socket(conn, server_side=True)
            with self._cond:
                self._conns.add(conn)
            while not self._stopping.is_set():
                body = _read_request(conn)
                if body is None:
                    return
                with self._cond:
                    index = len(self.arrivals)
                    self.arrivals.append(time.monotonic())
                    self.bodies.append(body)
                    self._cond.notify_all()
                shape = self.script(index) if self.script else self.shape
                if not self._answer(conn, shape):
                    return
        except (OSError, ssl.SSLError):
            pass
        finally:
            with self._cond:
                self._conns.discard(conn)
            conn.close()

    def _drip(self, conn: socket.socket, data: bytes) -> None:
        for i in range(len(data)):
            if self._stopping.wait(self.every):
                return
            conn.sendall(data[i : i + 1])

    def _answer(self, conn: socket.socket, shape) -> bool:
        """Write one reply; True when the connection stays open for another request."""
        if shape == OK:
            conn.sendall(ok_reply())
            return True
        if isinstance(shape, Raw):
            conn.sendall(shape.data)
            return False
        if shape == KEEPALIVE_DRIP:
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
            )
            self._drip(conn, b" " * 100000)
        elif shape == CLOSE_DRIP:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n")
            self._drip(conn, b" " * 100000)
        elif shape == HTTP10_DRIP:
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n")
            self._drip(conn, b" " * 100000)
        elif shape == HEADER_DRIP:
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            self._drip(conn, b"X-Slow: " + b"a" * 100000 + b"\r\n\r\n")
        else:
            raise ValueError(shape)
        return False


def _read_request(conn: socket.socket) -> bytes | None:
    """The request's body, or None when the peer closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        body += chunk
    return body
