"""The service pieces in-process: the sd_notify writer on a real socket, the watchdog rate on a fake
clock, the journal detection on real file descriptors, the listen-address policy, the secret file rules."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from polaris_tray.core.config.miner_id import resolve_miner_id
from polaris_tray.core.config.secret_file import UnsafeSecretFile, read_secret_file
from polaris_tray.core.storage.journal import priority, stderr_is_journal, with_priority
from polaris_tray.core.values.link_state import LinkState
from polaris_tray.core.values.outcome import Outcome, OutcomeKind
from polaris_tray.service.hooks import state_line
from polaris_tray.service.metrics_http import ListenError, parse_listen
from polaris_tray.service.supervisor_updates import SupervisorUpdates
from polaris_tray.service.systemd_notify import SystemdNotifier
from tests.support.app import ROOT


def test_notifier_writes_datagrams_to_a_path_and_an_abstract_socket(tmp_path):
    path = tmp_path / "n.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        notifier = SystemdNotifier({"NOTIFY_SOCKET": str(path)})
        assert notifier.notify("READY=1", "STATUS=Two\nlines")
        assert sock.recv(100) == b"READY=1\nSTATUS=Two lines"
    name = f"polaris-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        assert SystemdNotifier({"NOTIFY_SOCKET": "@" + name}).notify("WATCHDOG=1")
        assert sock.recv(100) == b"WATCHDOG=1"


def test_notifier_without_socket_or_with_a_dead_one(tmp_path, caplog):
    assert not SystemdNotifier({}).enabled and not SystemdNotifier({}).notify("READY=1")
    dead = SystemdNotifier({"NOTIFY_SOCKET": str(tmp_path / "gone")})
    assert not dead.notify("READY=1") and not dead.notify("READY=1")
    assert len([r for r in caplog.records if "Cannot notify" in r.getMessage()]) == 1


@pytest.mark.parametrize(
    ("env", "usec"),
    [
        ({"WATCHDOG_USEC": "3000000"}, 3_000_000),
        ({"WATCHDOG_USEC": "3000000", "WATCHDOG_PID": "77"}, 3_000_000),
        ({"WATCHDOG_USEC": "3000000", "WATCHDOG_PID": "78"}, 0),
        ({"WATCHDOG_USEC": "soon"}, 0),
        ({}, 0),
    ],
)
def test_watchdog_usec_and_pid(env, usec):
    assert SystemdNotifier({"NOTIFY_SOCKET": "/x", **env}, pid=77).watchdog_usec == usec


class _Recorder(SystemdNotifier):
    def __init__(self, usec):
        super().__init__({"NOTIFY_SOCKET": "@unused", "WATCHDOG_USEC": str(usec)})
        self.sent = []

    def notify(self, *fields):
        self.sent.append(fields)
        return True


def test_pings_rate_limited_ready_once_status_on_change():
    now = [0.0]
    recorder = _Recorder(2_000_000)
    notify = SupervisorUpdates(recorder, clock=lambda: now[0])
    assert notify.ping_every_s == 0.5
    for t in (0.0, 0.1, 0.2, 0.25, 0.6):
        now[0] = t
        notify.alive()
    assert recorder.sent.count(("WATCHDOG=1",)) == 3  # at 0, 0.25, 0.6
    notify.status("Online")
    notify.status("Online")
    notify.first_outcome()
    notify.first_outcome()
    notify.stopping()
    assert recorder.sent[3:] == [
        ("STATUS=Online",),
        ("READY=1", "STATUS=Online"),
        ("STOPPING=1", "STATUS=Stopping"),
    ]
    assert SupervisorUpdates(_Recorder(0)).ping_every_s is None


def test_state_line_names_the_error_while_failing():
    failed = Outcome(OutcomeKind.SERVER_ERROR, status_code=500, error="HTTP 500")
    retrying = "Retrying — still counted online for 40 s"
    assert state_line(retrying, LinkState.RETRYING, failed) == f"{retrying}: HTTP 500"
    assert state_line("Online", LinkState.ONLINE, None) == "Online"
    never = "Not counted online yet — HTTP 500; retrying"  # the reason is in the words already
    assert state_line(never, LinkState.OFFLINE, failed) == never


def test_journal_detected_only_for_our_own_stderr(tmp_path):
    with open(tmp_path / "a", "w") as a, open(tmp_path / "b", "w") as b:
        st = os.fstat(a.fileno())
        env = {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
        assert stderr_is_journal(env, a)
        assert not stderr_is_journal(env, b)
        assert not stderr_is_journal({"JOURNAL_STREAM": "x:y"}, a)
        assert not stderr_is_journal({}, a)


def test_priorities_on_every_line():
    assert [priority(n) for n in (10, 20, 30, 40, 50)] == [7, 6, 4, 3, 2]
    assert with_priority("boom\nTraceback", 40) == "<3>boom\n<3>Traceback"


@pytest.mark.parametrize(
    ("text", "allow", "expected"),
    [
        ("127.0.0.1:9464", False, ("127.0.0.1", 9464)),
        ("9464", False, ("127.0.0.1", 9464)),
        ("localhost:9464", False, ("127.0.0.1", 9464)),
        ("[::1]:9464", False, ("::1", 9464)),
        ("127.0.0.2:1", False, ("127.0.0.2", 1)),
        ("0.0.0.0:9464", True, ("0.0.0.0", 9464)),
        ("[::]:9464", True, ("::", 9464)),
    ],
)
def test_listen_addresses(text, allow, expected):
    assert parse_listen(text, allow_remote=allow) == expected


@pytest.mark.parametrize("text", ["0.0.0.0:9464", "[::]:9464", "10.0.0.1:80", ":9464", "1.2.3.4", "[::1]"])
def test_listen_refused(text):
    with pytest.raises(ListenError):
        parse_listen(text)


def test_secret_file_owner_judged_against_the_running_user(tmp_path):
    path = tmp_path / "id"
    path.write_text("miner-1")
    os.chmod(path, 0o600)
    owner = os.geteuid()
    if owner == 0:  # root owns it: give it to someone, since a root-owned file is always accepted
        owner = 1234
        os.chown(path, owner, owner)
    assert read_secret_file(path, euid=owner) == "miner-1"
    with pytest.raises(UnsafeSecretFile, match="belongs to another user"):
        read_secret_file(path, euid=owner + 4242)


def test_resolution_order_file_before_environment(tmp_path):
    path = tmp_path / "id"
    path.write_text("miner-from-file\n")
    os.chmod(path, 0o600)
    env = {"POLARIS_MINER_ID": "miner-from-env"}
    got = resolve_miner_id(None, env, tmp_path, file_path=path)
    assert (got.miner_id, got.origin) == ("miner-from-file", "file")
    os.chmod(path, 0o644)
    refused = resolve_miner_id(None, env, tmp_path, file_path=path)
    assert refused.miner_id is None and "chmod 600" in refused.error
    assert resolve_miner_id(None, env, tmp_path).origin == "environment"


def test_headless_without_the_flag_never_imports_prometheus_client():
    code = (
        "import sys, argparse; from polaris_tray.cli import build_parser;"
        "from polaris_tray.service.hooks import start_service_hooks;"
        "hooks = start_service_hooks(build_parser().parse_args(['--headless']));"
        "print(hooks.metrics, 'prometheus_client' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "None False", out.stderr


def test_a_manager_that_stops_reading_never_stalls_the_sender(tmp_path, caplog):
    """Found by the benchmark: a blocking sendto waited forever once the unread queue was full."""
    path = tmp_path / "unread.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        notifier = SystemdNotifier({"NOTIFY_SOCKET": str(path)})
        results = [notifier.notify("WATCHDOG=1") for _ in range(5000)]  # blocks here without the fix
    assert results[0] and not results[-1]
    assert len([r for r in caplog.records if "Cannot notify" in r.getMessage()]) == 1


def test_metrics_served_on_ipv6_loopback():
    import urllib.request

    from polaris_tray.service.metrics_http import AgentMetrics

    if not socket.has_ipv6:
        pytest.skip("no IPv6 here")
    metrics = AgentMetrics()
    try:
        host, port = metrics.serve(parse_listen("[::1]:9464")[0], 0)
    except OSError as exc:
        pytest.skip(f"no ::1 here: {exc}")
    try:
        metrics.record(Outcome(OutcomeKind.ACCEPTED, status_code=200, latency_ms=5.0))
        text = urllib.request.urlopen(f"http://[{host}]:{port}/metrics", timeout=5).read().decode()
    finally:
        metrics.close()
    assert 'polaris_heartbeat_attempts_total{outcome="accepted"} 1.0' in text
