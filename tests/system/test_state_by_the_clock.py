"""The headless agent's state follows the orchestrator's clock, not the last attempt: the log, STATUS= and
the Prometheus scrape all leave "online" 45 s after the last accepted beat, with no beat in between (a long
--interval) and while a request is stuck (a server that never answers). Each test runs about 50 s: the
45 s are the orchestrator's rule, not ours to shorten."""

from __future__ import annotations

import itertools
import signal
import socket
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tests.support.app import app_env, start_app
from tests.support.notify_socket import NotifySocket
from tests.support.orchestrator import Hang

LATE_S = 1.5  # how long after the 45 s a view may take to say so (a timer on a busy machine)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _scraped_state(port: int) -> str:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    for family in text_string_to_metric_families(text):
        if family.name == "polaris_agent_state":
            states = [s.labels["polaris_agent_state"] for s in family.samples if s.value == 1]
            assert len(states) == 1, states
            return states[0]
    raise AssertionError("no polaris_agent_state")


def _agent(home, tmp_path, orchestrator, interval: str):
    port = _free_port()
    sock = NotifySocket(tmp_path / "notify.sock")
    env = app_env(home, NOTIFY_SOCKET=sock.path, WATCHDOG_USEC="30000000")  # the shipped unit's 30 s
    args = ["--headless", "--server-url", orchestrator.url, "--interval", interval]
    proc = start_app([*args, "--metrics-listen", f"127.0.0.1:{port}"], env)
    return sock, proc, port


def _statuses(sock: NotifySocket) -> list[tuple[float, str]]:
    return [(at, m["STATUS"]) for at, m in sock.messages if "STATUS" in m]


def test_a_long_interval_leaves_online_45_s_after_the_accepted_beat(home, tmp_path, orchestrator):
    sock, proc, port = _agent(home, tmp_path, orchestrator, "120")
    try:
        assert sock.wait_for(lambda m: m.get("STATUS") == "Online") is not None
        accepted_at = orchestrator.times()[0]
        assert _scraped_state(port) == "online"
        offline = sock.wait_for(lambda m: m.get("STATUS", "").startswith("Offline"), timeout=60)
        assert offline is not None, _statuses(sock)
        assert accepted_at + 44 <= offline[0] <= accepted_at + 45 + LATE_S, offline[0] - accepted_at
        assert offline[1]["STATUS"].startswith("Offline — not counted since ")
        assert _scraped_state(port) == "offline"
        assert len(orchestrator.times()) == 1  # no attempt ended in between: the clock alone did it
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=10)
        sock.close()
    assert proc.returncode == 0, err
    assert "--interval 120 is longer than 30 s" in err
    assert "State online -> offline" in err


def test_a_stuck_request_leaves_online_on_time_and_the_watchdog_keeps_coming(home, tmp_path, orchestrator):
    sock, proc, port = _agent(home, tmp_path, orchestrator, "5")
    try:
        assert sock.wait_for(lambda m: m.get("STATUS") == "Online") is not None
        answered = orchestrator.switch(Hang())  # from the next beat on, every request is stuck
        accepted_at = orchestrator.times()[answered - 1]  # the last one answered before the switch
        offline = sock.wait_for(lambda m: m.get("STATUS", "").startswith("Offline"), timeout=60)
        assert offline is not None, _statuses(sock)
        assert offline[0] <= accepted_at + 45 + LATE_S, offline[0] - accepted_at
        assert _scraped_state(port) == "offline"
        end = time.monotonic()
        for at, status in _statuses(sock):
            if at >= accepted_at + 45 + LATE_S:
                assert "still counted online" not in status and status != "Online", (at - accepted_at, status)
        amber = [s for _at, s in _statuses(sock) if "still counted online for" in s]
        assert amber, _statuses(sock)  # amber came in between, with its countdown
        pings = [at for at, m in sock.messages if m.get("WATCHDOG") == "1"]
        gaps = [b - a for a, b in itertools.pairwise([*pings, end])]
        assert pings and max(gaps) <= 15, gaps
        stopping = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        assert time.monotonic() - stopping < 2.5  # cut mid-request, with room for a loaded machine
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)
        sock.close()
    assert len(orchestrator.times()) >= 3  # it kept trying meanwhile
