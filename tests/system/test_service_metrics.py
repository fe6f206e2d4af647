"""The Prometheus endpoint of a running agent, scraped over HTTP and parsed with prometheus_client's own
parser after a scripted fault sequence: the counters must match what the orchestrator saw."""

from __future__ import annotations

import signal
import socket
import time
import urllib.request

import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.app import app_env, run_app, start_app
from tests.support.orchestrator import Hang, Reply


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _scrape(port: int) -> dict:
    """{(name, labels): value} for every sample."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def _script(n, _body):
    """3 accepted, 2 server errors, then a request that hangs (so nothing more is counted)."""
    if n < 3:
        return Reply()
    if n < 5:
        return Reply(500)
    return Hang()


def test_scrape_after_3_successes_and_2_failures(home, orchestrator):
    orchestrator.script = _script
    port = _free_port()
    started = time.time()
    proc = start_app(
        [
            *("--headless", "--server-url", orchestrator.url, "--interval", "0.2"),
            *("--metrics-listen", f"127.0.0.1:{port}"),
        ],
        app_env(home),
    )
    try:
        assert orchestrator.wait_for(6, timeout=20), "the scripted sequence did not complete"
        got = _scrape(port)
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=10)
    codes = [200, 200, 200, 500, 500]  # what the orchestrator answered, in order
    assert got[("polaris_heartbeat_attempts_total", (("outcome", "accepted"),))] == codes.count(200)
    assert got[("polaris_heartbeat_attempts_total", (("outcome", "server_error"),))] == codes.count(500)
    others = [v for (n, labels), v in got.items() if n == "polaris_heartbeat_attempts_total"]
    assert sum(others) == 5
    assert got[("polaris_heartbeat_consecutive_failures", ())] == 2
    last = got[("polaris_heartbeat_last_success_timestamp_seconds", ())]
    assert started <= last <= time.time()
    assert got[("polaris_heartbeat_latency_seconds_count", ())] == 5
    assert got[("polaris_agent_state", (("polaris_agent_state", "retrying"),))] == 1
    assert got[("polaris_agent_state", (("polaris_agent_state", "online"),))] == 0
    build = [labels for (n, labels) in got if n == "polaris_agent_build_info"]
    assert build and dict(build[0])["version"]
    assert "miner-abcdef123456" not in repr(got), "the miner id is a secret: never a label"
    assert "Prometheus metrics on http://127.0.0.1:" in err


def test_no_metrics_flag_no_listener(home, orchestrator):
    """Off by default: the agent listens on no port at all."""
    proc = start_app(["--headless", "--server-url", orchestrator.url, "--interval", "0.2"], app_env(home))
    try:
        assert orchestrator.wait_for(2, timeout=15)
        listening = [c for c in psutil.Process(proc.pid).net_connections("inet") if c.status == "LISTEN"]
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=10)
    assert listening == []
    assert "Prometheus metrics" not in err


@pytest.mark.parametrize(
    ("listen", "message"),
    [
        ("0.0.0.0:9464", "not a loopback address"),
        ("192.0.2.1:9464", "--metrics-allow-remote"),
        ("example.org:9464", "not the name"),
        ("127.0.0.1:99999", "HOST:PORT"),
        ("nonsense", "HOST:PORT"),
    ],
)
def test_bad_or_remote_listen_address_refused(home, listen, message):
    result = run_app(["--headless", "--metrics-listen", listen], app_env(home))
    assert result.returncode == 2
    assert message in result.stderr


def test_port_in_use_refused_with_exit_2(home):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_app(["--headless", "--metrics-listen", f"127.0.0.1:{port}"], app_env(home))
    assert result.returncode == 2
    assert f"Cannot serve metrics on 127.0.0.1:{port}" in result.stderr


def test_a_bare_port_listens_on_127_0_0_1(home, orchestrator):
    port = _free_port()
    proc = start_app(
        ["--headless", "--server-url", orchestrator.url, "--interval", "0.2", "--metrics-listen", str(port)],
        app_env(home),
    )
    try:
        assert orchestrator.wait_for(2, timeout=15)
        assert ("polaris_heartbeat_attempts_total", (("outcome", "accepted"),)) in _scrape(port)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)


@pytest.mark.parametrize("option", [["--metrics-listen", "9464"], ["--miner-id-file", "/etc/polaris-tray/x"]])
def test_the_tray_refuses_server_options_before_qt_starts(home, option):
    result = run_app(option, app_env(home))
    assert result.returncode == 2
    assert "work with --headless" in result.stderr
