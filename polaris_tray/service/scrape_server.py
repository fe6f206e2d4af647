"""A tiny HTTP/1.0 server for Prometheus scrapes that cannot starve the heartbeat of descriptors or CPU.

One thread and a selector, no thread per connection. At most MAX_OPEN connections are open at once:
beyond that the listener is not polled, so further clients wait in the kernel's backlog and cost this
process nothing. Every connection has a read and a write deadline and a request size cap. When accept()
fails for want of descriptors (EMFILE, ENFILE, ...) the listener rests for a moment instead of spinning:
the pending connection stays readable, and polling it again at once would burn a core. At most
MAX_ACCEPTS_PER_S connections are taken a second, so a flood of scrapes cannot buy a core of rendering.

Every request gets one answer and the connection closes: a scraper needs no more.
"""

from __future__ import annotations

import errno
import logging
import selectors
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

MAX_OPEN = 32
READ_TIMEOUT_S = 5.0
WRITE_TIMEOUT_S = 5.0
MAX_REQUEST_BYTES = 8192
ACCEPT_REST_S = 0.5  # after EMFILE and the like: the listener waits this long before the next accept
# Connections taken per second at most (a burst of as many): Prometheus asks every 15 s, while a local
# flood of scrapes would otherwise keep a core busy rendering. The rest wait in the kernel's backlog.
MAX_ACCEPTS_PER_S = 20.0
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_NO_DESCRIPTORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


@dataclass
class _Conn:
    sock: socket.socket
    deadline: float
    inbox: bytearray = field(default_factory=bytearray)
    outbox: memoryview | None = None


