"""TCP connects that race the address families (Happy Eyeballs v2, RFC 8305), all in one thread.

Tried one after another, a black-holed IPv6 address (common on half-configured networks) would eat the
whole deadline before IPv4 is tried. Here the addresses are interleaved by family (the system's first
preference first, RFC 8305 section 4), a new connect starts 250 ms after the previous one if that has
not finished (or at once when it failed), the first to complete wins and the others are closed. Every
socket is handed to `adopt` before its connect starts, so the deadline's cut reaches all of them; a cut
socket wakes the wait with an error and the race ends as cancelled.
"""

from __future__ import annotations

import errno
import os
import selectors
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from polaris_tray.core.platform.resolve import AddrInfo, Cancel

SocketOption = tuple[int, int, int | bytes]  # (level, option, value) for setsockopt, as urllib3 hands them
SourceAddress = tuple[str, int]  # (host, port) to bind before connecting
Adopt = Callable[[socket.socket], None]

ATTEMPT_DELAY_S = 0.25  # RFC 8305's recommended "Connection Attempt Delay"
_IN_PROGRESS = {errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN, getattr(errno, "WSAEWOULDBLOCK", -1)}


class ConnectCancelled(OSError):
    """The attempt was cut while connecting."""


def interleave(infos: Iterable[AddrInfo]) -> list[AddrInfo]:
    """Alternate families, starting with the family of the system's first choice (RFC 8305 §4)."""
    infos = list(infos)
    if not infos:
        return []
    first = infos[0][0]
    preferred = [i for i in infos if i[0] == first]
    other = [i for i in infos if i[0] != first]
    merged: list[AddrInfo] = []
    for k in range(max(len(preferred), len(other))):
        merged.extend(group[k] for group in (preferred, other) if k < len(group))
    return merged


def connect_first(
    infos: Sequence[AddrInfo],
    *,
    timeout: float | None,
    adopt: Adopt = lambda sock: None,
    cancel: Cancel | None = None,
    socket_options: Iterable[SocketOption] | None = (),
    source_address: SourceAddress | None = None,
    delay: float = ATTEMPT_DELAY_S,
    clock: Callable[[], float] = time.monotonic,
) -> socket.socket:
    """The first socket to connect to any of `infos`, blocking again with `timeout` set on it.

    Raises the last connect error when every address failed, TimeoutError when none connected within
    `timeout`, ConnectCancelled once `cancel` is cut.
    """
    todo = interleave(infos)
    if not todo:
        raise OSError("getaddrinfo returns an empty list")
    if len(todo) == 1:  # nothing to race: a plain blocking connect, which the cut's shutdown() ends
        return _connect_one(
            todo[0], timeout, adopt, cancel, socket_options=socket_options, source_address=source_address
        )
    end = None if timeout is None else clock() + timeout
    racing: dict[socket.socket, tuple[()]] = {}  # the sockets still connecting
    error: OSError | None = None
    next_start = clock()
    with selectors.DefaultSelector() as selector:
        try:
            while True:
                if cancel is not None and cancel.is_cut:
                    raise ConnectCancelled("Cancelled while connecting")
                now = clock()
                if todo and (not racing or now >= next_start):
                    sock, failure = _start(todo.pop(0), adopt, socket_options, source_address)
                    if sock is None:
                        error = failure
                        continue
                    if failure is None:  # connected at once (loopback): the race is won
                        sock.settimeout(timeout)
                        return sock
                    racing[sock] = ()
                    selector.register(sock, selectors.EVENT_WRITE, sock)
                    next_start = now + delay
                    continue
                if not racing:
                    raise error if error is not None else OSError("no address could be tried")
                if end is not None and now >= end:
                    raise TimeoutError(f"No connection within {timeout:g} s")
                wait = end - now if end is not None else None
                if todo:
                    wait = min(wait, next_start - now) if wait is not None else next_start - now
                for key, _events in selector.select(wait):
                    done: socket.socket = key.data
                    selector.unregister(done)
                    del racing[done]
                    if cancel is not None and cancel.is_cut:
                        done.close()
                        raise ConnectCancelled("Cancelled while connecting")
                    failure = _connect_error(done)
                    if failure is None:
                        done.settimeout(timeout)
                        return done
                    done.close()
                    error = failure
                    next_start = clock()  # a failure starts the next address at once
        finally:
            for sock in racing:
                sock.close()


def _prepared(
    info: AddrInfo, socket_options: Iterable[SocketOption] | None, source_address: SourceAddress | None
) -> socket.socket:
    """A socket for `info` with the caller's options and source address (closed again if they fail)."""
    family, kind, proto, _canon, _sockaddr = info
    sock = socket.socket(family, kind, proto)
    try:
        for option in socket_options or ():
            sock.setsockopt(*option)
        if source_address:
            sock.bind(source_address)
    except OSError:
        sock.close()
        raise
    return sock


def _connect_one(
    info: AddrInfo,
    timeout: float | None,
    adopt: Adopt,
    cancel: Cancel | None,
    *,
    socket_options: Iterable[SocketOption] | None,
    source_address: SourceAddress | None,
) -> socket.socket:
    sock = _prepared(info, socket_options, source_address)
    try:
        sock.settimeout(timeout)
        adopt(sock)
        sock.connect(info[4])
    except OSError:
        sock.close()
        if cancel is not None and cancel.is_cut:
            raise ConnectCancelled("Cancelled while connecting") from None
        raise
    return sock


def _start(
    info: AddrInfo,
    adopt: Adopt,
    socket_options: Iterable[SocketOption] | None,
    source_address: SourceAddress | None,
) -> tuple[socket.socket | None, OSError | None]:
    """(socket, None) connected at once; (socket, in-progress) racing; (None, error) failed."""
    sockaddr = info[4]
    try:
        sock = _prepared(info, socket_options, source_address)
    except OSError as exc:  # e.g. no IPv6 on this machine
        return None, exc
    try:
        sock.setblocking(False)
        adopt(sock)
        code = sock.connect_ex(sockaddr)
    except OSError as exc:
        sock.close()
        return None, exc
    if code == 0:
        return sock, None
    if code in _IN_PROGRESS:
        return sock, OSError(code, "in progress")
    sock.close()
    return None, OSError(code, f"{_strerror(code)} ({_where(sockaddr)})")


def _connect_error(sock: socket.socket) -> OSError | None:
    code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if code:
        return OSError(code, _strerror(code))
    try:
        sock.getpeername()
    except OSError as exc:
        return exc
    return None


def _strerror(code: int) -> str:
    try:
        return os.strerror(code)
    except ValueError:
        return f"error {code}"


def _where(sockaddr: tuple[Any, ...]) -> str:
    host, port = sockaddr[0], sockaddr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
