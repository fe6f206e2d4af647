"""Hostile servers against the real agent: --once and headless as processes, the Qt worker in-process.

Before the fix: --once hung for more than 10 minutes on a dripping `Connection: close` or HTTP/1.0 reply,
headless sent nothing for 73 s, a reply cut mid-headers came back as accepted, and server text reached the
log with its newlines, escapes and the miner id half unmasked.
"""

import json
import signal
import subprocess
import sys
import time

import pytest

from polaris_tray.core.values.link_state import LinkState
from tests.support.app import ROOT, app_env, files_containing, run_app, start_app
from tests.support.hostile import (
    CLOSE_DRIP,
    HEADER_DRIP,
    OK,
    SLOW_SHAPES,
    HostileServer,
    reply,
)

MINER = "3f2b8c1e-9a4d-4e7b-b5c6-0d1e2f3a4b5c"
TAIL = MINER[4:]  # the mask shows the first four characters; nothing after them may appear
FORGED = (
    "boom\n2026-11-28 04:00:00 INFO polaris_tray.service.beat_thread State retrying -> online"
    "\x1b[2J\x1b]0;x\x07"
)


def leaks(text: str) -> bool:
    return any(TAIL[i : i + 6] in text for i in range(len(TAIL) - 5))


def once_json(stdout: str) -> dict:
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert len(lines) == 1, stdout
    return json.loads(lines[0])


# --- --once: every slow shape ends at the 10 s deadline as a timeout


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_once_ends_at_the_deadline_for_every_slow_shape(home, tls, scheme):
    """The four shapes run side by side (one process each), so the test costs one deadline, not four."""
    extra = {"REQUESTS_CA_BUNDLE": tls[1]} if scheme == "https" else {}
    servers = [
        HostileServer(shape, every=1.0, tls=tls[0] if scheme == "https" else None) for shape in SLOW_SHAPES
    ]
    procs = []
    try:
        for server in servers:
            env = app_env(home, miner_id=MINER, **extra)
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "polaris_tray", "--once", "--server-url", server.url],
                    env=env,
                    cwd=ROOT,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        started = time.monotonic()
        results = [proc.communicate(timeout=40) for proc in procs]  # before the fix: hung for minutes
        wall = time.monotonic() - started
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        for server in servers:
            server.stop()
    for shape, proc, (stdout, stderr) in zip(SLOW_SHAPES, procs, results, strict=True):
        line = once_json(stdout)
        print(f"{scheme} {shape}: latency {line['latency_ms']} ms, all four done in {wall:.1f} s")
        assert line["ok"] is False, (shape, line)
        assert line["outcome"] == "network_error" and line["reason"] == "timeout", (shape, line)
        assert 10000 <= line["latency_ms"] <= 10500, (shape, line)
        assert proc.returncode == 1
        assert not leaks(stdout + stderr)


# --- headless keeps its schedule


@pytest.mark.parametrize("shape", [CLOSE_DRIP, HEADER_DRIP])
def test_headless_keeps_sending_when_every_reply_after_the_second_drips(home, shape):
    """>= 4 requests in 36 s at --interval 1: each dripping attempt ends at 10 s and the backoff follows."""
    server = HostileServer(every=1.0)
    server.script = lambda n: OK if n < 2 else shape
    proc = start_app(
        ["--headless", "--server-url", server.url, "--interval", "1"], app_env(home, miner_id=MINER)
    )
    try:
        assert server.wait_for(4, timeout=36), server.arrivals
        gaps = [round(b - a, 1) for a, b in zip(server.arrivals, server.arrivals[1:], strict=False)]
        print(f"{shape}: gaps between requests {gaps} s")
        stopping = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
        print(f"{shape}: stopped {time.monotonic() - stopping:.2f} s after SIGTERM during a drip")
        _out, err = proc.communicate()
    finally:
        if proc.poll() is None:
            proc.kill()
        server.stop()
    assert proc.returncode == 0
    assert "-> retrying" in err and "No complete reply within 10 s" in err, err


