"""Whether the display the environment names answers, asked before Qt starts: Qt's xcb plugin aborts the
process (SIGABRT, a core dump) when DISPLAY names a server that is gone, and the app must say so instead.

Facts only, no Qt: where an X display or a Wayland compositor listens (as Xlib and libwayland find them)
and whether a connect() there succeeds. A local socket answers in microseconds; a TCP display (`host:10`,
an ssh forwarding) gets a short timeout, its name lookup included (a silent nameserver would otherwise hold
the launch for 5 s per try, per server). The decision (which of them Qt will use) is the cli's.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass

from polaris_tray.core.platform.resolve import RESOLVER, Resolver

X_SOCKET_DIR = "/tmp/.X11-unix"  # noqa: S108 - where every X server on Unix listens, by protocol
X_TCP_BASE = 6000
TCP_TIMEOUT_S = 1.0
DEFAULT_WAYLAND = "wayland-0"  # what libwayland connects to when WAYLAND_DISPLAY is unset


@dataclass(frozen=True)
class Reach:
    """One display's answer: `where` names what was tried, for a message a user can act on."""

    reachable: bool
    where: str


Endpoint = str | tuple[str, int]  # a unix socket's address ("\0..." abstract), or (host, port) for TCP


def x_endpoints(display: str) -> list[Endpoint] | None:
    """Where Xlib would connect for DISPLAY ([protocol/][host]:number[.screen]): the local socket (the
    abstract one first, as Linux's Xlib tries) or (host, port) over TCP; None when the value is no display
    name at all. A path (macOS' launchd DISPLAY) is its own socket."""
    if display.startswith("/"):
        return [display]
    protocol, _, rest = display.rpartition("/") if "/" in display else ("", "", display)
    host, sep, number_screen = rest.rpartition(":")
    number = number_screen.split(".", 1)[0]
    if not sep or not number.isdigit():
        return None
    host = host.rstrip(":").strip("[]")  # "::1:0" (IPv6) and "host::0" (DECnet) keep their host
    path = f"{X_SOCKET_DIR}/X{int(number)}"
    if protocol in ("", "unix", "local") and host in ("", "unix"):
        return ["\0" + path, path]
    return [(host or "localhost", X_TCP_BASE + int(number))]


def wayland_path(environ: Mapping[str, str]) -> str | None:
    """The compositor's socket as libwayland finds it: WAYLAND_DISPLAY (else wayland-0) as an absolute
    path or under XDG_RUNTIME_DIR; None when a relative name has no runtime dir to sit in."""
    name = environ.get("WAYLAND_DISPLAY") or DEFAULT_WAYLAND
    if name.startswith("/"):
        return name
    runtime = environ.get("XDG_RUNTIME_DIR")
    return os.path.join(runtime, name) if runtime else None


def connects(address: Endpoint, timeout_s: float = TCP_TIMEOUT_S, resolver: Resolver = RESOLVER) -> bool:
    """Whether something accepts a connection there (closed at once: no byte of any protocol is sent).
    Over TCP, `timeout_s` bounds the name lookup and the connects together."""
    try:
        if isinstance(address, str):
            if sys.platform == "win32":  # no X or Wayland socket there (and no AF_UNIX in Python 3.11)
                return False
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout_s)
                sock.connect(address)
            return True
        end = time.monotonic() + timeout_s
        for family, kind, proto, _name, sockaddr in resolver.resolve(*address, timeout=timeout_s):
            left = end - time.monotonic()
            if left <= 0:
                return False
            with socket.socket(family, kind, proto) as sock:
                sock.settimeout(left)
                try:
                    sock.connect(sockaddr)
                except OSError:
                    continue
            return True
        return False
    except (OSError, ValueError):  # ResolveTimeout and gaierror are OSErrors
        return False


def probe_x(display: str, timeout_s: float = TCP_TIMEOUT_S, resolver: Resolver = RESOLVER) -> Reach:
    """Whether the X server DISPLAY names accepts a connection."""
    endpoints = x_endpoints(display)
    if endpoints is None:
        return Reach(False, f"DISPLAY={display} is not a display name")
    for address in endpoints:
        if connects(address, timeout_s, resolver):
            return Reach(True, _shown(address))
    return Reach(False, f"no X server answers at {_shown(endpoints[-1])} (DISPLAY={display})")


def probe_wayland(environ: Mapping[str, str]) -> Reach:
    """Whether the Wayland compositor the environment names accepts a connection."""
    if environ.get("WAYLAND_SOCKET"):  # a connection handed down by the compositor itself
        return Reach(True, "WAYLAND_SOCKET")
    path = wayland_path(environ)
    name = environ.get("WAYLAND_DISPLAY") or DEFAULT_WAYLAND
    if path is None:
        return Reach(False, f"WAYLAND_DISPLAY={name} with no XDG_RUNTIME_DIR to find it in")
    if connects(path):
        return Reach(True, path)
    return Reach(False, f"no Wayland compositor answers at {path}")


def _shown(address: Endpoint) -> str:
    if not isinstance(address, str):
        return f"{address[0]}:{address[1]} (TCP)"
    return "@" + address[1:] if address.startswith("\0") else address
