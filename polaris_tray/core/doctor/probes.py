"""The doctor's own bounded steps, the ones a heartbeat has no separate call for: a CONNECT to the proxy,
the TLS handshake on a socket, one GET, each read bounded by what is left of the walk's time.

The name lookup, the connect race and the trust store are the heartbeat's own (core/platform/resolve.py,
core/heartbeat/connect.py, trust.py), so the doctor checks what the beat really does.
"""

from __future__ import annotations

import base64
import socket
import ssl
import time
from collections.abc import Callable
from urllib.parse import unquote, urlsplit


class StepTimeout(Exception):
    """The step did not finish within its bound."""


class Deadline:
    """What is left of the walk's whole budget; each step takes min(its own bound, what is left)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._end = clock() + seconds

    def left(self, cap: float | None = None) -> float:
        left = max(0.0, self._end - self._clock())
        return left if cap is None else min(cap, left)


def family_name(family: int) -> str:
    return "IPv6" if family == socket.AF_INET6 else "IPv4"


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def authority(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def proxy_connect(sock: socket.socket, proxy_url: str, host: str, port: int, timeout: float) -> int:
    """CONNECT through an HTTP proxy: the proxy's status code (200: the tunnel is open on `sock`)."""
    parts = urlsplit(proxy_url)
    lines = [f"CONNECT {authority(host, port)} HTTP/1.1", f"Host: {authority(host, port)}"]
    if parts.username:
        token = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        lines.append(f"Proxy-Authorization: Basic {base64.b64encode(token).decode()}")
    sock.settimeout(timeout)
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = read_head(sock, time.monotonic() + timeout)
    return status_of(head)[0]


def read_head(sock: socket.socket, end: float, limit: int = 16384) -> bytes:
    """Up to the blank line after the headers, within `end` (monotonic) however slowly it drips."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < limit:
        left = end - time.monotonic()
        if left <= 0:
            raise StepTimeout("the reply's headers did not come in time")
        sock.settimeout(left)
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            raise StepTimeout("the reply's headers did not come in time") from None
        if not chunk:
            break
        data += chunk
    if not data:
        raise ConnectionResetError("the connection closed before any reply")
    return data


def status_of(head: bytes) -> tuple[int, str, dict[str, str], bytes]:
    """(code, reason, headers with lower-case names, what followed the headers)."""
    text, _, rest = head.partition(b"\r\n\r\n")
    lines = text.decode("iso-8859-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ValueError("not an HTTP reply")
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), parts[2] if len(parts) > 2 else "", headers, rest


def tls_wrap(sock: socket.socket, host: str, context: ssl.SSLContext, timeout: float) -> ssl.SSLSocket:
    sock.settimeout(timeout)
    return context.wrap_socket(sock, server_hostname=host)


def http_get(
    sock: socket.socket, host: str, port: int, path: str, *, end: float, user_agent: str
) -> tuple[int, str, dict[str, str], bytes]:
    """One GET over an open socket; (code, reason, headers, start of the body), bounded by `end`."""
    default = port in (80, 443)
    request = (
        f"GET {path or '/'} HTTP/1.1\r\nHost: {host if default else authority(host, port)}\r\n"
        f"User-Agent: {user_agent}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    )
    sock.settimeout(max(0.01, end - time.monotonic()))
    sock.sendall(request.encode())
    head = read_head(sock, end)
    code, reason, headers, rest = status_of(head)
    body = rest
    try:
        while len(body) < 4096 and time.monotonic() < end:
            sock.settimeout(max(0.01, end - time.monotonic()))
            chunk = sock.recv(4096)
            if not chunk:
                break
            body += chunk
            if "content-length" in headers and len(body) >= int(headers["content-length"] or 0):
                break
    except (OSError, ValueError):
        pass
    return code, reason, headers, body[:4096]
