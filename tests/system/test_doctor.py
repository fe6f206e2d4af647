"""--doctor names the broken link and its fix: real processes against a loopback
orchestrator that routes like the real one, a real TLS server, a real refusing proxy, a shifted clock."""

from __future__ import annotations

import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time

import pytest

from tests.support.app import ROOT, app_env, run_app, start_app
from tests.support.routed_orchestrator import RoutedOrchestrator

MINER = "alice-miner-01"


@pytest.fixture
def server():
    orchestrator = RoutedOrchestrator(miners={MINER})
    yield orchestrator
    orchestrator.stop()


def doctor(home, url, *extra, env_extra=None, wrap=(), miner=MINER):
    env = app_env(home, miner_id=miner, **(env_extra or {}))
    started = time.monotonic()
    if wrap:
        result = subprocess.run(
            [*wrap, sys.executable, "-m", "polaris_tray", "--doctor", "--server-url", url, *extra],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    else:
        result = run_app(["--doctor", "--server-url", url, *extra], env, timeout=60)
    took = time.monotonic() - started
    assert not miner or miner not in result.stdout + result.stderr  # the id is masked, always
    return result, took


def line(result, name: str) -> str:
    """The line of one link with its fix line, if any."""
    lines = result.stdout.splitlines()
    for i, text in enumerate(lines):
        if text[2:].startswith(f"{name}:"):
            fix = lines[i + 1] if i + 1 < len(lines) and lines[i + 1].startswith("    fix:") else ""
            return f"{text}\n{fix}"
    raise AssertionError(f"no {name} line in:\n{result.stdout}")


def test_a_healthy_server_is_all_ticks_and_the_verdict_says_offline_was_sent(home, server):
    result, _took = doctor(home, server.url)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("Configuration", "Miner id", "DNS", "Proxy", "TCP", "TLS and trust", "HTTP", "Clock"):
        assert line(result, name).startswith("✔"), result.stdout
    verdict = line(result, "Orchestrator")
    assert "is registered" in verdict and "status 'offline'" in verdict and "no agent runs" in verdict
    assert "alic…" in line(result, "Miner id")
    assert server.statuses() == ["offline"]  # the one beat it sent is true: no agent runs here


def test_with_the_agent_running_the_doctor_sends_online(home, server):
    env = app_env(home, miner_id=MINER)
    agent = start_app(["--headless", "--server-url", server.url, "--interval", "30"], env)
    try:
        assert server.wait_for_posts(1), "the agent never beat"
        result, _took = doctor(home, server.url)
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.communicate(timeout=10)
    verdict = line(result, "Orchestrator")
    assert verdict.startswith("✔") and "status 'online'" in verdict and "headless" in verdict, verdict
    assert server.statuses()[1] == "online"
    assert result.returncode == 0


def test_no_send_sends_nothing_and_says_the_verdict_was_not_checked(home, server):
    result, _took = doctor(home, server.url, "--no-send")
    assert server.posts == []
    assert line(result, "Orchestrator").startswith("– Orchestrator: skipped: not checked (--no-send)")
    assert line(result, "HTTP").startswith("✔")
    assert result.returncode == 0


def test_no_send_alone_is_refused_with_a_sentence(home):
    result = run_app(["--no-send"], app_env(home), timeout=30)
    assert result.returncode == 2 and "--no-send goes with --doctor" in result.stderr


def test_a_wrong_path_is_named_with_the_url_fix_and_no_heartbeat_is_sent(home, server):
    result, _took = doctor(home, server.url.removesuffix("/v1"))
    assert result.returncode == 1
    http = line(result, "HTTP")
    assert http.startswith("✘") and "HTTP 404: Not Found" in http
    assert "it should end in /api/v1" in http
    assert "skipped" in line(result, "Orchestrator")
    assert server.posts == []


def test_a_right_path_on_another_server_names_the_host_and_port_not_the_path(home):
    """A URL already ending in /api/v1 got the fix "it should end in /api/v1" (walk: another port)."""
    other = RoutedOrchestrator(miners={MINER}, prefix="/elsewhere")
    try:
        result, _took = doctor(home, f"http://127.0.0.1:{other.port}/api/v1")
    finally:
        other.stop()
    http = line(result, "HTTP")
    assert http.startswith("✘") and "HTTP 404" in http
    assert "check the host and port" in http and "should end in" not in http


def test_an_unregistered_miner_is_named_with_polaris_register(home, server):
    result, _took = doctor(home, server.url, miner="bob-unknown-77")
    assert result.returncode == 1
    verdict = line(result, "Orchestrator")
    assert verdict.startswith("✘") and "is not registered" in verdict and "Miner " in verdict
    assert "polaris register" in verdict
    assert line(result, "HTTP").startswith("✔")


def test_a_plain_http_port_given_as_https_says_so(home, server):
    result, _took = doctor(home, server.url.replace("http://", "https://"))
    assert result.returncode == 1
    tls = line(result, "TLS and trust")
    assert tls.startswith("✘") and "does not speak HTTPS" in tls and "http://" in tls
    assert line(result, "HTTP").startswith("– HTTP: skipped: TLS failed")
    assert server.posts == [] and server.gets == []


def test_a_refusing_proxy_is_named_with_its_variable(home):
    with socket.socket() as closed:  # bound, never listening: every connect is refused
        closed.bind(("127.0.0.1", 0))
        proxy = f"http://127.0.0.1:{closed.getsockname()[1]}"
        # an address outside loopback (TEST-NET-1) so the proxy applies; no packet goes past the proxy
        result, took = doctor(home, "https://192.0.2.10/api/v1", env_extra={"HTTPS_PROXY": proxy})
    assert result.returncode == 1
    text = line(result, "Proxy")
    shown = proxy.removeprefix("http://")
    assert text.startswith("✘") and shown in text and "HTTPS_PROXY" in text and "refused" in text
    assert "NO_PROXY" in text
    assert line(result, "TCP").startswith("– TCP: skipped: the proxy failed")
    assert took < 15


@pytest.mark.skipif(not shutil.which("faketime"), reason="needs faketime")
def test_a_clock_ten_minutes_off_is_named(home, server):
    result, _took = doctor(home, server.url, wrap=("faketime", "+10 minutes"))
    assert result.returncode == 1, result.stdout + result.stderr
    clock = line(result, "Clock")
    assert clock.startswith("✘") and "10 min ahead" in clock and "timedatectl set-ntp" in clock
    assert line(result, "HTTP").startswith("✔")


def _tls(authority) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    return context


def test_https_names_the_certificate_and_the_trust_in_use(home, ca):
    authority, ca_path = ca
    server = RoutedOrchestrator(miners={MINER}, tls=_tls(authority))
    try:
        trusted, _ = doctor(home, server.url, env_extra={"REQUESTS_CA_BUNDLE": str(ca_path)})
        untrusted, _ = doctor(home, server.url, env_extra={"REQUESTS_CA_BUNDLE": "", "CURL_CA_BUNDLE": ""})
    finally:
        server.stop()
    tls = line(trusted, "TLS and trust")
    assert tls.startswith("✔") and "valid until" in tls and f"REQUESTS_CA_BUNDLE={ca_path}" in tls
    assert trusted.returncode == 0, trusted.stdout
    bad = line(untrusted, "TLS and trust")
    assert bad.startswith("✘") and "not trusted" in bad and "REQUESTS_CA_BUNDLE" in bad
    assert untrusted.returncode == 1


@pytest.mark.keyring
def test_the_keyring_line_with_a_real_secret_service(home, server, keyring_env):
    env = app_env(home, miner_id=None, keyring=keyring_env)
    assert run_app(["--set-miner-id"], env, stdin=MINER + "\n").returncode == 0
    result = run_app(["--doctor", "--server-url", server.url], env, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert line(result, "Miner id").startswith("✔ Miner id: alic… from the OS keyring")
    assert line(result, "Keyring").startswith("✔ Keyring: the OS keyring answers; a miner id is stored")
    assert MINER not in result.stdout + result.stderr


def test_no_id_and_no_keyring_names_the_ways_a_server_gives_it(home, server):
    result, took = doctor(home, server.url, miner=None)
    assert result.returncode == 1
    miner = line(result, "Miner id")
    assert miner.startswith("✘ Miner id: no miner id is configured")
    for way in ("polaris register", "--miner-id-file", "polaris-miner-id", "POLARIS_MINER_ID"):
        assert way in miner
    assert line(result, "Keyring").startswith("✘ Keyring: No OS keyring")
    assert line(result, "Orchestrator").startswith("– Orchestrator: skipped: no miner id")
    assert server.posts == [] and took < 15


@pytest.mark.keyring
def test_a_locked_keyring_is_named_with_unlock_and_no_prompt_is_opened(home, server, keyring_env):
    from tests.support import keyring_lock

    keyring_lock.lock(keyring_env)
    try:
        result, took = doctor(home, server.url, miner=None, env_extra=keyring_env)
    finally:
        keyring_lock.unlock(keyring_env)
    assert result.returncode == 1, result.stdout
    keyring = line(result, "Keyring")
    assert keyring.startswith("✘ Keyring: The OS keyring is locked.") and "unlock" in keyring
    assert took < 15


def test_a_servers_id_file_is_the_named_source(home, server, tmp_path):
    id_file = tmp_path / "miner-id"
    id_file.write_text(MINER + "\n")
    id_file.chmod(0o600)
    result = run_app(
        ["--doctor", "--server-url", server.url, "--miner-id-file", str(id_file)],
        app_env(home, miner_id=None),
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert line(result, "Miner id").startswith(f"✔ Miner id: alic… from the file {id_file}")
    assert line(result, "Keyring").startswith("✔ Keyring: not consulted")
    id_file.chmod(0o644)  # readable by others: refused, as the agent itself refuses it
    refused = run_app(
        ["--doctor", "--server-url", server.url, "--miner-id-file", str(id_file)],
        app_env(home, miner_id=None),
        timeout=60,
    )
    assert refused.returncode == 1 and line(refused, "Miner id").startswith("✘ Miner id: The miner id file")
    assert MINER not in refused.stdout + refused.stderr
