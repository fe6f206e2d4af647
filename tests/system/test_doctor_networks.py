"""--doctor on real networks: a private network namespace with only `lo`, NET's
stand-in DNS server and CONNECT proxies, a dual-stack name whose IPv6 address drops connections, and an
orchestrator with a certificate for a real-looking name. The doctor runs as a real process inside."""

from __future__ import annotations

import ssl
import subprocess
import sys
import time

import pytest

from tests.support import netns
from tests.support.netns import DNS_A, DNS_B, NAME, OFFICE, ONE_SERVER

MINER = "alice-miner-01"
LIMIT_S = 15.0

_why = netns.unavailable()
pytestmark = pytest.mark.skipif(_why is not None, reason=f"private network namespace: {_why}")


# --- inside the namespace ------------------------------------------------------------------------------


def _doctor(url: str, **extra: str) -> dict:
    env = netns.agent_env(MINER, "polaris-doctor-netns", **extra)
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "polaris_tray", "--doctor", "--server-url", url],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return {
        "rc": run.returncode,
        "out": run.stdout,
        "err": run.stderr[-2000:],
        "took": time.monotonic() - started,
    }


def scenario(kind: str, pki: dict) -> dict:
    from tests.support.connect_proxy import NEEDS_AUTH, PASS, SILENT, ConnectProxy
    from tests.support.dns_stub import SILENT as DNS_SILENT
    from tests.support.dns_stub import DnsStub
    from tests.support.routed_orchestrator import RoutedOrchestrator

    if kind == "silent-dns":
        with DnsStub(DNS_A, mode=DNS_SILENT), DnsStub(DNS_B, mode=DNS_SILENT):
            return _doctor(f"https://{NAME}/api/v1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki["cert"], pki["key"])
    server = RoutedOrchestrator(miners={MINER}, tls=context)
    url = f"https://{NAME}:{server.port}/api/v1"
    addresses = [netns.BLACK_HOLE_V6, "127.0.0.1"] if kind == "dead-ipv6" else ["127.0.0.1"]
    try:
        with DnsStub(DNS_A, {NAME: addresses}):
            if kind in ("healthy", "dead-ipv6"):
                return _doctor(url, REQUESTS_CA_BUNDLE=pki["ca"])
            shape = {"proxy": PASS, "silent-proxy": SILENT, "auth-proxy": NEEDS_AUTH}[kind]
            with ConnectProxy(shape, credentials="u:p") as proxy:
                return _doctor(url, REQUESTS_CA_BUNDLE=pki["ca"], HTTPS_PROXY=proxy.url())
    finally:
        server.stop()


# --- the tests -------------------------------------------------------------------------------------------


def run(kind: str, pki: dict, **kw) -> dict:
    resolv = OFFICE if kind == "silent-dns" else ONE_SERVER
    result = netns.run_in_netns(scenario, resolv=resolv, kind=kind, pki=pki, **kw)
    assert MINER not in result["out"] + result["err"]
    assert result["took"] < LIMIT_S, result
    return result


def line(out: str, name: str) -> str:
    lines = out.splitlines()
    for i, text in enumerate(lines):
        if text[2:].startswith(f"{name}:"):
            fix = lines[i + 1] if i + 1 < len(lines) and lines[i + 1].startswith("    fix:") else ""
            return f"{text}\n{fix}"
    raise AssertionError(f"no {name} line in:\n{out}")


def test_an_office_resolver_that_is_silent_is_named_within_the_deadline(pki):
    result = run("silent-dns", pki)
    assert result["rc"] == 1, result
    dns = line(result["out"], "DNS")
    assert dns.startswith("✘ DNS: no answer for orch.corp.example") and "silent" in dns
    assert "/etc/resolv.conf" in dns
    for name in ("Proxy", "TCP", "TLS and trust", "HTTP", "Orchestrator", "Clock"):
        assert line(result["out"], name).startswith(f"– {name}: skipped: DNS failed")


def test_a_healthy_named_server_is_all_ticks(pki):
    result = run("healthy", pki)
    out = result["out"]
    assert result["rc"] == 0, out + result["err"]
    assert line(out, "DNS").startswith(f"✔ DNS: {NAME} → IPv4 127.0.0.1")
    tls = line(out, "TLS and trust")
    assert (
        tls.startswith("✔ TLS and trust: TLSv1.")
        and f"certificate for {NAME}," in tls
        and "REQUESTS_CA_BUNDLE=" in tls
    )
    assert line(out, "HTTP").startswith("✔ HTTP:") and "is registered" in line(out, "Orchestrator")


def test_a_dead_ipv6_route_beside_a_working_ipv4_is_a_warning(pki):
    result = run("dead-ipv6", pki, black_hole_v6=True)
    tcp = line(result["out"], "TCP")
    assert tcp.startswith("⚠ TCP:") and "connected to IPv4 127.0.0.1" in tcp and "IPv6" in tcp, result["out"]
    assert result["rc"] == 0  # a warning: the beat gets through


def test_through_a_working_proxy_each_link_says_so(pki):
    result = run("proxy", pki)
    out = result["out"]
    assert result["rc"] == 0, out
    proxy = line(out, "Proxy")
    assert proxy.startswith("✔ Proxy: 127.0.0.1:") and "(from HTTPS_PROXY) opened a tunnel" in proxy
    assert line(out, "TCP").startswith("✔ TCP: through the proxy's tunnel")
    assert line(out, "TLS and trust").startswith("✔") and line(out, "HTTP").startswith("✔")


@pytest.mark.parametrize(
    ("kind", "words"), [("silent-proxy", "did not open a tunnel"), ("auth-proxy", "HTTP 407")]
)
def test_a_proxy_that_will_not_tunnel_is_named(pki, kind, words):
    result = run(kind, pki)
    proxy = line(result["out"], "Proxy")
    assert result["rc"] == 1 and proxy.startswith("✘ Proxy:") and words in proxy, result["out"]
    assert "NO_PROXY" in proxy
    assert line(result["out"], "TCP").startswith("– TCP: skipped: the proxy failed")
