"""The agent as a user runs it: real processes, a real loopback orchestrator, real signals."""

import itertools
import json
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from polaris_tray.demo.schema import validate_heartbeat
from tests.support.app import app_env, run_app, start_app
from tests.support.loopback import refused_url
from tests.support.orchestrator import Hang, Reply, Reset

MINER = "miner-abcdef123456"


def once(home, url, **kw):
    result = run_app(["--once", "--server-url", url], app_env(home, **kw))
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout + result.stderr
    return result.returncode, json.loads(lines[0]), result


def test_once_accepted(home, orchestrator):
    code, line, result = once(home, orchestrator.url)
    assert code == 0
    assert line["ok"] is True and line["status_code"] == 200 and line["outcome"] == "accepted"
    assert line["error"] is None and line["latency_ms"] > 0
    body = orchestrator.bodies()[0]
    assert validate_heartbeat(body) == []
    assert body["metrics"]["miner_id"] == MINER
    assert MINER not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("reply", "outcome"),
    [
        (Reply(500, {"detail": "db down"}), "server_error"),
        (Reply(404, {"detail": f"Miner {MINER} not found"}), "not_registered"),
    ],
)
def test_once_failures_exit_1(home, orchestrator, reply, outcome):
    orchestrator.behaviour = reply
    code, line, result = once(home, orchestrator.url)
    assert code == 1 and line["ok"] is False and line["outcome"] == outcome
    assert line["status_code"] == reply.code
    assert MINER not in result.stdout + result.stderr


def test_once_refused_exits_1(home):
    code, line, _ = once(home, refused_url())
    assert code == 1 and line["outcome"] == "network_error" and line["status_code"] is None


def test_once_against_a_hanging_server_gives_up_at_10_s(home, orchestrator):
    orchestrator.behaviour = Hang()
    started = time.monotonic()
    code, line, _ = once(home, orchestrator.url)
    elapsed = time.monotonic() - started
    assert code == 1 and line["reason"] == "timeout"
    assert 9.5 < elapsed < 12.5


def test_once_configuration_errors_exit_2(home, orchestrator):
    code, line, result = once(home, orchestrator.url, miner_id=None)
    assert code == 2 and line["outcome"] == "config_error"
    assert "--set-miner-id" in result.stderr and "POLARIS_MINER_ID" in result.stderr
    code, line, result = once(home, "ftp://example.org/api/v1")
    assert code == 2 and "https://" in line["error"]
    assert orchestrator.arrivals == []


def test_headless_beats_every_second_with_valid_bodies_on_a_busy_machine(home, orchestrator):
    """The cadence with margins that hold on a loaded 2-core machine; the exact grid is proved on a fake
    clock (test_schedule.py) and the measured cadence error is a benchmarks/bench.py figure."""
    # one core kept busy, so that cpu_usage has something real to report
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    proc = start_app(["--headless", "--server-url", orchestrator.url, "--interval", "1"], app_env(home))
    try:
        assert orchestrator.wait_for(11, timeout=40)
        time.sleep(0.3)  # stop between two beats: a stop that cuts a request sends no goodbye, by rule
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(5)
        burner.kill()
        burner.wait()
    times = orchestrator.times()[:11]
    periods = [b - a for a, b in itertools.pairwise(times)]
    # on a fixed-rate grid one late beat does not delay the rest: only the first and the last beat's own
    # delays move the mean, so 10 % (a full second of difference between them) holds under any load
    assert abs(statistics.mean(periods) - 1.0) <= 0.1, periods
    bodies = [b for b in orchestrator.bodies() if b["status"] == "online"]
    for body in bodies:
        assert validate_heartbeat(body) == []
    latencies = [b["metrics"]["metrics"]["network_latency"] for b in bodies]
    assert latencies[0] == 0 and all(x > 0 for x in latencies[1:])
    # a busy core of two is ~50 %: every reading after the first (since boot) must see it
    assert all(25 <= b["metrics"]["metrics"]["cpu_usage"] <= 100 for b in bodies[1:10]), [
        b["metrics"]["metrics"]["cpu_usage"] for b in bodies
    ]
    assert proc.returncode == 0
    assert orchestrator.bodies()[-1]["status"] == "offline"  # the clean stop said goodbye


