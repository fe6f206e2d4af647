"""A small orchestrator on 127.0.0.1 for --demo: validates like the real one, answers like it.

Standard library only; it runs in a daemon thread inside the app and never leaves loopback.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterable
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from polaris_tray.core.config.run_plan import DemoEndpoint
from polaris_tray.demo.schema import json_error, validate_heartbeat

DEMO_MINER_ID = "demo-miner-0001"
DEMO_INTERVAL_S = 5.0  # quick enough to watch the demo work
MAX_BODY = 256 * 1024
KEPT = 200


class _Handler(BaseHTTPRequestHandler):
    server: _DemoHTTPServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart (delayed ACK)

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _reply(self, code: int, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/") in ("/api/v1/heartbeats", "/heartbeats"):
            self._reply(200, {"heartbeats": list(self.server.received)})
        else:
            self._reply(404, {"detail": "Not Found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if not self.path.rstrip("/").endswith("/heart_beat"):
            self._reply(404, {"detail": "Not Found"})
            return
        if length > MAX_BODY:
            self._reply(413, {"detail": "Request body too large"})
            return
        try:
            body = json.loads(self.rfile.read(length) or b"null")
        except ValueError as exc:
            self._reply(422, {"detail": json_error(exc)})
            return
        errors = validate_heartbeat(body)
        if errors:
            self._reply(422, {"detail": errors})
            return
        miner_id = body["metrics"]["miner_id"]
        if miner_id not in self.server.known_miners:
            self._reply(404, {"detail": f"Miner {miner_id} not found"})
            return
        now = datetime.now(timezone.utc).isoformat()
        with self.server.lock:
            self.server.received.append(body)
        self._reply(
            200,
            {
                "status": "success",
                "message": "Heartbeat processed successfully",
                "last_seen": now,
                "commands": [],
            },
        )


class _DemoHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], known_miners: Iterable[str]) -> None:
        super().__init__(address, _Handler)
        self.lock = threading.Lock()
        self.received: deque[dict[str, object]] = deque(maxlen=KEPT)
        self.known_miners = set(known_miners)


class DemoOrchestrator:
    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, known_miners: Iterable[str] = (DEMO_MINER_ID,)
    ) -> None:
        self._server = _DemoHTTPServer((host, port), known_miners)
        # a thread: serve_forever blocks, and the app's own loop (Qt's or headless') holds the main thread
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="demo-orchestrator", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        assert isinstance(host, str)  # an AF_INET/AF_INET6 server's host is text
        return f"http://{host}:{port}/api/v1"

    @property
    def received(self) -> list[dict[str, object]]:
        with self._server.lock:
            return list(self._server.received)

    def endpoint(self) -> DemoEndpoint:
        """What a run plan needs to beat against this demo."""
        return DemoEndpoint(self.url, DEMO_INTERVAL_S, DEMO_MINER_ID)

    def start(self) -> DemoOrchestrator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
