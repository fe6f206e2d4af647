"""The hard deadline under requests: a handle on each request's socket that one call can cut.

requests has no total timeout (a server that drips a byte at a time resets the read timeout with every
byte), so a watchdog cuts the socket of the request under way when its deadline passes; abort() uses the
same cut. The cut must reach the socket that is actually being read: http.client hands the connection's
socket to the response (and sets the connection's `sock` to None) for a reply that closes its
connection, and the TLS layer wraps the socket in a new object. So the cutter holds its own duplicate
descriptor of every socket the request touches, taken the moment the socket exists: shutdown(2) on any
descriptor of a socket ends the reads on all of them, whichever object owns them by then, and a
descriptor we own cannot be reused under us by another file. The duplicates are closed when the request
ends, so they never keep a connection open.
"""

from __future__ import annotations

import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Callable

from requests.adapters import HTTPAdapter
from urllib3.exceptions import (
    ConnectTimeoutError,
    LocationParseError,
    NameResolutionError,
    NewConnectionError,
)
from urllib3.util.connection import allowed_gai_family


class Cutter:
    """The cut for one client: knows the sockets of the request under way; cut() ends it from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handles: list[socket.socket] = []
        self._active = False
        self.timed_out = False
        self.aborted = False

    def begin(self) -> None:
        with self._lock:
            self._close_handles()
            self._active = True
            self.timed_out = False
            self.aborted = False

    def end(self) -> None:
        with self._lock:
            self._active = False
            self._close_handles()

    def adopt(self, sock) -> None:
        """Take a duplicate descriptor of `sock`; shut it at once when this request is already cut."""
        try:
            handle = socket.socket(fileno=_dup_fd(sock))
        except (OSError, ValueError):
            return
        with self._lock:
            self._handles.append(handle)
            if self.timed_out or self.aborted or not self._active:
                _shutdown(handle)

    def cut(self, *, timed_out: bool) -> None:
        with self._lock:
            if not self._active:
                return
            if timed_out:
                self.timed_out = True
            else:
                self.aborted = True
            for handle in self._handles:
                _shutdown(handle)

    def _close_handles(self) -> None:
        for handle in self._handles:
            try:
                handle.close()
            except OSError:
                pass
        self._handles.clear()


def _dup_fd(sock) -> int:
    fd = sock.fileno()
    if fd < 0:
        raise ValueError("closed socket")
    return os.dup(fd)


def _shutdown(handle: socket.socket) -> None:
    try:
        handle.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class Watchdog:
    """One thread for the whole process, cutting each request whose deadline has passed.

    A thread per request would cost a thread start on every beat; a thread per client leaked one per
    Start/Stop. This one runs while any client is open (clients register on creation and leave on
    close) and ends when the last one leaves, so creating and closing clients leaves no thread behind.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Cutter]] = []
        self._live: set[int] = set()  # tickets armed and not yet disarmed or fired
        self._tickets = itertools.count()
        self._clients = 0
        self.thread: threading.Thread | None = None

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread to end (it does once no client is open): for tests and clean exits."""
        thread = self.thread
        if thread is not None:
            thread.join(timeout)

    def register(self) -> None:
        with self._cond:
            self._clients += 1
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="heartbeat-deadline", daemon=True)
                self.thread.start()

    def unregister(self) -> None:
        with self._cond:
            self._clients = max(0, self._clients - 1)
            self._cond.notify()

    def arm(self, cutter: Cutter, seconds: float) -> int:
        with self._cond:
            ticket = next(self._tickets)
            heapq.heappush(self._heap, (self._clock() + seconds, ticket, cutter))
            self._live.add(ticket)
            self._cond.notify()
            return ticket

    def disarm(self, ticket: int) -> None:
        with self._cond:
            self._live.discard(ticket)

    def _run(self) -> None:
        with self._cond:
            try:
                while self._clients > 0:
                    while self._heap and self._heap[0][1] not in self._live:
                        heapq.heappop(self._heap)
                    if not self._heap:
                        self._cond.wait()
                        continue
                    when, ticket, cutter = self._heap[0]
                    left = when - self._clock()
                    if left > 0:
                        self._cond.wait(left)
                        continue
                    heapq.heappop(self._heap)
                    self._live.discard(ticket)
                    cutter.cut(timed_out=True)
            finally:
                self.thread = None
                self._heap.clear()
                self._live.clear()

    def _after_fork(self) -> None:
        """A forked child has no watchdog thread: start afresh (a lock held at the fork is dropped too)."""
        self._cond = threading.Condition()
        self._heap, self._live, self.thread = [], set(), None
        if self._clients:
            self._clients -= 1
            self.register()


WATCHDOG = Watchdog()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=WATCHDOG._after_fork)


class CuttableAdapter(HTTPAdapter):
    """An adapter whose connections hand each socket to a Cutter as soon as it exists or is reused."""

    def __init__(self, cutter: Cutter) -> None:
        self._cutter = cutter
        super().__init__(pool_connections=1, pool_maxsize=1, max_retries=0)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        pools = self.poolmanager.pool_classes_by_scheme
        self.poolmanager.pool_classes_by_scheme = {
            scheme: _tracked_pool(pool_cls, self._cutter) for scheme, pool_cls in pools.items()
        }


def _tracked_pool(pool_cls, cutter: Cutter):
    class TrackedConnection(pool_cls.ConnectionCls):
        def _new_conn(self):
            """urllib3's own, except that the socket is handed to the cutter before it connects: a
            connect that hangs (a listener whose backlog is full) is cut like a read, and so is the TLS
            handshake that follows. Only the name lookup cannot be cut."""
            try:
                return _connect(
                    cutter,
                    (self._dns_host, self.port),
                    self.timeout,
                    self.source_address,
                    self.socket_options,
                )
            except socket.gaierror as e:
                raise NameResolutionError(self.host, self, e) from e
            except TimeoutError as e:
                raise ConnectTimeoutError(self, f"Connection to {self.host} timed out.") from e
            except OSError as e:
                raise NewConnectionError(self, f"Failed to establish a new connection: {e}") from e

        def request(self, *args, **kwargs):
            if self.sock is not None:  # a kept-alive connection: this request's socket
                cutter.adopt(self.sock)
            return super().request(*args, **kwargs)

    return type(f"Tracked{pool_cls.__name__}", (pool_cls,), {"ConnectionCls": TrackedConnection})


def _connect(cutter: Cutter, address, timeout, source_address, socket_options) -> socket.socket:
    """urllib3.util.connection.create_connection with the cutter told of each socket before connect()."""
    host, port = address
    host = host.strip("[]")
    try:
        host.encode("idna")
    except UnicodeError:
        raise LocationParseError(f"'{host}', label empty or too long") from None
    err: OSError | None = None
    for af, socktype, proto, _name, sa in socket.getaddrinfo(
        host, port, allowed_gai_family(), socket.SOCK_STREAM
    ):
        sock = socket.socket(af, socktype, proto)
        try:
            for opt in socket_options or ():
                sock.setsockopt(*opt)
            if isinstance(timeout, (int, float)):
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            cutter.adopt(sock)
            sock.connect(sa)
            return sock
        except OSError as exc:
            err = exc
            sock.close()
    raise err if err is not None else OSError("getaddrinfo returns an empty list")
