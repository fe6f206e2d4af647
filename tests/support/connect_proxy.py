"""An HTTP CONNECT proxy on a loopback address that passes, stays silent, drips, wants credentials or
wedges mid-run: the shapes an office proxy takes on a bad day, with real sockets.

Every CONNECT target goes to `upstream` when one is given (tests on 127.0.0.1 that name a server host the
machine cannot resolve), else to the target itself (inside a private network namespace, where the
stand-in DNS answers the proxy as it answers the agent).
"""

from __future__ import annotations

import base64
import select
import socket
import threading
from dataclasses import dataclass, field

PASS = "pass"
SILENT = "silent"  # accepts the connection and reads the CONNECT, never answers
DRIP_CONNECT = "drip_connect"  # answers the CONNECT one byte every `every` seconds
DRIP_TUNNEL = "drip_tunnel"  # opens the tunnel at once, then relays the server's bytes one at a time
NEEDS_AUTH = "needs_auth"  # 407 unless the request carries `credentials`
FORBIDDEN = "forbidden"  # 403: the proxy's policy refuses the target
SHAPES = (PASS, SILENT, DRIP_CONNECT, DRIP_TUNNEL, NEEDS_AUTH, FORBIDDEN)


@dataclass
class Seen:
    target: str
    authorization: str | None
    lines: list[str] = field(default_factory=list)


class ConnectProxy:
    def __init__(
        self,
        shape: str = PASS,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        upstream: tuple[str, int] | None = None,
        every: float = 1.0,
        credentials: str | None = None,
    ) -> None:
        self.shape = shape
        self.upstream = upstream
        self.every = every
        self.credentials = credentials
        self.seen: list[Seen] = []
        self._stop = threading.Event()
        self._wedged = threading.Event()
        self._cond = threading.Condition()
        self._sockets: set[socket.socket] = set()
        self._listener = socket.create_server((host, port))
        self._listener.settimeout(0.05)
        self._thread = threading.Thread(target=self._accept_loop, daemon=True, name="connect-proxy")
        self._thread.start()

    @property
    def address(self) -> str:
        host, port = self._listener.getsockname()[:2]
        return f"{host}:{port}"

    def url(self, userinfo: str = "") -> str:
        return f"http://{userinfo + '@' if userinfo else ''}{self.address}"

    def wedge(self) -> None:
        """From now on, as an overloaded proxy: a new CONNECT's reply and every open tunnel's bytes come
        one every `every` seconds (a trickle that resets any read timeout, never a clean failure)."""
        self._wedged.set()

    def wait_for(self, count: int, timeout: float = 15.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: len(self.seen) >= count, timeout)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._listener.close()
        with self._cond:
            for sock in list(self._sockets):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def __enter__(self) -> ConnectProxy:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _track(self, sock: socket.socket) -> None:
        with self._cond:
            self._sockets.add(sock)

    def _serve(self, client: socket.socket) -> None:
        self._track(client)
        upstream = None
        try:
            head = _read_head(client)
            if head is None:
                return
            lines = head.decode("latin-1").split("\r\n")
            target = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 1 else ""
            auth = next(
                (
                    line.split(":", 1)[1].strip()
                    for line in lines[1:]
                    if line.lower().startswith("proxy-authorization:")
                ),
                None,
            )
            with self._cond:
                self.seen.append(Seen(target, auth, lines))
                self._cond.notify_all()
            if self.shape == SILENT:
                self._stop.wait()
                return
            if self.shape == FORBIDDEN:
                client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            if self.shape == NEEDS_AUTH and auth != _basic(self.credentials):
                client.sendall(
                    b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                    b'Proxy-Authenticate: Basic realm="office"\r\nContent-Length: 0\r\n\r\n'
                )
                return
            host, _, port = target.rpartition(":")
            upstream = socket.create_connection(self.upstream or (host.strip("[]"), int(port)), timeout=5)
            upstream.settimeout(None)
            self._track(upstream)
            established = b"HTTP/1.1 200 Connection established\r\n\r\n"
            if self.shape == DRIP_CONNECT or self._wedged.is_set():
                for i in range(len(established)):
                    if self._stop.wait(self.every):
                        return
                    client.sendall(established[i : i + 1])
            else:
                client.sendall(established)
            self._relay(client, upstream)
        except OSError:
            pass
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    sock.close()

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        while not self._stop.is_set():
            ready, _, _ = select.select(list(peers), [], [], 0.1)
            for sock in ready:
                dripping = self.shape == DRIP_TUNNEL or self._wedged.is_set()
                step = 1 if (dripping and sock is upstream) else 65536
                data = sock.recv(step)
                if not data:
                    return
                if step == 1 and self._stop.wait(self.every):
                    return
                peers[sock].sendall(data)


def _basic(credentials: str | None) -> str | None:
    return "Basic " + base64.b64encode(credentials.encode()).decode() if credentials else None


def _read_head(sock: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return None
        data += chunk
    return data.split(b"\r\n\r\n", 1)[0]