def test_headless_sigterm_during_a_hanging_request_ends_within_2_s(home, orchestrator):
    orchestrator.behaviour = Hang()
    proc = start_app(["--headless", "--server-url", orchestrator.url, "--interval", "1"], app_env(home))
    assert orchestrator.wait_for(1, timeout=10)
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.wait(5)
    assert time.monotonic() - started < 2.0
    assert proc.returncode == 0
    _out, err = proc.communicate()
    assert "Traceback" not in err


def test_headless_without_miner_id_exits_2(home, orchestrator):
    result = run_app(
        ["--headless", "--server-url", orchestrator.url], app_env(home, miner_id=None), timeout=20
    )
    assert result.returncode == 2
    assert "--set-miner-id" in result.stderr


def _script(n, _body):
    plan = [
        Reply(200),
        Reply(500),
        Reply(500),
        Reset(),
        Reply(502, b"<html><title>Bad gateway</title></html>", {"Content-Type": "text/html"}),
        Reply(429, {"detail": "slow"}, {"Retry-After": "1"}),
        Hang(),
    ]
    return plan[n] if n < len(plan) else Reply(200)


def test_gaps_under_faults_fall_in_the_backoff_windows(home, orchestrator):
    orchestrator.script = _script
    proc = start_app(["--headless", "--server-url", orchestrator.url, "--interval", "0.1"], app_env(home))
    try:
        assert orchestrator.wait_for(10, timeout=30)
        assert proc.poll() is None  # it kept running through all of it
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(5)
    t = orchestrator.times()
    gaps = [b - a for a, b in itertools.pairwise(t)]
    slack = 0.06  # request time on a loaded 2-core CI machine
    # failure k waits in [d/2, d], d = 0.1 * 2**(k-1); the 429 asks for at least 1 s; the hang adds 10 s
    expected = [
        (0.1, 0.1),
        (0.05, 0.1),
        (0.1, 0.2),
        (0.2, 0.4),
        (0.4, 0.8),
        (1.0, 1.6),
        (10 + 1.6, 10 + 3.2),
        (0.1, 0.1),
    ]
    for i, ((low, high), gap) in enumerate(zip(expected, gaps, strict=False)):
        assert low - 0.01 <= gap <= high + slack, (i, gap, (low, high))


def test_headless_never_loads_qt_and_masks_the_id_even_at_debug(home, orchestrator):
    proc = start_app(
        ["--headless", "--server-url", orchestrator.url, "--interval", "0.2", "--log-level", "DEBUG"],
        app_env(home),
    )
    try:
        assert orchestrator.wait_for(3)
        maps = Path(f"/proc/{proc.pid}/maps").read_text()
        assert "libQt6" not in maps and "PySide6" not in maps
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=5)
    log_text = (home / ".local/state/polaris-tray/log/polaris-tray.log").read_text()
    assert "DEBUG" in log_text and "mine…" in log_text
    assert MINER not in log_text and MINER not in err


def test_version_and_help(home):
    from polaris_tray import __version__

    version = run_app(["--version"], app_env(home))
    assert version.returncode == 0 and version.stdout.strip() == f"polaris-tray {__version__}"
    helptext = run_app(["--help"], app_env(home))
    assert helptext.returncode == 0
    for flag in ("--headless", "--once", "--set-miner-id", "--autostart", "--quit", "--demo", "--interval"):
        assert flag in helptext.stdout


def test_tray_with_an_invalid_url_says_why_and_exits_2(home):
    result = run_app(["--server-url", "http://example.org/api"], app_env(home, QT_QPA_PLATFORM="offscreen"))
    assert result.returncode == 2
    assert "only allowed for this computer" in result.stderr and "Traceback" not in result.stderr
