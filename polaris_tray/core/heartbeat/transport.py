"""The hard deadline under requests: a handle on each request's socket that one call can cut.

requests has no total timeout (a server that drips a byte at a time resets the read timeout with every
byte), so a deadline watch cuts the socket of the request under way when its deadline passes; abort() uses the
same cut. The cut must reach the socket that is actually being read: http.client hands the connection's
socket to the response (and sets the connection's `sock` to None) for a reply that closes its
connection, and the TLS layer wraps the socket in a new object. So the cutter holds its own duplicate
descriptor of every socket the request touches, taken the moment the socket exists: shutdown(2) on any
descriptor of a socket ends the reads on all of them, whichever object owns them by then, and a
descriptor we own cannot be reused under us by another file. The duplicates are closed when the request
ends, so they never keep a connection open (socket.dup works on every OS; where even it fails, the
cutter holds the socket object itself).

Every phase is under the same cut: the name lookup waits in resolve.py for at most the time left, the
connects race in connect.py with every socket adopted, and requests' separate ProxyManager (one per
proxy) gets the same tracked pools, so the proxy's TCP connect, its CONNECT reply and the tunnel are cut
like a direct request. The cutter records the phase under way, so a cut at the deadline says which
phase did not finish (classify.timeout_message).

One file past 400 lines: the cutter, the deadline watch that fires it and the adapter and pools that hand
it every socket are one mechanism, and none of the three can be read (or changed safely) without the others.
"""

from __future__ import annotations

import enum
import heapq
import http.client
import itertools
import logging
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, cast

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    LocationParseError,
    NameResolutionError,
    NewConnectionError,
)
from urllib3.poolmanager import PoolManager

from polaris_tray.core.heartbeat.connect import SocketOption, SourceAddress, connect_first
from polaris_tray.core.heartbeat.local_address import remember_local_address
from polaris_tray.core.platform.resolve import RESOLVER, Resolver, ResolveTimeout

log = logging.getLogger(__name__)


class Phase(str, enum.Enum):
    """Where an attempt is: what a cut at the deadline names, so a user knows whom to call."""

    DNS = "dns"
    PROXY = "proxy"  # TCP connect to the proxy, then its reply to CONNECT
    CONNECT = "connect"
    TLS = "tls"
    REPLY = "reply"


