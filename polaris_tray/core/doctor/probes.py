"""Small bounded network steps for the doctor, each on its own so its line can name what broke.

Every step takes its time limit: a name lookup runs on a helper thread the walk stops waiting for, a
connect or a read has a socket timeout no longer than what is left. (NET's core/heartbeat carries the
same ideas for the beat itself; these are the doctor's own, one link at a time.)
"""

from __future__ import annotations

import base64
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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


def resolve(host: str, port: int, timeout: float) -> list[tuple[int, str]]:
    """(family, address) pairs, IPv6 and IPv4, in the resolver's order; StepTimeout when the resolver
    stays silent (the helper thread is left to finish on its own), socket.gaierror when it says no."""
    box: dict = {}

    def run() -> None:
        try:
            box["value"] = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
        except BaseException as exc:  # handed to the caller
            box["error"] = exc

    worker = threading.Thread(target=run, name="doctor-dns", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise StepTimeout(f"no answer within {timeout:g} s")
    if "error" in box:
        raise box["error"]
    seen: list[tuple[int, str]] = []
    for family, _type, _proto, _name, address in box["value"]:
        pair = (int(family), str(address[0]))
        if pair not in seen:
            seen.append(pair)
    return seen


@dataclass
class Attempt:
    family: int
    address: str
    result: str = "no answer"  # "connected", "refused", "no answer", an OS error
    ms: float = 0.0


@dataclass
class Connected:
    sock: socket.socket | None
    attempts: list[Attempt] = field(default_factory=list)


def family_name(family: int) -> str:
    return "IPv6" if family == socket.AF_INET6 else "IPv4"


def pick_addresses(addresses: list[tuple[int, str]], per_family: int = 2) -> list[tuple[int, str]]:
    """The first few of each family, interleaved (IPv6 first when the resolver put it first)."""
    by_family: dict[int, list[str]] = {}
    for family, address in addresses:
        by_family.setdefault(family, []).append(address)
    order = list(by_family)
    picked = []
    for i in range(per_family):
        for family in order:
            if i < len(by_family[family]):
                picked.append((family, by_family[family][i]))
    return picked


def connect_all(addresses: list[tuple[int, str]], port: int, timeout: float) -> Connected:
    """Connects to the addresses in parallel (Happy Eyeballs, as a report): the fastest socket is kept,
    every attempt is told (so a dead IPv6 route beside a working IPv4 one shows)."""
    attempts = [Attempt(family, address) for family, address in addresses]
    socks: list[socket.socket | None] = [None] * len(attempts)
    done = threading.Condition()

    def run(i: int) -> None:
        attempt = attempts[i]
        started = time.monotonic()
        sock = socket.socket(attempt.family, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect((attempt.address, port))
            attempt.result = "connected"
            socks[i] = sock
        except ConnectionRefusedError:
            attempt.result = "refused"
            sock.close()
        except TimeoutError:
            attempt.result = f"no answer within {timeout:g} s"
            sock.close()
        except OSError as exc:
            attempt.result = exc.strerror or type(exc).__name__
            sock.close()
        attempt.ms = (time.monotonic() - started) * 1000
        with done:
            done.notify_all()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(attempts))]
    for thread in threads:
        thread.start()
    end = time.monotonic() + timeout + 0.5
    for thread in threads:
        thread.join(max(0.0, end - time.monotonic()))
    winners = sorted((a.ms, i) for i, a in enumerate(attempts) if socks[i] is not None)
    keep = socks[winners[0][1]] if winners else None
    for sock in socks:
        if sock is not None and sock is not keep:
            sock.close()
    return Connected(keep, attempts)


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


def read_head(sock, end: float, limit: int = 16384) -> bytes:
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


def http_get(sock, host: str, port: int, path: str, *, end: float, user_agent: str):
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
