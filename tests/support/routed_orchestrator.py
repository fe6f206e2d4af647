"""A loopback orchestrator that routes like the real one (FastAPI): POST {prefix}/heart_beat answers 200 for
a registered miner and 404 `Miner X not found` for another; a GET there is 405; any other path is 404
`Not Found`. What the doctor needs to tell a wrong URL from an unregistered miner."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler

from tests.support.orchestrator import LoopbackServer, OwnedHTTPServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: OwnedHTTPServer

    def log_message(self, format, *args):
        pass

    def _send(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)  # adds Date, which the doctor compares the clock with
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        owner = self.server.owner
        with owner.lock:
            owner.gets.append(self.path)
        if self.path == f"{owner.prefix}/heart_beat":
            self._send(405, {"detail": "Method Not Allowed"})
        else:
            self._send(404, {"detail": "Not Found"})

    def do_POST(self):
        owner = self.server.owner
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        with owner.lock:
            owner.posts.append((self.path, body))
            owner.arrived.notify_all()
        if self.path != f"{owner.prefix}/heart_beat":
            return self._send(404, {"detail": "Not Found"})
        miner = (body or {}).get("metrics", {}).get("miner_id")
        if miner not in owner.miners:
            return self._send(404, {"detail": f"Miner {miner} not found"})
        self._send(
            200,
            {
                "status": "success",
                "message": "Heartbeat processed successfully",
                "last_seen": "now",
                "commands": [],
            },
        )


class RoutedOrchestrator(LoopbackServer):
    def __init__(self, miners=(), prefix: str = "/api/v1", tls=None) -> None:
        self.miners = set(miners)
        self.posts: list[tuple[str, dict | None]] = []
        self.gets: list[str] = []
        super().__init__(_Handler, tls=tls, prefix=prefix)

    def statuses(self) -> list[str]:
        with self.lock:
            return [(body or {}).get("status") for _path, body in self.posts]

    def wait_for_posts(self, count: int, timeout: float = 20.0) -> bool:
        return self._wait_until(lambda: len(self.posts) >= count, timeout)