class SocketCutter:
    """The cut for one BeatPoster: knows the sockets of the request under way; cut() ends it from any thread.

    It also tells waiters that are not sockets (a name lookup) through on_cut(), and records the phase
    the request is in, so a cut at the deadline can say which phase did not finish.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handles: list[tuple[socket.socket, bool]] = []  # (handle, owned: a duplicate we close)
        self._wakers: list[Callable[[], None]] = []
        self._active = False
        self.timed_out = False
        self.aborted = False
        self.phase: tuple[Phase, str] = (Phase.REPLY, "")
        self.via = ""  # the proxy's host:port when the request goes through one
        self.adopt_failures = 0

    def begin(self) -> None:
        with self._lock:
            self._close_handles()
            self._active = True
            self.timed_out = False
            self.aborted = False
            self.phase = (Phase.REPLY, "")

    def end(self) -> None:
        with self._lock:
            self._active = False
            self._close_handles()
            self._wakers.clear()

    @property
    def is_cut(self) -> bool:
        return self.timed_out or self.aborted

    def on_cut(self, wake: Callable[[], None]) -> Callable[[], None]:
        """wake() at the cut (at once when already cut); the returned function unregisters it."""
        with self._lock:
            if self.timed_out or self.aborted or not self._active:
                wake()
            self._wakers.append(wake)

        def unregister() -> None:
            with self._lock:
                if wake in self._wakers:
                    self._wakers.remove(wake)

        return unregister

    def adopt(self, sock: socket.socket) -> None:
        """Take a duplicate of `sock`; shut it at once when this request is already cut.

        socket.dup() works on every OS (os.dup refuses Windows SOCKET handles; it duplicates them with
        WSADuplicateSocket) and on the descriptor under a TLS object. Should it fail all the same, the
        cutter keeps the socket object itself: the deadline must hold whatever the OS.
        """
        try:
            handle, owned = _duplicate(sock), True
        except (OSError, ValueError, AttributeError, NotImplementedError) as exc:
            handle, owned = sock, False
            self.adopt_failures += 1
            if self.adopt_failures == 1:
                log.warning("Could not duplicate a socket (%s): the cut shuts the socket itself", exc)
        with self._lock:
            self._handles.append((handle, owned))
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
            for handle, _owned in self._handles:
                _shutdown(handle)
            wakers = list(self._wakers)
        for wake in wakers:
            wake()

    def _close_handles(self) -> None:
        for handle, owned in self._handles:
            if owned:
                try:
                    handle.close()
                except OSError:
                    pass
        self._handles.clear()


def _duplicate(sock: socket.socket) -> socket.socket:
    fd = sock.fileno()
    if fd < 0:
        raise ValueError("closed socket")
    return socket.socket(sock.family, sock.type, sock.proto, fileno=socket.dup(fd))


def _shutdown(handle: socket.socket) -> None:
    try:
        handle.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class DeadlineWatch:
    """One thread for the whole process, cutting each request whose deadline has passed.

    A thread per request would cost a thread start on every beat; a thread per poster leaked one per
    Start/Stop. This one runs while any BeatPoster is open (posters register on creation and leave on
    close) and ends when the last one leaves, so creating and closing posters leaves no thread behind.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, SocketCutter]] = []
        self._live: set[int] = set()  # tickets armed and not yet disarmed or fired
        self._tickets = itertools.count()
        self._clients = 0
        self.thread: threading.Thread | None = None

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread to end (it does once no poster is open): for tests and clean exits."""
        thread = self.thread
        if thread is not None:
            thread.join(timeout)

    def register(self) -> None:
        with self._cond:
            self._clients += 1
            if self.thread is None:
                # a thread: the request's own thread sits blocked in the socket, so another one must cut it
                self.thread = threading.Thread(target=self._run, name="heartbeat-deadline", daemon=True)
                self.thread.start()

    def unregister(self) -> None:
        with self._cond:
            self._clients = max(0, self._clients - 1)
            self._cond.notify()

    def arm(self, cutter: SocketCutter, seconds: float) -> int:
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
        """A forked child has no deadline thread: start afresh (a lock held at the fork is dropped too)."""
        self._cond = threading.Condition()
        self._heap, self._live, self.thread = [], set(), None
        if self._clients:
            self._clients -= 1
            self.register()


DEADLINE_WATCH = DeadlineWatch()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=DEADLINE_WATCH._after_fork)


class CuttableAdapter(HTTPAdapter):
    """An adapter whose connections (direct or through a proxy) hand each socket to a SocketCutter as soon
    as it exists or is reused, and record their phase; TLS verifies with `ssl_context` (trust.py) only."""

    def __init__(self, cutter: SocketCutter, ssl_context: ssl.SSLContext | None = None) -> None:
        self._cutter = cutter
        self._ssl_context = ssl_context
        super().__init__(pool_connections=1, pool_maxsize=1, max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        if self._ssl_context is not None:
            kwargs["ssl_context"] = self._ssl_context
        super().init_poolmanager(*args, **kwargs)
        _track(self.poolmanager, self._cutter)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        """requests builds a separate ProxyManager per proxy: its pools are tracked like the direct ones."""
        if proxy in self.proxy_manager:
            known: PoolManager = self.proxy_manager[proxy]
            return known
        if self._ssl_context is not None:
            proxy_kwargs.setdefault("ssl_context", self._ssl_context)
            proxy_kwargs.setdefault("proxy_ssl_context", self._ssl_context)
        manager: PoolManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        _track(manager, self._cutter)
        return manager

    def cert_verify(self, conn: HTTPConnectionPool, url: str, verify: bool | str, cert: object) -> None:
        """Always verify, and with our context's trust alone (requests would add certifi's bundle)."""
        # untyped in requests' stubs (an error under --strict only, hence unused-ignore for plain mypy)
        super().cert_verify(conn, url, verify, cert)  # type: ignore[no-untyped-call,unused-ignore]
        if self._ssl_context is not None and url.lower().startswith("https"):
            assert isinstance(conn, HTTPSConnectionPool)  # requests hands the pool of the URL's scheme
            conn.cert_reqs = "CERT_REQUIRED"
            conn.ca_certs = None
            conn.ca_cert_dir = None


def _track(manager: PoolManager, cutter: SocketCutter) -> None:
    pools = manager.pool_classes_by_scheme
    manager.pool_classes_by_scheme = {
        scheme: _tracked_pool(pool_cls, cutter) for scheme, pool_cls in pools.items()
    }


class InformationalSkippingResponse(http.client.HTTPResponse):
    """http.client skips only 100 Continue: a 103 Early Hints (any 1xx but 101) before the final reply
    would be taken as the reply. Skip every such interim reply and its headers."""

    def _read_status(self) -> tuple[str, int, str]:
        while True:
            version, status, reason = super()._read_status()  # type: ignore[misc]  # private: not in typeshed
            if not (100 <= status < 200) or status == 101:
                return version, status, reason
            http.client.parse_headers(self.fp)


def _tracked_pool(pool_cls: type[HTTPConnectionPool], cutter: SocketCutter) -> type[HTTPConnectionPool]:
    # The base is the pool's own connection class, known at run time only: mypy cannot name it (and sees
    # Any under --strict, hence unused-ignore for plain mypy).
    class TrackedConnection(pool_cls.ConnectionCls):  # type: ignore[name-defined,misc,unused-ignore]
        response_class = InformationalSkippingResponse

        def _new_conn(self) -> socket.socket:
            """urllib3's own, except that the lookup waits under the cut and the deadline (resolve.py),
            the connects race the families (connect.py), and every socket is handed to the cutter before
            it connects: a connect that hangs is cut like a read, and so is the TLS handshake."""
            proxied = bool(self._tunnel_host) or bool(getattr(self, "proxy", None))
            where = f"{self._dns_host}:{self.port}"
            cutter.via = where if proxied else ""
            try:
                sock = open_connection(
                    cutter,
                    self._dns_host,
                    self.port,
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                    phase=(Phase.PROXY, where) if proxied else (Phase.CONNECT, where),
                )
            except (
                socket.gaierror,
                ResolveTimeout,
            ) as e:  # urllib3 types the reason as gaierror; it prints it
                raise NameResolutionError(self.host, self, e) from e  # type: ignore[arg-type]
            except TimeoutError as e:
                raise ConnectTimeoutError(self, f"Connection to {self.host} timed out.") from e
            except OSError as e:
                raise NewConnectionError(self, f"Failed to establish a new connection: {e}") from e
            target = self._tunnel_host or self.host
            remember_local_address(target, sock)
            if not self._tunnel_host:
                cutter.phase = (Phase.TLS, target) if _is_tls(self) else (Phase.REPLY, target)
            return sock

        def _tunnel(self) -> None:
            cutter.phase = (Phase.PROXY, cutter.via)
            super()._tunnel()
            cutter.phase = (Phase.TLS, self._tunnel_host or "")

        def connect(self) -> None:
            super().connect()
            if cutter.adopt_failures and self.sock is not None:
                cutter.adopt(self.sock)  # the TLS layer's own object: the raw one held was detached
            cutter.phase = (Phase.REPLY, self._tunnel_host or self.host)

        def request(self, *args: Any, **kwargs: Any) -> None:
            if self.sock is not None:  # a kept-alive connection: this request's socket
                cutter.adopt(self.sock)
                cutter.phase = (Phase.REPLY, self._tunnel_host or self.host)
            super().request(*args, **kwargs)

    tracked = type(f"Tracked{pool_cls.__name__}", (pool_cls,), {"ConnectionCls": TrackedConnection})
    return cast("type[HTTPConnectionPool]", tracked)


def _is_tls(conn: object) -> bool:
    return isinstance(conn, HTTPSConnection)


def open_connection(
    cutter: SocketCutter,
    host: str,
    port: int,
    timeout: object,  # seconds, None (no bound), or urllib3's default-timeout sentinel (no bound either)
    *,
    source_address: SourceAddress | None = None,
    socket_options: Iterable[SocketOption] | None = None,
    phase: tuple[Phase, str] | None = None,
    resolver: Resolver = RESOLVER,
) -> socket.socket:
    """Resolve (under the cut) and connect (Happy Eyeballs, every socket adopted) to host:port.

    Public for the doctor: pass a SocketCutter that you begin() first and cut() (or arm with DEADLINE_WATCH)
    to bound it. Raises socket.gaierror / ResolveTimeout / ResolveCancelled, then the connect's errors.
    """
    host = host.strip("[]")
    try:
        host.encode("idna")
    except UnicodeError:
        raise LocationParseError(f"'{host}', label empty or too long") from None
    seconds = timeout if isinstance(timeout, (int, float)) else None
    cutter.phase = (Phase.DNS, host)
    infos = resolver.resolve(host, port, timeout=seconds if seconds is not None else 3600.0, cancel=cutter)
    cutter.phase = phase or (Phase.CONNECT, f"{host}:{port}")
    return connect_first(
        infos,
        timeout=seconds,
        adopt=cutter.adopt,
        cancel=cutter,
        socket_options=socket_options or (),
        source_address=source_address,
    )
