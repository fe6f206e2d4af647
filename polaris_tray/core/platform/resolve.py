"""Name lookups that a deadline and a Stop can cut: getaddrinfo in a helper thread, one per name at a time.

getaddrinfo cannot be interrupted: with a silent nameserver glibc waits 5 s per try, per server, per
search domain (80 s with an office resolv.conf). So the lookup runs in a daemon thread and the attempt
waits for it at most the time it has left, or until its cancel event fires (the DeadlineWatch's cut, Stop,
SIGTERM). A lookup still running when a later attempt needs the same name is joined, not repeated
("single flight"), so a dead resolver never piles up threads. A literal address needs no lookup and no
thread.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

# (family, type, proto, canonname, sockaddr) as socket.getaddrinfo gives them; the sockaddr typed as
# typeshed types every socket address (socket._Address): its shape depends on the family.
AddrInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple[Any, ...]]


class Cancel(Protocol):
    """What can cut a waiting attempt: the heartbeat's SocketCutter is one."""

    @property
    def is_cut(self) -> bool: ...

    def on_cut(self, wake: Callable[[], None]) -> Callable[[], None]:
        """Call wake() when cut (at once if already cut); returns a function that unregisters it."""
        ...


class ResolveTimeout(OSError):
    """The resolver did not answer within the time the attempt had."""

    def __init__(self, host: str, seconds: float) -> None:
        super().__init__(f"Cannot resolve {host} (DNS did not answer in {seconds:.3g} s)")
        self.host = host
        self.seconds = seconds


class ResolveCancelled(OSError):
    """The attempt was cut (Stop, Quit, the deadline) while its lookup was under way."""


@dataclass
class _Lookup:
    done: threading.Event = field(default_factory=threading.Event)
    result: list[AddrInfo] | None = None
    error: BaseException | None = None
    waiters: list[threading.Event] = field(default_factory=list)


class Resolver:
    """Single-flight lookups per host name; `getaddrinfo` is injectable for tests."""

    def __init__(self, getaddrinfo: Callable[..., Sequence[AddrInfo]] = socket.getaddrinfo) -> None:
        self._getaddrinfo = getaddrinfo
        self._lock = threading.Lock()
        self._inflight: dict[str, _Lookup] = {}
        self._known: dict[str, list[str]] = {}  # host -> IPv4 addresses of its last answered lookup
        self.started = 0  # lookups started so far (threads): tests check that they are joined

    def known_ipv4(self, host: str) -> list[str]:
        """IPv4 addresses already known for host (a literal, or the last lookup's): never a lookup."""
        literal = _literal(host, 0)
        if literal is not None:
            return [literal[0][4][0]] if literal[0][0] == socket.AF_INET else []
        with self._lock:
            return list(self._known.get(host, ()))

    def waiting(self, host: str) -> int:
        """Attempts waiting for the lookup of host under way (0 when none is)."""
        with self._lock:
            lookup = self._inflight.get(host)
            return len(lookup.waiters) if lookup else 0

    def inflight(self) -> int:
        with self._lock:
            return len(self._inflight)

    def resolve(
        self,
        host: str,
        port: int,
        *,
        timeout: float,
        cancel: Cancel | None = None,
    ) -> list[AddrInfo]:
        """The TCP addresses of host, in the order the system prefers them (RFC 6724).

        Raises socket.gaierror as getaddrinfo does, ResolveTimeout after `timeout` seconds, and
        ResolveCancelled as soon as `cancel` is cut.
        """
        literal = _literal(host, port)
        if literal is not None:
            return literal
        lookup, wake = self._join(host)
        unregister = cancel.on_cut(wake.set) if cancel is not None else None
        try:
            if not wake.wait(max(0.0, timeout)) and not lookup.done.is_set():
                raise ResolveTimeout(host, timeout)
            if cancel is not None and cancel.is_cut:
                raise ResolveCancelled(f"Cancelled while resolving {host}")
            if not lookup.done.is_set():
                raise ResolveTimeout(host, timeout)
        finally:
            if unregister is not None:
                unregister()
            with self._lock:
                if wake in lookup.waiters:
                    lookup.waiters.remove(wake)
        if lookup.error is not None:
            raise lookup.error
        return [_with_port(info, port) for info in lookup.result or ()]

    def _join(self, host: str) -> tuple[_Lookup, threading.Event]:
        wake = threading.Event()
        with self._lock:
            lookup = self._inflight.get(host)
            if lookup is None:
                lookup = self._inflight[host] = _Lookup()
                self.started += 1
                # a thread: getaddrinfo cannot be cut, so the attempt waits for it only the time it has left
                threading.Thread(
                    target=self._run, args=(host, lookup), name="dns-lookup", daemon=True
                ).start()
            lookup.waiters.append(wake)
        return lookup, wake

    def _run(self, host: str, lookup: _Lookup) -> None:
        try:
            lookup.result = list(self._getaddrinfo(host, None, socket.AF_UNSPEC, socket.SOCK_STREAM))
        except BaseException as exc:  # handed to the waiters, never lost in this thread
            lookup.error = exc
        with self._lock:
            self._inflight.pop(host, None)
            if lookup.result:
                if len(self._known) > 16:
                    self._known.clear()
                self._known[host] = [i[4][0] for i in lookup.result if i[0] == socket.AF_INET]
            lookup.done.set()
            for waiter in lookup.waiters:
                waiter.set()


def _literal(host: str, port: int) -> list[AddrInfo] | None:
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    if ip.version == 6:
        return [(socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (str(ip), port, 0, 0))]
    return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (str(ip), port))]


def _with_port(info: AddrInfo, port: int) -> AddrInfo:
    family, kind, proto, canon, sockaddr = info
    return (family, kind, proto, canon, (sockaddr[0], port, *sockaddr[2:]))


RESOLVER = Resolver()
