"""The headless agent as a Type=notify service, against a NOTIFY_SOCKET the test binds (systemd is not
PID 1 here): READY after the first outcome, STATUS on every state change, WATCHDOG only while the loop
makes progress, STOPPING on shutdown; and journal-style logs when stderr is the journal's stream."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys

from tests.support.app import ROOT, app_env, start_app
from tests.support.notify_socket import NotifySocket
from tests.support.orchestrator import Hang, Reply

INTERVAL = ("--interval", "0.3")
WATCHDOG_USEC = 2_000_000  # systemd would restart the agent after 2 s without WATCHDOG=1


def _agent(home, tmp_path, orchestrator, *extra, **env):
    sock = NotifySocket(tmp_path / "notify.sock")
    environ = app_env(home, NOTIFY_SOCKET=sock.path, WATCHDOG_USEC=str(WATCHDOG_USEC), **env)
    proc = start_app(["--headless", "--server-url", orchestrator.url, "--interval", "0.3", *extra], environ)
    return sock, proc


def _stop(proc) -> str:
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=10)
    return err


def test_ready_status_watchdog_stopping(home, tmp_path, orchestrator):
    sock, proc = _agent(home, tmp_path, orchestrator)
    try:
        ready = sock.wait_for(lambda m: m.get("READY") == "1")
        assert ready is not None, "no READY=1"
        assert orchestrator.times()[0] < ready[0], "READY=1 came before the first attempt had an outcome"
        assert ready[1]["STATUS"] == "Online"
        first_status = sock.wait_for(lambda m: "STATUS" in m)[1]["STATUS"]
        assert first_status.startswith("Connecting")
        assert sock.wait_for(lambda m: m.get("WATCHDOG") == "1") is not None
        orchestrator.behaviour = Reply(500)
        retrying = sock.wait_for(lambda m: m.get("STATUS", "").startswith("Retrying"))
        assert retrying is not None and "500" in retrying[1]["STATUS"]
        orchestrator.behaviour = Reply()
        assert sock.wait_for(lambda m: m.get("STATUS") == "Online" and "READY" not in m) is not None
    finally:
        err = _stop(proc)
        sock.close()
    assert proc.returncode == 0, err
    stopping = [m for _, m in sock.messages if m.get("STOPPING") == "1"]
    assert stopping == [{"STOPPING": "1", "STATUS": "Stopping"}]
    assert sum(1 for _, m in sock.messages if m.get("READY")) == 1


def test_a_wedged_request_stops_the_watchdog_pings(home, tmp_path, orchestrator):
    """A request the server never answers holds the loop for the poster's 10 s deadline: no ping for
    longer than WATCHDOG_USEC, so systemd would restart the agent; pings come back after the cut."""
    sock, proc = _agent(home, tmp_path, orchestrator)
    try:
        assert sock.wait_for(lambda m: m.get("READY") == "1") is not None
        arrivals = orchestrator.switch(Hang())  # the next request hangs, whenever it comes
        assert orchestrator.wait_for(arrivals + 1, timeout=5)
        hung_at = orchestrator.times()[-1]
        # The loop is inside the request now; wait for it to come back (cut at 10 s) and ping again.
        orchestrator.behaviour = Reply()
        # The ping sent just before the request may be stamped just after its arrival: the loop's return is
        # a ping well after it (the cut comes 10 s later).
        resumed = sock.wait_for(lambda m: m.get("WATCHDOG") == "1", timeout=20, after=hung_at + 1.0)
        assert resumed is not None, "the loop never came back from the hanging request"
        cut = sock.wait_for(lambda m: m.get("STATUS", "").startswith("Retrying"), after=hung_at)
        assert cut is not None, "the cut request was not reported as a failure"
        pings = [at for at, m in sock.messages if m.get("WATCHDOG") == "1"]
        # The ping sent just before the hanging request may be stamped just after its arrival (two
        # threads, a loaded machine): what counts is a silence longer than WATCHDOG_USEC around it.
        gaps = [(a, b) for a, b in itertools.pairwise(pings) if a <= hung_at + 0.5 and b > hung_at]
        assert gaps, pings
        gap = max(b - a for a, b in gaps)
        assert gap > WATCHDOG_USEC / 1e6, f"pings went on during the wedged request (gap {gap:.1f} s)"
        assert sock.wait_for(lambda m: m.get("STATUS") == "Online", timeout=15) is not None
    finally:
        _stop(proc)
        sock.close()


def test_watchdog_pid_of_another_process_means_no_pings(home, tmp_path, orchestrator):
    sock, proc = _agent(home, tmp_path, orchestrator, WATCHDOG_PID=str(os.getpid()))
    try:
        assert sock.wait_for(lambda m: m.get("READY") == "1") is not None
        assert orchestrator.wait_for(len(orchestrator.times()) + 3, timeout=10)
    finally:
        _stop(proc)
        sock.close()
    assert not [m for _, m in sock.messages if "WATCHDOG" in m]


def test_journal_stream_gets_priorities_and_no_file(home, tmp_path, orchestrator):
    """JOURNAL_STREAM names stderr's device:inode: lines carry <N>, no timestamp, and no log file."""
    err_path = tmp_path / "stderr"
    with open(err_path, "w") as err_file:
        st = os.fstat(err_file.fileno())
        env = app_env(home, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")
        proc = subprocess.Popen(
            [sys.executable, "-m", "polaris_tray", "--headless", "--server-url", orchestrator.url, *INTERVAL],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=err_file,
        )
        assert orchestrator.wait_for(2, timeout=15)  # the first outcome (and its log line) is done
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
    lines = err_path.read_text().splitlines()
    assert lines and all(line.startswith("<6>") or line.startswith("<4>") for line in lines), lines
    assert any("State connecting -> online" in line for line in lines)
    assert not any(line[3:7].isdigit() for line in lines), "the journal stamps time itself"
    assert not list(home.rglob("*.log")), "under the journal no log file is kept"


def test_journal_stream_of_another_file_keeps_the_plain_format(home, tmp_path, orchestrator):
    other = tmp_path / "other"
    other.write_text("")
    st = os.stat(other)
    sock, proc = _agent(home, tmp_path, orchestrator, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")
    try:
        assert orchestrator.wait_for(1, timeout=15)
    finally:
        err = _stop(proc)
        sock.close()
    assert "<6>" not in err and " INFO [polaris_tray" in err


def test_a_supervisor_acting_like_systemd_restarts_the_wedged_agent(home, tmp_path, orchestrator):
    """systemd's rule, played by the test: no WATCHDOG=1 within WATCHDOG_USEC of the last one means
    SIGABRT and a restart. A healthy agent never trips it; a wedged request does."""
    sock, proc = _agent(home, tmp_path, orchestrator)
    window = WATCHDOG_USEC / 1e6
    try:
        assert sock.wait_for(lambda m: m.get("READY") == "1") is not None
        last = sock.wait_for(lambda m: m.get("WATCHDOG") == "1")[0]
        for _ in range(3):  # healthy: every ping comes within the window
            nxt = sock.wait_for(lambda m: m.get("WATCHDOG") == "1", timeout=window, after=last)
            assert nxt is not None, "a healthy agent missed its watchdog window"
            last = nxt[0]
        orchestrator.behaviour = Hang()
        tripped = False
        for _ in range(20):
            nxt = sock.wait_for(lambda m: m.get("WATCHDOG") == "1", timeout=window, after=last)
            if nxt is None:
                tripped = True
                break
            last = nxt[0]
        assert tripped, "the watchdog never tripped while the request hung"
        proc.send_signal(signal.SIGABRT)  # systemd's WatchdogSignal=
        proc.communicate(timeout=10)
        assert proc.returncode == -signal.SIGABRT
        orchestrator.behaviour = Reply()
        restarted_at = sock.messages[-1][0]
        environ = app_env(home, NOTIFY_SOCKET=sock.path, WATCHDOG_USEC=str(WATCHDOG_USEC))
        proc = start_app(["--headless", "--server-url", orchestrator.url, *INTERVAL], environ)
        ready = sock.wait_for(lambda m: m.get("READY") == "1", after=restarted_at)
        assert ready is not None and ready[1]["STATUS"] == "Online"
    finally:
        if proc.poll() is None:
            _stop(proc)
        sock.close()
