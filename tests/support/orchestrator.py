"""A scriptable orchestrator on 127.0.0.1: real sockets, behaviours switched at run time.

LoopbackServer, the serving, waiting and stopping, is shared with routed_orchestrator.py.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    code: int = 200
    body: bytes | dict | None = None
    headers: dict = field(default_factory=dict)

    def payload(self) -> bytes:
        if self.body is None:
            body = {
                "status": "success",
                "message": "Heartbeat processed successfully",
                "last_seen": "2026-11-27T12:00:00",
                "commands": [],
            }
            return json.dumps(body).encode()
        return json.dumps(self.body).encode() if isinstance(self.body, dict) else self.body


@dataclass
class Hang:
    """Accept, read the request, never answer (until the server stops)."""


@dataclass
class Drip:
    """A 200 whose body comes one byte every `every` seconds."""

    every: float = 1.0
    size: int = 1000


@dataclass
class Reset:
    """Close the connection with a TCP reset, mid-reply when `after_headers`."""

    after_headers: bool = False


@dataclass
class Huge:
    size: int = 20 * 1024 * 1024


@dataclass
class Arrival:
    at: float
    path: str
    headers: dict
    body: dict | None
    peer_port: int = 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart (delayed ACK)
    server: OwnedHTTPServer

    def setup(self):
        super().setup()
        with self.server.owner.lock:
            self.server.owner.open_connections.add(self.connection)

    def finish(self):
        with self.server.owner.lock:
            self.server.owner.open_connections.discard(self.connection)
        super().finish()

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        """As FastAPI answers a GET on a POST route (the doctor's HTTP link asks so); not an arrival."""
        self._act(Reply(405, {"detail": "Method Not Allowed"}, headers={"Allow": "POST"}))

    def do_POST(self):
        arrived = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        owner = self.server.owner
        with owner.lock:  # the behaviour and the count together: see Orchestrator.switch
            behaviour = owner.behaviour_for(body)
            owner.arrivals.append(
                Arrival(arrived, self.path, dict(self.headers), body, self.client_address[1])
            )
            owner.arrived.notify_all()
        self._act(behaviour)

    def _act(self, behaviour) -> None:
        if isinstance(behaviour, Reply):
            data = behaviour.payload()
            self.send_response(behaviour.code)
            headers = {"Content-Type": "application/json", **behaviour.headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        elif isinstance(behaviour, Hang):
            self.server.owner.stopping.wait()
            self.close_connection = True
        elif isinstance(behaviour, Drip):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(behaviour.size))
            self.end_headers()
            for _ in range(behaviour.size):
                if self.server.owner.stopping.wait(behaviour.every):
                    break
                try:
                    self.wfile.write(b" ")
                    self.wfile.flush()
                except OSError:
                    break
            self.close_connection = True
        elif isinstance(behaviour, Reset):
            if behaviour.after_headers:
                self.send_response(200)
                self.send_header("Content-Length", "5000")
                self.end_headers()
                self.wfile.write(b'{"status": "succ')
                self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        elif isinstance(behaviour, Huge):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(behaviour.size))
            self.end_headers()
            chunk = b" " * 65536
            sent = 0
            try:
                while sent < behaviour.size:
                    self.wfile.write(chunk)
                    sent += len(chunk)
            except OSError:
                pass
            self.close_connection = True
            self.server.owner.huge_bytes_sent = sent


class OwnedHTTPServer(ThreadingHTTPServer):
    """Its handlers reach the object that serves through `self.server.owner`."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, owner, handler):
        self.owner = owner
        super().__init__(address, handler)


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 (TLS with an ssl.SSLContext for the server side) whose handler
    reaches this object as `self.server.owner`, notifies `arrived` under `lock` on each request, and may
    track its connections in `open_connections` so that stop() cuts them."""

    def __init__(self, handler, port: int = 0, tls=None, prefix: str = "/api/v1") -> None:
        self.prefix = prefix
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self.stopping = threading.Event()
        self.open_connections: set = set()
        self._server = OwnedHTTPServer(("127.0.0.1", port), self, handler)
        self.scheme = "http"
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{self.prefix}"

    def _wait_until(self, done, timeout: float) -> bool:
        """Block until done() holds, checked at each arrival under the lock: a condition, not a sleep."""
        with self.arrived:
            return self.arrived.wait_for(done, timeout)

    def stop(self) -> None:
        """Down for real: the listener closes and kept-alive connections are cut."""
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        with self.lock:
            for conn in list(self.open_connections):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class Orchestrator(LoopbackServer):
    """Set .behaviour (or .script, a function of the arrival count) before or during a run."""

    def __init__(self, port: int = 0, behaviour=None, tls=None) -> None:
        self.behaviour = behaviour or Reply()
        self.script = None
        self.arrivals: list[Arrival] = []
        self.huge_bytes_sent = 0
        super().__init__(_Handler, port, tls)

    def switch(self, behaviour) -> int:
        """Set the behaviour and return how many requests arrived before it: every later arrival gets it.
        (Set as a plain attribute, a request that arrived just before could still be counted after.)"""
        with self.lock:
            self.behaviour = behaviour
            return len(self.arrivals)

    def behaviour_for(self, body):
        if self.script is not None:
            return self.script(len(self.arrivals), body)
        return self.behaviour

    def times(self) -> list[float]:
        with self.lock:
            return [a.at for a in self.arrivals]

    def bodies(self) -> list[dict]:
        with self.lock:
            return [a.body for a in self.arrivals]

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """Block until `count` requests have arrived: a condition, not a sleep."""
        return self._wait_until(lambda: len(self.arrivals) >= count, timeout)