@pytest.mark.parametrize("into_the_reply", [0.0, 1.5])
def test_a_stop_during_a_drip_ends_within_2_s_and_a_goodbye_there_is_never_delivered(home, into_the_reply):
    """The goodbye rule lets a Stop that cuts a young attempt (under 1 s) say goodbye: to a server that
    turns out to drip, that notice is bounded by its own second and never counts as delivered; a Stop
    later into the drip sends nothing at all. Either way the process ends within its 2 s."""
    server = HostileServer(every=0.5)
    server.script = lambda n: OK if n == 0 else CLOSE_DRIP
    proc = start_app(
        ["--headless", "--server-url", server.url, "--interval", "1"], app_env(home, miner_id=MINER)
    )
    try:
        assert server.wait_for(2, timeout=20), server.arrivals
        time.sleep(into_the_reply)  # how long the dripping attempt has run: the scenario itself
        before = len(server.arrivals)
        stopping = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
        took = time.monotonic() - stopping
        _out, err = proc.communicate()
    finally:
        if proc.poll() is None:
            proc.kill()
        server.stop()
    after = [json.loads(body) for body in server.bodies[before:]]
    print(f"{into_the_reply} s into the drip: ended {took:.2f} s after SIGTERM, then {len(after)} request(s)")
    assert proc.returncode == 0 and took < 2.0, err
    assert "offline notice sent" not in err, err
    if into_the_reply >= 1.0:
        assert after == [], after  # that attempt already looked like a hang: the server is not asked
    else:
        assert [body["status"] for body in after] in ([], ["offline"]), after


# --- the Qt worker goes amber, then red 45 s after the last success (fast clock)


@pytest.mark.parametrize("shape", SLOW_SHAPES)
def test_worker_goes_amber_then_red_while_replies_drip(qtbot, monkeypatch, shape):
    """A clock 25x faster than real time. The BeatPoster's deadline is scaled with it (10 clock seconds), so
    the whole story of 45 clock seconds passes in about 2 real seconds, with real sockets and threads."""
    from polaris_tray.gui.beat.worker import WorkerConfig
    from tests.support.worker import make_worker as run_worker
    from tests.support.worker import stop_worker

    speed = 25.0
    base = time.monotonic()

    def fast_clock():
        return base + (time.monotonic() - base) * speed

    server = HostileServer(every=0.02)
    server.script = lambda n: OK if n < 2 else shape
    thread, worker, relay = run_worker(
        WorkerConfig(server.url, 1.0, deadline_s=10 / speed), clock=fast_clock, time_scale=1 / speed
    )
    states = []
    relay.snapshot.connect(lambda s: states.append((fast_clock(), s.state, s.last_outcome)))
    try:
        thread.start()
        qtbot.waitUntil(lambda: any(s is LinkState.OFFLINE for _t, s, _o in states), timeout=15000)
    finally:
        assert stop_worker(thread, worker)
        server.stop()
    sequence = [s for _t, s, _o in states]
    first_amber, first_red = sequence.index(LinkState.RETRYING), sequence.index(LinkState.OFFLINE)
    assert first_amber < first_red
    last_success = max(t for t, s, o in states[:first_amber] if o is not None and o.ok)
    red_after = states[first_red][0] - last_success
    failures = [o for _t, _s, o in states if o is not None and not o.ok]
    assert failures and all(o.reason.value == "timeout" for o in failures), failures
    print(f"{shape}: red {red_after:.1f} clock-s after the last success")
    # red at 45 s from when the beat was sent, even with the worker thread inside a request (view_clock.py)
    assert 44 <= red_after <= 45 + 4


