"""Name lookups that a deadline and a Stop can cut: getaddrinfo in a helper thread, one per name at a time.

getaddrinfo cannot be interrupted: with a silent nameserver glibc waits 5 s per try, per server, per
search domain (80 s with an office resolv.conf). So the lookup runs in a daemon thread and the attempt
waits for it at most the time it has left, or until its cancel event fires (the DeadlineWatch's cut, Stop,
SIGTERM). A lookup still running when a later attempt needs the same name is joined, not repeated
("single flight"), so a dead resolver never piles up threads. A literal address needs no lookup and no
thread.

A nameserver (or a home router) that answers A at once but never answers AAAA made glibc wait 5 s per
try for the AAAA answer, so every beat spent its deadline in the lookup although IPv4 worked. So when the
full lookup is not back within FALLBACK_AFTER_S, IPv4 alone is asked beside it, and its answer is used if
the full one is still missing RESOLUTION_DELAY_S after it (RFC 8305's resolution delay). A quick full
lookup, the usual case, costs no second query and no second thread, and keeps the system's address order.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

FALLBACK_AFTER_S = 0.25  # the full (A + AAAA) lookup not back by then: IPv4 alone is asked beside it
RESOLUTION_DELAY_S = 0.05  # RFC 8305 section 3: an A answer waits this long for the AAAA one

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
    done: threading.Event = field(default_factory=threading.Event)  # result or error settled
    result: list[AddrInfo] | None = None
    error: BaseException | None = None
    waiters: list[threading.Event] = field(default_factory=list)
    full_done: threading.Event = field(default_factory=threading.Event)  # the A + AAAA lookup returned
    ipv4_asked: bool = False
    running: int = 1  # its lookup threads still in getaddrinfo: the flight is joined until they end


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
        """The TCP addresses of host, in the order the system prefers them (RFC 6724); the IPv4 ones alone
        when only they were answered in time (see FALLBACK_AFTER_S).

        Raises socket.gaierror as getaddrinfo does, ResolveTimeout after `timeout` seconds, and
        ResolveCancelled as soon as `cancel` is cut.
        """
        literal = _literal(host, port)
        if literal is not None:
            return literal
        lookup, wake = self._join(host)
        unregister = cancel.on_cut(wake.set) if cancel is not None else None
        try:
            end = time.monotonic() + max(0.0, timeout)
            if not wake.wait(min(max(0.0, timeout), FALLBACK_AFTER_S)):
                self._ask_ipv4(host, lookup)
                wake.wait(max(0.0, end - time.monotonic()))
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
        """The flight for host: one under way, or one whose answer came while a thread of it still runs
        (fresh by construction); a new one when there is none or the last one failed."""
        wake = threading.Event()
        with self._lock:
            lookup = self._inflight.get(host)
            if lookup is None or lookup.error is not None:
                lookup = self._inflight[host] = _Lookup()
                self.started += 1
                # a thread: getaddrinfo cannot be cut, so the attempt waits for it only the time it has left
                threading.Thread(
                    target=self._run_full, args=(host, lookup), name="dns-lookup", daemon=True
                ).start()
            if lookup.done.is_set():
                wake.set()
            else:
                lookup.waiters.append(wake)
        return lookup, wake

    def _ask_ipv4(self, host: str, lookup: _Lookup) -> None:
        """Once per flight, and only when the full lookup is slow: IPv4 alone, beside it."""
        with self._lock:
            if lookup.ipv4_asked or lookup.done.is_set():
                return
            lookup.ipv4_asked = True
            lookup.running += 1
        # a thread: the same uncuttable getaddrinfo, for the A answer alone
        args = (host, lookup)
        threading.Thread(target=self._run_ipv4, args=args, name="dns-lookup-ipv4", daemon=True).start()

    def _run_full(self, host: str, lookup: _Lookup) -> None:
        result: list[AddrInfo] | None = None
        error: BaseException | None = None
        try:
            result = list(self._getaddrinfo(host, None, socket.AF_UNSPEC, socket.SOCK_STREAM))
        except BaseException as exc:  # handed to the waiters, never lost in this thread
            error = exc
        lookup.full_done.set()
        self._settle(host, lookup, result, error)

    def _run_ipv4(self, host: str, lookup: _Lookup) -> None:
        try:
            result = list(self._getaddrinfo(host, None, socket.AF_INET, socket.SOCK_STREAM))
        except BaseException:  # the full lookup still speaks for the name: its error is the one told
            result = []
        if result and not lookup.full_done.wait(RESOLUTION_DELAY_S):
            self._settle(host, lookup, result, None)
        else:
            self._settle(host, lookup, None, None)  # nothing to say: only this thread's end

    def _settle(
        self, host: str, lookup: _Lookup, result: list[AddrInfo] | None, error: BaseException | None
    ) -> None:
        """A lookup thread ends; the first answer (or the full lookup's error) is the flight's."""
        with self._lock:
            lookup.running -= 1
            if lookup.running == 0 and self._inflight.get(host) is lookup:
                del self._inflight[host]
            if lookup.done.is_set() or (result is None and error is None):
                return
            lookup.result, lookup.error = result, error
            if result:
                if len(self._known) > 16:
                    self._known.clear()
                self._known[host] = [i[4][0] for i in result if i[0] == socket.AF_INET]
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
