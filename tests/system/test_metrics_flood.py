"""A flood of idle connections on --metrics-listen, under the descriptor limit a service gets by default
(1,024): the beat goes on at its interval, the agent neither runs out of descriptors nor spins, and a
normal scrape works once the flood ends. Any local user can open these connections."""

from __future__ import annotations

import errno
import resource
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import psutil
import pytest

from tests.support.app import ROOT, app_env

FLOOD = 1100
HOLD_S = 20.0
PARTIAL = b"GET /metrics HTTP/1.1\r\nHost: x\r\n"
INTERVAL_S = 1.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


@pytest.fixture
def enough_descriptors():
    """This test process holds the flood's client ends itself: its own limit goes up first."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = FLOOD + 512
    if hard != resource.RLIM_INFINITY and hard < want:
        pytest.skip(f"the hard descriptor limit ({hard}) is too low for {FLOOD} client sockets")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_flood_on_the_metrics_port_costs_scrapes_never_beats(home, orchestrator, enough_descriptors):
    assert shutil.which("prlimit"), "prlimit (util-linux) is needed"
    port = _free_port()
    command = [
        *("prlimit", "--nofile=1024:1024", "--", sys.executable, "-m", "polaris_tray"),
        *("--headless", "--server-url", orchestrator.url, "--interval", str(INTERVAL_S)),
        *("--metrics-listen", f"127.0.0.1:{port}"),
    ]
    proc = subprocess.Popen(
        command, env=app_env(home), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    clients: list[socket.socket] = []
    try:
        assert orchestrator.wait_for(2, timeout=15), "the agent did not start beating"
        agent = psutil.Process(proc.pid)
        assert agent.rlimit(psutil.RLIMIT_NOFILE) == (1024, 1024)
        flood = selectors.DefaultSelector()  # epoll: select() cannot watch descriptors above 1,023
        for _ in range(FLOOD):
            sock = socket.socket()
            sock.setblocking(False)
            code = sock.connect_ex(("127.0.0.1", port))
            assert code in (0, errno.EINPROGRESS, errno.EAGAIN), code
            clients.append(sock)
            flood.register(sock, selectors.EVENT_WRITE)
        beats_before, cpu_before, started = len(orchestrator.times()), _cpu(agent), time.monotonic()
        most_fds = 0
        while time.monotonic() - started < HOLD_S:
            # Slowloris: each connection sends the start of a request and never the end, so the server
            # must hold it (an idle one could sit unseen in a SYN-cookie handshake).
            for key, _mask in flood.select(timeout=0.5):
                flood.unregister(key.fileobj)
                try:
                    key.fileobj.send(PARTIAL)
                except OSError:
                    pass
            most_fds = max(most_fds, agent.num_fds())
        beats = len(orchestrator.times()) - beats_before
        cpu = _cpu(agent) - cpu_before
        assert beats >= HOLD_S / INTERVAL_S * 0.6, f"only {beats} beats in {HOLD_S:.0f} s under the flood"
        assert cpu < 0.25 * HOLD_S, f"{cpu:.1f} s of CPU in {HOLD_S:.0f} s: the accept loop spins"
        assert most_fds < 100, f"the agent held {most_fds} descriptors: connections are not capped"
        flood.close()
        for sock in clients:
            sock.close()
        clients.clear()
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=20).read().decode()
        assert "polaris_heartbeat_attempts_total" in text
        print(
            f"flood: {beats} beats in {HOLD_S:.0f} s, agent CPU {cpu:.2f} s, at most {most_fds} descriptors"
        )
    finally:
        for sock in clients:
            sock.close()
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