@pytest.mark.parametrize("shape", SLOW_SHAPES)
def test_worker_quits_at_once_during_each_slow_shape(qtbot, shape):
    """Real clock, real 10 s deadline: abort + shutdown while the reply drips ends the thread at once
    (before the fix, a dripping `Connection: close` or HTTP/1.0 reply held it until the server gave up)."""
    from polaris_tray.gui.beat.worker import WorkerConfig
    from tests.support.worker import make_worker as run_worker
    from tests.support.worker import stop_worker

    server = HostileServer(shape, every=0.5)
    thread, worker, _relay = run_worker(WorkerConfig(server.url, 30.0))
    try:
        thread.start()
        assert server.wait_for(1)
        time.sleep(0.3)  # the reply has begun dripping: the cut must reach the socket being read
        stopping = time.monotonic()
        assert stop_worker(thread, worker, budget_ms=2000)
        print(f"{shape}: worker thread ended {time.monotonic() - stopping:.2f} s after abort + shutdown")
    finally:
        server.stop()
    assert len(server.arrivals) == 1  # and nothing went out after the stop


# --- server text: redacted, one line, bounded, in every output


def test_server_text_neither_leaks_the_id_nor_forges_log_lines(home):
    """A 500 whose body carries the id across the excerpt's cut and a forged log line with escapes."""
    body = ("x" * 215 + MINER + " " + FORGED + " y" * 40000).encode()
    server = HostileServer(reply(500, body, {"Content-Type": "text/plain"}))
    env = app_env(home, miner_id=MINER)
    proc = start_app(
        ["--headless", "--server-url", server.url, "--interval", "0.2", "--log-level", "DEBUG"], env
    )
    try:
        assert server.wait_for(3, timeout=20)
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=10)
        once = run_app(["--once", "--server-url", server.url], env)
    finally:
        if proc.poll() is None:
            proc.kill()
        server.stop()
    assert not leaks(err), err
    assert "\x1b" not in err and "\x07" not in err
    forged = [line for line in err.splitlines() if line.startswith("2026-11-28 04:00:00")]
    assert forged == [], forged
    assert all(len(line) < 1000 for line in err.splitlines())
    for needle in (MINER, TAIL[:8], TAIL[-8:]):
        assert files_containing(home, needle) == [], needle
    line = once_json(once.stdout)
    assert not leaks(once.stdout) and "\\u001b" not in once.stdout and len(line["error"]) <= 300


# --- replies that once crashed --once (absurd Retry-After, deep JSON, an echoed id) end as one JSON line


@pytest.mark.parametrize(
    ("name", "answer", "outcome"),
    [
        ("retry_after_superscript", reply(429, b"{}", {"Retry-After": "²"}), "rate_limited"),
        ("retry_after_5000_digits", reply(429, b"{}", {"Retry-After": "1" * 5000}), "rate_limited"),
        ("json_30k_deep_200", reply(200, b"[" * 30000 + b"]" * 30000), "accepted"),
        ("json_30k_deep_422", reply(422, b"[" * 30000 + b"]" * 30000), "rejected"),
        ("last_seen_echoes_the_id", reply(200, json.dumps({"last_seen": MINER}).encode()), "accepted"),
    ],
)
def test_once_prints_its_json_line_for_hostile_replies(home, name, answer, outcome):
    with HostileServer(answer) as server:
        result = run_app(["--once", "--server-url", server.url], app_env(home, miner_id=MINER))
    line = once_json(result.stdout)
    assert line["outcome"] == outcome, (line, result.stderr)
    assert "Traceback" not in result.stderr
    assert not leaks(result.stdout + result.stderr)


@pytest.mark.parametrize(
    "url", ["https://a..b/", f"https://{'a' * 64}.example.com/", "http://evil.localhost:1/"]
)
def test_once_refuses_unusable_urls_with_a_json_line(home, url):
    result = run_app(["--once", "--server-url", url], app_env(home, miner_id=MINER))
    line = once_json(result.stdout)
    assert line["ok"] is False and line["outcome"] == "config_error"
    assert result.returncode == 2 and "Traceback" not in result.stderr
