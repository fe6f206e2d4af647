"""The doctor's parts on their own: the lines, the clock's verdict, the proxy it would pick, the agent it
sees, the settings it reads (and leaves as they are), the miner id's source, the bounded name lookup."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from polaris_tray.core.doctor import Check, Mark, exit_code, local, network, probes, render, verdict
from polaris_tray.core.doctor.report import summary
from polaris_tray.core.platform.instance_dir import InstanceLock


def test_render_puts_the_fix_under_its_line_and_the_exit_code_follows_the_worst():
    checks = [
        Check("DNS", Mark.OK, "a → 1.2.3.4"),
        Check("Clock", Mark.WARN, "2 min behind", "turn on NTP"),
        Check("TLS and trust", Mark.FAIL, "not trusted", "add the CA"),
        Check("HTTP", Mark.SKIP, "skipped: TLS failed"),
    ]
    assert render(checks) == (
        "✔ DNS: a → 1.2.3.4\n⚠ Clock: 2 min behind\n    fix: turn on NTP\n"
        "✘ TLS and trust: not trusted\n    fix: add the CA\n– HTTP: skipped: TLS failed\n"
    )
    assert exit_code(checks) == 1
    assert exit_code(checks[:2]) == 0  # warnings do not make the exit code fail
    assert summary(checks) == "Broken: TLS and trust."
    assert summary(checks[:2]) == "Working, with 1 warning: Clock."


@pytest.mark.parametrize(
    ("skew", "mark", "words"),
    [(0, Mark.OK, "within 0 s"), (-90, Mark.WARN, "90 s ahead of"), (600, Mark.FAIL, "10 min behind")],
)
def test_the_clock_line_from_the_servers_date_header(skew, mark, words):
    now = 1_800_000_000.0
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now + skew))
    check = verdict.check_clock(date, now)
    assert check.mark is mark and words in check.text
    assert verdict.check_clock(None, now).mark is Mark.SKIP
    assert verdict.check_clock("yesterday-ish", now).mark is Mark.SKIP


def test_the_proxy_is_the_one_the_heartbeat_would_use_and_its_credentials_stay_out(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://user:secret@proxy.corp:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    proxy, problem = network.select_proxy("https://orch.example/api/v1/heart_beat")
    assert proxy is not None and problem == "" and proxy.shown == "proxy.corp:3128"
    assert network.select_proxy("https://internal.example/api/v1/heart_beat") == (None, "")
    assert network.select_proxy("http://127.0.0.1:8000/api/v1/heart_beat") == (None, "")
    monkeypatch.setenv("HTTPS_PROXY", "socks5://proxy.corp:1080")
    proxy, problem = network.select_proxy("https://orch.example/api/v1/heart_beat")
    assert proxy is None and "SOCKS" in problem
    check, sock = network.check_proxy(proxy, problem, "https://orch.example/api/v1/heart_beat", None)
    assert check.mark is Mark.FAIL and sock is None and "NO_PROXY" in check.fix


def test_a_silent_resolver_is_given_up_on_in_time(monkeypatch):
    from polaris_tray.core.platform.resolve import Resolver

    release = threading.Event()
    silent = Resolver(getaddrinfo=lambda *a, **k: [release.wait(30)][:0])  # the resolver's silence
    monkeypatch.setattr(network, "RESOLVER", silent)
    started = time.monotonic()
    check, found = network.check_dns("orchestrator.example", 443, probes.Deadline(12), proxied=False)
    assert check.mark is Mark.FAIL and "name server is silent" in check.text and found == []
    assert time.monotonic() - started < 5
    release.set()


def test_the_agent_is_seen_running_only_while_it_holds_the_lock(tmp_path, monkeypatch):
    monkeypatch.setenv("POLARIS_TRAY_INSTANCE", "doctor-unit")
    lock = InstanceLock(tmp_path)
    monkeypatch.setattr("polaris_tray.core.platform.instance_dir.instance_dir", lambda: tmp_path)
    assert verdict.agent_state().running is False
    service = tmp_path / "service"
    service.mkdir(mode=0o700)
    unit_lock = InstanceLock.for_miner("alice-miner-01", service)  # the system unit's, per miner
    assert unit_lock.acquire("headless")
    try:
        assert verdict.agent_state("alice-miner-01", (service,)).running
        assert not verdict.agent_state("bob-miner-02", (service,)).running
    finally:
        unit_lock.release()
    assert lock.acquire("tray")
    try:
        state = verdict.agent_state()  # a tray that holds the lock but does not beat (Stopped)
        assert not state.running and state.holder == f"tray {os.getpid()}"
        lock.note_beating(True)
        state = verdict.agent_state()
        assert state.running and state.holder == f"tray {os.getpid()}"
    finally:
        lock.release()
    assert verdict.agent_state().running is False


def test_the_settings_are_read_not_repaired(tmp_path):
    path = tmp_path / "settings.json"
    check, url = local.check_configuration(path, None)
    assert check.mark is Mark.OK and "no settings file yet" in check.text and url
    path.write_text("{not json")
    check, url = local.check_configuration(path, None)
    assert check.mark is Mark.WARN and "not valid" in check.text
    assert path.read_text() == "{not json"  # left where it was: the app sets it aside, not the doctor
    path.write_text(json.dumps({"server_url": "http://orch.example/api/v1"}))
    check, url = local.check_configuration(path, None)
    assert check.mark is Mark.FAIL and url is None and "https" in check.text
    check, url = local.check_configuration(path, "https://orch.example/api/v1")
    assert check.mark is Mark.OK and "(command line, https)" in check.text


def test_the_miner_id_source_follows_the_apps_order_and_the_keyring_is_asked_only_when_needed(tmp_path):
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "polaris-miner-id").write_text("from-credential-1\n")
    (creds / "polaris-miner-id").chmod(0o600)
    env = {"CREDENTIALS_DIRECTORY": str(creds), "POLARIS_MINER_ID": "from-env-1"}
    assert not local.needs_keyring(env, None)
    found = local.find_miner_id(env, tmp_path, None, None)
    assert found.origin == "credential" and "polaris-miner-id" in found.where
    found = local.find_miner_id({"POLARIS_MINER_ID": "from-env-1"}, tmp_path, None, None)
    assert found.origin == "environment"
    assert local.needs_keyring({}, None)
    stored = local.KeyringFinding(True, "from-keyring-1")
    assert local.find_miner_id({}, tmp_path, None, stored).origin == "keyring"
    missing = local.find_miner_id({}, tmp_path, None, local.KeyringFinding(False, problem="No OS keyring"))
    miner_line = local.check_miner(missing)
    assert miner_line.mark is Mark.FAIL
    for option in ("--miner-id-file", "polaris-miner-id", "POLARIS_MINER_ID", "polaris register"):
        assert option in miner_line.fix
    assert local.check_miner(found).text == "from… from the POLARIS_MINER_ID variable"


def test_the_deadline_bounds_each_step_by_what_is_left():
    now = [0.0]
    deadline = probes.Deadline(12.0, clock=lambda: now[0])
    assert deadline.left(3.0) == 3.0
    now[0] = 10.5
    assert deadline.left(3.0) == 1.5
    now[0] = 20.0
    assert deadline.left(3.0) == 0.0


def test_a_hung_keyring_costs_its_bound_once():
    from polaris_tray.core.config.secret_store import SecretStore

    release = threading.Event()

    class Prompting:  # a Secret Service waiting on an unlock prompt nobody answers
        priority = 5

        def get_password(self, service, account):
            release.wait(30)

    started = time.monotonic()
    finding = local.probe_keyring(SecretStore(timeout_s=5, backend=Prompting()), timeout=0.3)
    assert not finding.answered and "did not answer within 0.3 s" in finding.problem
    assert time.monotonic() - started < 3
    release.set()


def test_where_the_lock_cannot_be_read_no_heartbeat_is_sent(tmp_path, monkeypatch, orchestrator):
    """Windows locks bytes (msvcrt), which neither /proc/locks nor flock can see: the doctor cannot tell
    whether an agent runs, so it must not guess a status for the orchestrator."""
    monkeypatch.setenv("POLARIS_TRAY_INSTANCE", "doctor-unit-unknown")
    monkeypatch.setattr("polaris_tray.core.platform.instance_dir.instance_dir", lambda: tmp_path)
    lock = InstanceLock(tmp_path)
    assert lock.acquire("tray")
    try:
        monkeypatch.setattr(verdict, "_flock_held", lambda path: None)
        monkeypatch.setattr(verdict, "_try_shared", lambda path: None)
        state = verdict.agent_state()
        assert not state.known
        check = verdict.check_verdict(orchestrator.url, "alice-miner-01", state, probes.Deadline(5))
    finally:
        lock.release()
    assert check.mark is Mark.SKIP and "no heartbeat was sent" in check.text
    assert orchestrator.bodies() == []


def test_an_html_error_page_is_named_by_its_title_not_its_markup():
    """A hosting proxy's error page made the HTTP line "(HTTP 501: <!DOCTYPE HTML> <html lang=…" (walk)."""
    page = (
        b'<!DOCTYPE HTML>\n<html lang="en">\n<head><title>502 Bad Gateway</title></head><body>x</body></html>'
    )
    assert network._detail(page) == "HTML page: 502 Bad Gateway"
    assert network._detail(b"<html><body>no title</body></html>") == "an HTML page"
    assert network._detail(b'{"detail": "Not Found"}') == "Not Found"


def test_a_lookup_with_no_dns_answer_points_at_the_network_not_the_host_name(monkeypatch):
    """Offline (no network), the fix read "check the host name in the server URL" (walk)."""
    import socket

    def no_answer(*_args):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(network, "lookup", no_answer)
    check, found = network.check_dns("o.example", 443, probes.Deadline(5.0), proxied=False)
    assert check.mark is Mark.FAIL and found == []
    assert "online" in check.fix and "host name" not in check.fix
