"""The metrics server in-process over real loopback sockets: answers, caps, deadlines, and no spin when
accept() has no descriptor to give."""

from __future__ import annotations

import errno
import socket
import time
import urllib.request

import pytest

from polaris_tray.core.values.link_state import LinkState
from polaris_tray.service.metrics_http import AgentMetrics
from polaris_tray.service.scrape_server import (
    ACCEPT_REST_S,
    MAX_REQUEST_BYTES,
    ScrapeServer,
    connection_budget,
)

BODY = b"polaris_test_metric 1.0\n"


@pytest.fixture
def server():
    srv = ScrapeServer("127.0.0.1", 0, lambda: BODY, max_open=4, read_timeout_s=0.5, write_timeout_s=0.5)
    yield srv
    srv.close()


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_get_and_head_answer_the_metrics_and_other_methods_do_not(server):
    port = server.address[1]
    reply = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert reply.status == 200 and reply.read() == BODY
    assert reply.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    head = _raw(port, b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200") and head.endswith(b"\r\n\r\n")
    assert _raw(port, b"POST /metrics HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.0 405")
    assert _raw(port, b"GET /" + b"a" * (MAX_REQUEST_BYTES + 10)).startswith(b"HTTP/1.0 431")
    assert _raw(port, b"\r\n\r\n").startswith(b"HTTP/1.0 400")


def test_idle_connections_are_capped_and_dropped_at_the_read_deadline(server):
    port = server.address[1]
    idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(10)]
    try:
        deadline = time.monotonic() + 5
        while server.open_connections < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.open_connections == 4  # the other six wait in the kernel's backlog
        started = time.monotonic()
        # A scrape queued behind them is answered once the idle ones time out (0.5 s each round).
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read()
        assert body == BODY
        assert time.monotonic() - started < 8
        assert idle[0].recv(10) == b""  # the first idle one was closed by the server
    finally:
        for sock in idle:
            sock.close()


def test_a_client_that_never_reads_is_dropped_at_the_write_deadline():
    big = b"x" * 20_000_000  # far more than the socket buffers hold
    srv = ScrapeServer("127.0.0.1", 0, lambda: big, max_open=2, write_timeout_s=0.3)
    try:
        with socket.create_connection(("127.0.0.1", srv.address[1]), timeout=5) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
            deadline = time.monotonic() + 5
            while srv.open_connections and time.monotonic() < deadline:
                time.sleep(0.05)
            assert srv.open_connections == 0
    finally:
        srv.close()


class _NoDescriptors:
    """A listening socket whose accept() fails as it does when the process is out of descriptors."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.calls = 0

    def fileno(self) -> int:
        return self.sock.fileno()

    def getsockname(self):
        return self.sock.getsockname()

    def setblocking(self, flag: bool) -> None:
        self.sock.setblocking(flag)

    def accept(self):
        self.calls += 1
        raise OSError(errno.EMFILE, "Too many open files")

    def close(self) -> None:
        self.sock.close()


def test_emfile_on_accept_rests_instead_of_spinning(caplog):
    listener = _NoDescriptors()
    srv = ScrapeServer("127.0.0.1", 0, lambda: BODY, listener=listener)  # type: ignore[arg-type]
    waiting = socket.create_connection(listener.getsockname(), timeout=5)  # always readable from now on
    try:
        cpu_before = time.process_time()
        time.sleep(1.0)  # the thing measured is what happens in a second of wall time
        spent = time.process_time() - cpu_before
        assert listener.calls <= 1.0 / ACCEPT_REST_S + 2, listener.calls  # one try per rest, not a loop
        assert spent < 0.5, f"the server thread spun: {spent:.2f} s of CPU in 1 s"
        assert sum("no descriptors" in r.getMessage() for r in caplog.records) == 1  # said once
    finally:
        waiting.close()
        srv.close()


def test_the_budget_leaves_most_descriptors_to_the_beat():
    resource = pytest.importorskip("resource")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert connection_budget() == min(32, soft // 4)
    resource.setrlimit(resource.RLIMIT_NOFILE, (40, hard))
    try:
        low = connection_budget()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert low == 10


def test_the_agent_state_is_read_at_scrape_time():
    metrics = AgentMetrics()
    now = [LinkState.ONLINE]
    metrics.follow(lambda: now[0])
    assert b'polaris_agent_state{polaris_agent_state="online"} 1.0' in metrics.render()
    now[0] = LinkState.OFFLINE  # nothing told the metrics: the scrape asks the clock itself
    text = metrics.render()
    assert b'polaris_agent_state{polaris_agent_state="offline"} 1.0' in text
    assert b'polaris_agent_state{polaris_agent_state="online"} 0.0' in text


def test_unknown_paths_still_answer_as_prometheus_client_did(server):
    assert urllib.request.urlopen(f"http://127.0.0.1:{server.address[1]}/x?y", timeout=5).read() == BODY