def _response(status: str, body: bytes, content_type: str = "text/plain; charset=utf-8", head=False) -> bytes:
    headers = (
        f"HTTP/1.0 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return headers.encode("ascii") + (b"" if head else body)


def _listen_on(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def connection_budget(default: int = MAX_OPEN) -> int:
    """At most a quarter of the process's descriptor limit goes to scrapes, so the beat always has some."""
    if sys.platform == "win32":  # no such limit to share
        return default
    import resource

    try:
        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError):
        return default
    if soft == resource.RLIM_INFINITY:
        return default
    return max(1, min(default, soft // 4))


class ScrapeServer:
    """Serves render() (the metrics text) for GET and HEAD on any path, as prometheus_client's server did."""

    def __init__(
        self,
        host: str,
        port: int,
        render: Callable[[], bytes],
        *,
        max_open: int | None = None,  # None: connection_budget()
        read_timeout_s: float = READ_TIMEOUT_S,
        write_timeout_s: float = WRITE_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
        listener: socket.socket | None = None,  # already listening (tests hand in one that misbehaves)
        max_accepts_per_s: float = MAX_ACCEPTS_PER_S,
    ) -> None:
        self._render = render
        self._max_open = max_open or connection_budget()
        self._read_timeout = read_timeout_s
        self._write_timeout = write_timeout_s
        self._clock = clock
        self._listener = listener or _listen_on(host, port)
        self._listener.setblocking(False)
        self.address: tuple[str, int] = self._listener.getsockname()[:2]
        self._selector = selectors.DefaultSelector()
        self._waker_r, self._waker_w = socket.socketpair()
        self._waker_r.setblocking(False)
        self._selector.register(self._waker_r, selectors.EVENT_READ, None)
        self._conns: dict[int, _Conn] = {}
        self._listening = False
        self._rest_until: float | None = None
        self._rate = max_accepts_per_s
        self._tokens = max_accepts_per_s  # a token bucket: one token per connection taken
        self._refilled = clock()
        self._short_logged = False
        self._closed = threading.Event()
        self._listen(True)
        # a thread: scrapes are answered while the beat thread sits in a request, main waits for signals
        self._thread = threading.Thread(target=self._run, name="metrics-http", daemon=True)
        self._thread.start()

    # --- any thread
    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        try:
            self._waker_w.send(b"x")
        except OSError:
            pass
        self._thread.join(2.0)
        for conn in list(self._conns.values()):
            conn.sock.close()
        self._conns.clear()
        self._selector.close()
        for sock in (self._listener, self._waker_r, self._waker_w):
            sock.close()

    @property
    def open_connections(self) -> int:
        return len(self._conns)

    # --- the server thread
    def _listen(self, on: bool) -> None:
        if on and not self._listening:
            self._selector.register(self._listener, selectors.EVENT_READ, "listen")
        elif not on and self._listening:
            self._selector.unregister(self._listener)
        self._listening = on

    def _timeout(self, now: float) -> float | None:
        moments = [c.deadline for c in self._conns.values()]
        if self._rest_until is not None:
            moments.append(self._rest_until)
        return max(0.0, min(moments) - now) if moments else None

    def _run(self) -> None:
        while not self._closed.is_set():
            try:
                events = self._selector.select(self._timeout(self._clock()))
            except OSError:  # closed under us
                return
            for key, mask in events:
                if key.data is None:
                    return  # woken by close()
                if key.data == "listen":
                    self._accept()
                elif mask & selectors.EVENT_READ:
                    self._read(key.data)
                else:
                    self._write(key.data)
            self._expire(self._clock())

    def _may_take(self) -> bool:
        """A connection's worth of the rate is there (taken on accept); else the listener rests till it is."""
        now = self._clock()
        self._tokens = min(self._rate, self._tokens + (now - self._refilled) * self._rate)
        self._refilled = now
        if self._tokens >= 1.0:
            return True
        self._listen(False)
        self._rest_until = now + (1.0 - self._tokens) / self._rate
        return False

    def _accept(self) -> None:
        while len(self._conns) < self._max_open:
            if not self._may_take():
                return
            try:
                sock, _peer = self._listener.accept()
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno in _NO_DESCRIPTORS:
                    if not self._short_logged:
                        self._short_logged = True
                        log.warning("Metrics: no descriptors to accept a scrape (%s); resting", exc.strerror)
                    self._listen(False)
                    self._rest_until = self._clock() + ACCEPT_REST_S
                    return
                continue  # ECONNABORTED and the like: that client is gone, the next may be fine
            self._short_logged = False
            self._tokens -= 1.0
            sock.setblocking(False)
            conn = _Conn(sock, self._clock() + self._read_timeout)
            self._conns[sock.fileno()] = conn
            self._selector.register(sock, selectors.EVENT_READ, conn)
        self._listen(False)  # full: the rest wait in the kernel's backlog

    def _read(self, conn: _Conn) -> None:
        try:
            data = conn.sock.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            self._drop(conn)
            return
        if not data:
            self._drop(conn)
            return
        conn.inbox += data
        end = conn.inbox.find(b"\r\n\r\n")
        if end < 0:
            end = conn.inbox.find(b"\n\n")
        if end < 0:
            if len(conn.inbox) > MAX_REQUEST_BYTES:
                self._answer(conn, _response("431 Request Header Fields Too Large", b"Request too large\n"))
            return
        self._answer(conn, self._respond(bytes(conn.inbox[:end])))

    def _respond(self, head: bytes) -> bytes:
        parts = head.split(b"\r\n", 1)[0].split(b"\n", 1)[0].split()
        if len(parts) < 2:
            return _response("400 Bad Request", b"Bad request\n")
        method = parts[0]
        if method not in (b"GET", b"HEAD"):
            return _response("405 Method Not Allowed", b"Only GET and HEAD\n")
        if parts[1].split(b"?", 1)[0] == b"/favicon.ico":
            return _response("200 OK", b"", head=method == b"HEAD")
        try:
            body = self._render()
        except Exception:  # a collector failing must not take the server down
            log.exception("Metrics: rendering failed")
            return _response("500 Internal Server Error", b"Rendering failed\n")
        return _response("200 OK", body, CONTENT_TYPE, head=method == b"HEAD")

    def _answer(self, conn: _Conn, data: bytes) -> None:
        conn.outbox = memoryview(data)
        conn.deadline = self._clock() + self._write_timeout
        self._selector.modify(conn.sock, selectors.EVENT_WRITE, conn)
        self._write(conn)

    def _write(self, conn: _Conn) -> None:
        assert conn.outbox is not None
        try:
            sent = conn.sock.send(conn.outbox)
        except BlockingIOError:
            return
        except OSError:
            self._drop(conn)
            return
        conn.outbox = conn.outbox[sent:]
        if not conn.outbox:
            self._drop(conn)

    def _drop(self, conn: _Conn) -> None:
        fd = conn.sock.fileno()
        if self._conns.pop(fd, None) is not None:
            self._selector.unregister(conn.sock)
        conn.sock.close()

    def _expire(self, now: float) -> None:
        for conn in [c for c in self._conns.values() if c.deadline <= now]:
            self._drop(conn)
        if self._rest_until is not None and now >= self._rest_until:
            self._rest_until = None
        if self._rest_until is None and len(self._conns) < self._max_open:
            self._listen(True)
